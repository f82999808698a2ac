import { PartitionTracker, PartitionReading } from './partition-tracker';

const options = { windowMs: 3_000, stopAfterMs: 20_000, uncommittedPolicy: 'earliest' as const };

function reading(
  at: number,
  endOffset: number,
  committedOffset: number | null,
  members: number | null = 1,
  startOffset = 0,
): PartitionReading {
  return { at, endOffset, committedOffset, members, startOffset };
}

describe('PartitionTracker', () => {
  it('reports lag = end offset - committed offset', () => {
    const t = new PartitionTracker('orders', 0, options);
    expect(t.observe(reading(1_000, 120, 100))).toMatchObject({ committedOffset: 100, measuredFromOffset: 100, endOffset: 120, lag: 20 });
  });

  it('measures an uncommitted partition from the log start (earliest) or reports no lag (latest)', () => {
    const earliest = new PartitionTracker('orders', 0, options);
    expect(earliest.observe(reading(1_000, 120, null, 0, 30))).toMatchObject({ committedOffset: null, measuredFromOffset: 30, lag: 90 });
    const latest = new PartitionTracker('orders', 0, { ...options, uncommittedPolicy: 'latest' });
    expect(latest.observe(reading(1_000, 120, null, 0, 30))).toMatchObject({ committedOffset: null, measuredFromOffset: 120, lag: 0 });
  });

  it('grows lag seconds with wall time while the consumer is stopped', () => {
    const t = new PartitionTracker('orders', 0, options);
    t.observe(reading(0, 100, 100)); // caught up at t=0
    t.observe(reading(1_000, 110, 100)); // message 100 appended between 0 and 1 s
    const a = t.observe(reading(2_000, 120, 100));
    const b = t.observe(reading(5_000, 150, 100));
    expect(a.lagSeconds).toBeCloseTo(2 - 0.1, 5);
    expect(b.lagSeconds - a.lagSeconds).toBeCloseTo(3, 5);
    expect(b.lagSecondsMethod).toBe('interpolated');
  });

  it('reports 0 lag seconds when caught up', () => {
    const t = new PartitionTracker('orders', 0, options);
    expect(t.observe(reading(1_000, 50, 50))).toMatchObject({ lag: 0, lagSeconds: 0, lagSecondsMethod: 'caught-up' });
  });

  it('goes OK -> WARN -> STALL -> OK as a consumer falls behind, hangs and recovers', () => {
    const t = new PartitionTracker('orders', 0, options);
    const seen: string[] = [];
    let end = 0;
    let committed = 0;
    let at = 0;
    const step = (produce: number, consume: number): void => {
      at += 500;
      end += produce;
      committed = Math.min(end, committed + consume);
      const s = t.observe(reading(at, end, committed)).status;
      if (seen[seen.length - 1] !== s) seen.push(s);
    };
    for (let i = 0; i < 8; i++) step(10, 10); // keeping up
    for (let i = 0; i < 10; i++) step(10, 4); // falling behind
    for (let i = 0; i < 10; i++) step(10, 0); // hung
    for (let i = 0; i < 10; i++) step(0, 100); // recovered
    expect(seen).toEqual(['OK', 'WARN', 'STALL', 'OK']);
  });

  it('is STOP when the consumer leaves the group with lag', () => {
    const t = new PartitionTracker('orders', 0, options);
    t.observe(reading(0, 10, 10, 1));
    t.observe(reading(1_000, 20, 10, 0));
    expect(t.observe(reading(2_000, 30, 10, 0)).status).toBe('OK');
    expect(t.observe(reading(4_100, 40, 10, 0)).status).toBe('STOP');
  });

  it('keeps the last figures but says ERR when a read fails', () => {
    const t = new PartitionTracker('orders', 3, options);
    t.observe(reading(1_000, 120, 100));
    expect(t.fail(2_000, 'broker down')).toMatchObject({ partition: 3, status: 'ERR', lag: 20, readAt: 1_000, error: 'broker down' });
  });
});
