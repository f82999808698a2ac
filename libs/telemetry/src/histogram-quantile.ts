// histogram_quantile() as Prometheus computes it: find the bucket the rank falls in and
// interpolate linearly inside it. Buckets are cumulative counts by upper bound (le).

export interface CumulativeBucket {
  le: number;
  count: number;
}

/**
 * The q-quantile (0..1) of a histogram, or null when it has no observations. A rank in the
 * +Inf bucket answers the largest finite upper bound, as Prometheus does.
 */
export function histogramQuantile(q: number, buckets: CumulativeBucket[]): number | null {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile must be within [0, 1] (got ${q})`);
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  if (sorted.length < 2 || sorted[sorted.length - 1].le !== Number.POSITIVE_INFINITY) return null;
  // Counts scraped at slightly different moments can dip; Prometheus forces them monotonic.
  for (let i = 1; i < sorted.length; i++)
    if (sorted[i].count < sorted[i - 1].count) sorted[i] = { ...sorted[i], count: sorted[i - 1].count };
  const total = sorted[sorted.length - 1].count;
  if (!(total > 0)) return null;
  const rank = q * total;
  const b = sorted.findIndex((bucket) => bucket.count >= rank);
  if (b === sorted.length - 1) return sorted[sorted.length - 2].le;
  const upper = sorted[b].le;
  if (b === 0 && upper <= 0) return upper;
  const lower = b === 0 ? 0 : sorted[b - 1].le;
  const countBelow = b === 0 ? 0 : sorted[b - 1].count;
  const inBucket = sorted[b].count - countBelow;
  if (inBucket === 0) return upper;
  return lower + (upper - lower) * ((rank - countBelow) / inBucket);
}
