import fc from 'fast-check';
import type { LagReader, OffsetsAtTime } from './lag-reader';
import { OffsetTimeTable } from './offset-time-table';
import { readSeedHistory } from './seed-history';
import { DEFAULT_SEED_AGES_MS } from './lag-options';

/** A one-partition log whose record i has timestamp times[i] (non-decreasing). */
function logReader(times: number[]): LagReader & { calls: number } {
  const reader = {
    calls: 0,
    async readOffsetsAtTimes(_topic: string, timestamps: number[]): Promise<OffsetsAtTime[]> {
      reader.calls++;
      return timestamps.map((at) => {
        const i = times.findIndex((t) => t >= at);
        return { at, offsets: new Map([[0, i < 0 ? times.length : i]]) };
      });
    },
  } as unknown as LagReader & { calls: number };
  return reader;
}

describe('readSeedHistory', () => {
  it('dates the oldest unconsumed record to within 1 % of its age', async () => {
    const now = 10_000_000;
    // 1 000 records: a burst 3 h ago, a trickle over the last hour, a burst 0.3 s ago
    const times = [
      ...Array.from({ length: 400 }, () => now - 3 * 3_600_000),
      ...Array.from({ length: 500 }, (_, i) => now - 3_600_000 + i * 7_000),
      ...Array.from({ length: 100 }, () => now - 300),
    ];
    for (const committed of [0, 400, 650, 900]) {
      const reader = logReader(times);
      const history = await readSeedHistory(reader, 't', [{ partition: 0, measuredFromOffset: committed, endOffset: 1_000 }], now, {
        agesMs: DEFAULT_SEED_AGES_MS,
      });
      const table = new OffsetTimeTable();
      table.seed(history.get(0)!);
      table.record(1_000, now);
      const truthAge = now - times[committed];
      const estimatedAge = now - table.appendedAt(committed)!.at;
      expect(Math.abs(estimatedAge - truthAge)).toBeLessThanOrEqual(Math.max(20, truthAge * 0.01));
      expect(reader.calls).toBeLessThan(20);
    }
  });

  it('leaves a record older than the whole ladder as a lower bound', async () => {
    const now = 10_000_000_000;
    const times = [now - 30 * 86_400_000, now - 1_000];
    const history = await readSeedHistory(logReader(times), 't', [{ partition: 0, measuredFromOffset: 0, endOffset: 2 }], now, {
      agesMs: [1_000, 86_400_000],
    });
    const table = new OffsetTimeTable();
    table.seed(history.get(0)!);
    table.record(2, now);
    expect(table.appendedAt(0)?.method).toBe('lower-bound');
  });

  it('never dates a record younger than it is (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 100_000_000 }), { minLength: 1, maxLength: 60 }),
        fc.nat(),
        async (ages, pick) => {
          const now = 1_000_000_000_000;
          const times = ages.map((a) => now - a).sort((a, b) => a - b);
          const committed = pick % times.length;
          const history = await readSeedHistory(
            logReader(times),
            't',
            [{ partition: 0, measuredFromOffset: committed, endOffset: times.length }],
            now,
            { agesMs: DEFAULT_SEED_AGES_MS },
          );
          const table = new OffsetTimeTable();
          table.seed(history.get(0)!);
          table.record(times.length, now);
          const truthAge = now - times[committed];
          const estimated = table.appendedAt(committed)!;
          const estimatedAge = now - estimated.at;
          if (estimated.method === 'interpolated')
            expect(Math.abs(estimatedAge - truthAge)).toBeLessThanOrEqual(Math.max(20, truthAge * 0.01) + 1);
          else expect(estimatedAge).toBeLessThanOrEqual(truthAge);
        },
      ),
      { numRuns: 200 },
    );
  });
});
