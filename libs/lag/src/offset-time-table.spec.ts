import fc from 'fast-check';
import { OffsetTimeTable } from './offset-time-table';

describe('OffsetTimeTable', () => {
  it('interpolates when the message at an offset was appended', () => {
    const table = new OffsetTimeTable();
    table.record(100, 10_000);
    table.record(200, 20_000);
    // message 149 appended when the end offset reached 150: halfway between the two reads
    expect(table.appendedAt(149)).toEqual({ at: 15_000, method: 'interpolated' });
  });

  it('says "at least this old" for an offset older than the table', () => {
    const table = new OffsetTimeTable();
    table.record(100, 10_000);
    table.record(200, 20_000);
    expect(table.appendedAt(42)).toEqual({ at: 10_000, method: 'lower-bound' });
  });

  it('returns undefined for an offset the end offset has not reached', () => {
    const table = new OffsetTimeTable();
    table.record(100, 10_000);
    expect(table.appendedAt(100)).toBeUndefined();
  });

  it('keeps the first and last sighting of a flat run, so a burst after a quiet spell is dated by the last', () => {
    const table = new OffsetTimeTable();
    table.record(100, 0);
    for (let t = 1_000; t <= 60_000; t += 1_000) table.record(100, t);
    table.record(110, 61_000);
    expect(table.snapshot()).toEqual([
      { offset: 100, at: 0 },
      { offset: 100, at: 60_000 },
      { offset: 110, at: 61_000 },
    ]);
    // message 104 came after the quiet minute, not in the middle of it
    expect(table.appendedAt(104)?.at).toBe(60_500);
    // message 99 existed at the first read
    expect(table.appendedAt(99)).toEqual({ at: 0, method: 'lower-bound' });
  });

  it('starts over when the end offset goes backwards (topic recreated)', () => {
    const table = new OffsetTimeTable();
    table.record(500, 1_000);
    table.record(600, 2_000);
    table.record(3, 3_000);
    expect(table.snapshot()).toEqual([{ offset: 3, at: 3_000 }]);
  });

  it('merges seeded history older than the live reads and clamps it to stay monotonic', () => {
    const table = new OffsetTimeTable();
    table.record(1_000, 100_000);
    table.seed([
      { offset: 900, at: 90_000 },
      { offset: 950, at: 80_000 }, // contradicts the later point (producer clock skew)
      { offset: 500, at: 50_000 },
      { offset: 2_000, at: 120_000 }, // newer than the live read: ignored
    ]);
    expect(table.snapshot()).toEqual([
      { offset: 500, at: 50_000 },
      { offset: 900, at: 80_000 },
      { offset: 900, at: 90_000 },
      { offset: 1_000, at: 100_000 },
    ]);
    expect(table.appendedAt(699)?.method).toBe('interpolated');
  });

  it('stays within capacity, keeping the newest and oldest points', () => {
    const table = new OffsetTimeTable(20);
    for (let i = 1; i <= 500; i++) table.record(i * 10, i * 1_000);
    const points = table.snapshot();
    expect(points).toHaveLength(20);
    expect(points[0]).toEqual({ offset: 10, at: 1_000 });
    expect(points[19]).toEqual({ offset: 5_000, at: 500_000 });
    // recent points stay dense: the last gap is much smaller than the first
    expect(points[19].at - points[18].at).toBeLessThan(points[1].at - points[0].at);
  });

  it('never dates a message outside the reads that bracket it (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 1, max: 5_000 })), { minLength: 2, maxLength: 300 }),
        (steps) => {
          const table = new OffsetTimeTable(32);
          let offset = 0;
          let at = 0;
          const reads: { offset: number; at: number }[] = [];
          for (const [grow, wait] of steps) {
            offset += grow;
            at += wait;
            table.record(offset, at);
            reads.push({ offset, at });
          }
          for (let c = 0; c < offset; c += Math.max(1, Math.floor(offset / 20))) {
            const appended = table.appendedAt(c);
            expect(appended).toBeDefined();
            // the first read at which message c existed is the latest it can have been appended
            const firstWith = reads.find((r) => r.offset >= c + 1)!;
            expect(appended!.at).toBeLessThanOrEqual(firstWith.at);
            const lastWithout = [...reads].reverse().find((r) => r.offset < c + 1);
            if (lastWithout && appended!.method === 'interpolated') expect(appended!.at).toBeGreaterThanOrEqual(lastWithout.at);
          }
        },
      ),
    );
  });
});
