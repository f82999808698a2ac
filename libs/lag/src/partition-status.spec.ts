import { evaluatePartitionStatus, risingLag, StatusInput, StatusSample } from './partition-status';

const rules = { windowMs: 10_000, stopAfterMs: 60_000 };

/** Commits one second apart ending at `last`, from (committed, lag) pairs. */
function commits(last: number, pairs: [number, number][]): StatusSample[] {
  return pairs.map(([committed, lag], i) => ({ at: last - (pairs.length - 1 - i) * 1_000, committed, lag }));
}

function input(over: Partial<StatusInput>): StatusInput {
  return {
    now: 100_000,
    lag: 5,
    committed: 10,
    members: 1,
    firstSeenAt: 0,
    stuckSince: 99_000,
    commits: commits(99_000, [[10, 5]]),
    ...over,
  };
}

describe('evaluatePartitionStatus', () => {
  it('is ERR when the offsets could not be read, whatever else is true', () => {
    expect(evaluatePartitionStatus(input({ readError: 'broker down', lag: 0 }), rules)).toEqual({
      status: 'ERR',
      reason: 'cannot read offsets: broker down',
    });
  });

  it('is OK when lag is 0, even after a long time without commits', () => {
    expect(evaluatePartitionStatus(input({ lag: 0, stuckSince: 0 }), rules).status).toBe('OK');
  });

  it('is STALL when the committed offset has not moved for a window while lag > 0 and the consumer is in the group', () => {
    const verdict = evaluatePartitionStatus(input({ stuckSince: 90_000, members: 2 }), rules);
    expect(verdict.status).toBe('STALL');
    expect(verdict.reason).toContain('committed offset 10 has not moved for 10 s');
  });

  it('is STOP instead of STALL when the group has no members (consumer down)', () => {
    const verdict = evaluatePartitionStatus(input({ stuckSince: 90_000, members: 0 }), rules);
    expect(verdict.status).toBe('STOP');
    expect(verdict.reason).toContain('no members');
  });

  it('is STALL, not STOP, when the group could not be described (unknown members)', () => {
    expect(evaluatePartitionStatus(input({ stuckSince: 90_000, members: null }), rules).status).toBe('STALL');
  });

  it('is STOP after stopAfterMs without progress even with members', () => {
    expect(evaluatePartitionStatus(input({ stuckSince: 40_000, members: 3 }), rules).status).toBe('STOP');
  });

  it('is WARN when offsets move but lag at each commit rises over a window', () => {
    const c = commits(100_000, [
      [10, 5],
      [12, 6],
      [12, 6],
      [15, 9],
      [16, 10],
      [20, 12],
    ]);
    const verdict = evaluatePartitionStatus(input({ lag: 12, commits: c, stuckSince: 100_000 }), rules);
    expect(verdict.status).toBe('WARN');
    expect(verdict.reason).toContain('lag rose from 5 to 12');
  });

  it('stays WARN while commits pause for less than a window (no OK flicker before STALL)', () => {
    const c = commits(95_000, [
      [10, 5],
      [12, 6],
      [15, 9],
      [16, 10],
      [18, 11],
      [20, 12],
    ]);
    expect(evaluatePartitionStatus(input({ now: 104_000, lag: 40, commits: c, stuckSince: 95_000 }), rules).status).toBe('WARN');
    expect(evaluatePartitionStatus(input({ now: 105_000, lag: 45, commits: c, stuckSince: 95_000 }), rules).status).toBe('STALL');
  });

  it('does not WARN before a whole window has been watched', () => {
    const c = commits(100_000, [
      [10, 5],
      [12, 6],
      [14, 8],
      [16, 10],
      [18, 12],
      [20, 14],
    ]);
    expect(evaluatePartitionStatus(input({ lag: 14, commits: c, firstSeenAt: 95_000, stuckSince: 100_000 }), rules).status).toBe('OK');
  });

  it('is OK when lag fell at some commit in the window', () => {
    const c = commits(100_000, [
      [10, 5],
      [12, 9],
      [20, 4],
      [22, 12],
    ]);
    expect(evaluatePartitionStatus(input({ lag: 12, commits: c, stuckSince: 100_000 }), rules).status).toBe('OK');
  });
});

describe('risingLag', () => {
  it('is false for a steady lag (keeping up with a constant backlog)', () => {
    expect(
      risingLag(
        commits(10_000, [
          [10, 5],
          [15, 5],
          [20, 5],
          [25, 5],
          [30, 5],
          [35, 5],
        ]),
        10_000,
      ),
    ).toBeUndefined();
  });

  it('is false when lag reached 0 in the window', () => {
    expect(
      risingLag(
        commits(10_000, [
          [10, 0],
          [11, 2],
          [12, 3],
          [13, 4],
          [14, 5],
          [15, 6],
        ]),
        10_000,
      ),
    ).toBeUndefined();
  });

  it('needs three commits over half a window: one late commit after a hang is not a trend', () => {
    const afterHang = [
      { at: 0, committed: 10, lag: 5 },
      { at: 20_000, committed: 11, lag: 90 },
    ];
    expect(risingLag(afterHang, 10_000)).toBeUndefined();
    expect(
      risingLag(
        commits(10_000, [
          [10, 5],
          [12, 6],
          [14, 9],
        ]),
        10_000,
      ),
    ).toBeUndefined(); // 2 s span < 5 s
  });

  it('judges only the window ending at the last commit', () => {
    // lag fell long ago, rises over the last 10 s of commits
    const c = [
      { at: 0, committed: 1, lag: 100 },
      ...commits(30_000, [
        [10, 5],
        [20, 6],
        [30, 9],
        [40, 12],
        [50, 13],
        [60, 20],
      ]),
    ];
    expect(risingLag(c, 10_000)).toEqual({ from: 5, to: 20, commits: 6 });
  });
});
