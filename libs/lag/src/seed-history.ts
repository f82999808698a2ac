// History for partitions the monitor has just met, so lag seconds is right at once for
// backlog older than the monitor (after a restart, exactly when someone is looking).
// The broker answers "first offset whose record timestamp is >= T" (ListOffsets by time):
// that offset is the end offset at time T, a point of the offset/time table. A ladder of
// ages finds the interval holding the oldest unconsumed message; a bisection inside that
// interval dates it to within 1 % of its age. Record timestamps are the producers' clocks
// (CreateTime) or the broker's (LogAppendTime): docs/lag.md says what that implies.
import type { OffsetTimePoint } from './offset-time-table';
import type { LagReader } from './lag-reader';

export interface PartitionToSeed {
  partition: number;
  /** The offset lag is measured from: its record is the oldest unconsumed one. */
  measuredFromOffset: number;
  endOffset: number;
}

export interface SeedOptions {
  /** Ages before `now` to ask about first. */
  agesMs: number[];
  /** Stop bisecting when the interval is below this fraction of the message's age... */
  relativePrecision?: number;
  /** ...or below this many ms. */
  minPrecisionMs?: number;
  maxSteps?: number;
}

/** Seed points per partition (oldest first); partitions the broker says nothing about get none. */
export async function readSeedHistory(
  reader: LagReader,
  topic: string,
  partitions: PartitionToSeed[],
  now: number,
  options: SeedOptions,
): Promise<Map<number, OffsetTimePoint[]>> {
  const points = new Map<number, OffsetTimePoint[]>(partitions.map((p) => [p.partition, []]));
  const remember = (at: number, offsets: Map<number, number>): void => {
    for (const p of partitions) {
      const offset = offsets.get(p.partition);
      if (offset !== undefined) points.get(p.partition)!.push({ offset: Math.min(offset, p.endOffset), at });
    }
  };

  const ladder = await reader.readOffsetsAtTimes(
    topic,
    options.agesMs.map((age) => now - age),
  );
  for (const rung of ladder) remember(rung.at, rung.offsets);

  const relativePrecision = options.relativePrecision ?? 0.01;
  const minPrecisionMs = options.minPrecisionMs ?? 20;
  const maxSteps = options.maxSteps ?? 24;
  await Promise.all(
    partitions
      .filter((p) => p.measuredFromOffset < p.endOffset)
      .map(async (p) => {
        const c = p.measuredFromOffset;
        // The record at offset c has a timestamp in [lo, hi): offsetsAt(lo) <= c < offsetsAt(hi).
        const known = [...points.get(p.partition)!, { offset: p.endOffset, at: now }].sort((a, b) => a.at - b.at);
        let lo = [...known].reverse().find((k) => k.offset <= c)?.at;
        let hi = known.find((k) => k.offset > c && (lo === undefined || k.at > lo))?.at;
        if (lo === undefined || hi === undefined) return; // older than the ladder: a lower bound it stays
        for (let step = 0; step < maxSteps && hi - lo > Math.max(minPrecisionMs, relativePrecision * (now - lo)); step++) {
          const mid = Math.floor((lo + hi) / 2);
          const [answer] = await reader.readOffsetsAtTimes(topic, [mid]);
          remember(mid, answer.offsets);
          const offset = answer.offsets.get(p.partition);
          if (offset === undefined) return;
          if (offset > c) hi = mid;
          else lo = mid;
        }
      }),
  );
  for (const list of points.values()) list.sort((a, b) => a.at - b.at);
  return points;
}
