// Lag in seconds by interpolation, as kafka-lag-exporter does: for each partition keep a table
// of (endOffset, time) points, "the log end offset was X at time T". The message at offset c
// was appended when the end offset reached c + 1; reading that moment off the table and
// subtracting it from now gives the age of the oldest unconsumed message. Only the admin API
// is needed (no consumer, no fetch of records), so it works when no consumer runs.

export interface OffsetTimePoint {
  /** Log end offset observed... */
  offset: number;
  /** ...at this epoch ms. */
  at: number;
}

export interface AppendedAt {
  at: number;
  method: 'interpolated' | 'lower-bound';
}

export class OffsetTimeTable {
  private points: OffsetTimePoint[] = [];

  constructor(private readonly capacity = 256) {
    if (capacity < 3) throw new RangeError('an offset/time table needs a capacity of at least 3 points');
  }

  get size(): number {
    return this.points.length;
  }

  snapshot(): readonly OffsetTimePoint[] {
    return this.points.map((p) => ({ ...p }));
  }

  /** Records a live read of the end offset. */
  record(offset: number, at: number): void {
    append(this.points, { offset, at });
    this.compact();
  }

  /**
   * Adds history older than every live read, e.g. from the broker's offsets-for-times
   * lookup at startup. Points that contradict newer ones (record timestamps are set by
   * producers and need not be monotonic) are clamped so offsets never decrease with time.
   */
  seed(history: OffsetTimePoint[]): void {
    const first = this.points[0];
    const older = history.filter((p) => first === undefined || p.at < first.at).sort((a, b) => a.at - b.at);
    let ceiling = first?.offset ?? Number.POSITIVE_INFINITY;
    for (let i = older.length - 1; i >= 0; i--) {
      older[i] = { offset: Math.min(older[i].offset, ceiling), at: older[i].at };
      ceiling = older[i].offset;
    }
    const rebuilt: OffsetTimePoint[] = [];
    for (const p of [...older, ...this.points]) append(rebuilt, p);
    this.points = rebuilt;
    this.compact();
  }

  /**
   * When the message at `offset` was appended (the end offset reached offset + 1), or
   * undefined when the table has not seen the end offset get there yet.
   */
  appendedAt(offset: number): AppendedAt | undefined {
    const target = offset + 1;
    const j = this.points.findIndex((p) => p.offset >= target);
    if (j < 0) return undefined;
    if (j === 0) return { at: this.points[0].at, method: 'lower-bound' };
    const before = this.points[j - 1];
    const after = this.points[j];
    const fraction = (target - before.offset) / (after.offset - before.offset);
    return { at: before.at + fraction * (after.at - before.at), method: 'interpolated' };
  }

  /**
   * Drops the interior point whose loss widens the table the least relative to its age, so
   * precision stays proportional to age: recent points dense, old ones sparse. First and
   * last points always stay.
   */
  private compact(): void {
    while (this.points.length > this.capacity) {
      const newest = this.points[this.points.length - 1].at;
      let victim = 1;
      let cheapest = Number.POSITIVE_INFINITY;
      for (let i = 1; i < this.points.length - 1; i++) {
        const widened = this.points[i + 1].at - this.points[i - 1].at;
        const cost = widened / Math.max(1, newest - this.points[i].at);
        if (cost < cheapest) {
          cheapest = cost;
          victim = i;
        }
      }
      this.points.splice(victim, 1);
    }
  }
}

/**
 * A flat run (end offset not moving) keeps only its first and last sighting: the first says
 * when the newest message was appended, the last bounds when the next one could have been.
 * A smaller end offset than before means the topic was recreated or truncated: the old
 * history would lie, so it is dropped.
 */
function append(points: OffsetTimePoint[], p: OffsetTimePoint): void {
  const last = points[points.length - 1];
  if (last === undefined) {
    points.push({ ...p });
    return;
  }
  if (p.at <= last.at) return;
  if (p.offset < last.offset) {
    points.splice(0, points.length, { ...p });
    return;
  }
  const beforeLast = points[points.length - 2];
  if (p.offset === last.offset && beforeLast !== undefined && beforeLast.offset === p.offset) {
    last.at = p.at;
    return;
  }
  points.push({ ...p });
}
