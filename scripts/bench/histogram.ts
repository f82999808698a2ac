// Quantiles from a Prometheus histogram (text format), the way histogram_quantile() does it:
// linear interpolation inside the bucket that holds the rank. Resolution = bucket width.
export interface Histogram {
  buckets: { le: number; count: number }[];
  count: number;
}

export function parseHistogram(text: string, name: string): Histogram {
  const buckets: { le: number; count: number }[] = [];
  let count = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}_bucket{`)) {
      const le = /le="([^"]+)"/.exec(line)![1];
      buckets.push({ le: le === '+Inf' ? Infinity : Number(le), count: Number(line.slice(line.lastIndexOf(' ') + 1)) });
    } else if (line.startsWith(`${name}_count`)) count = Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return { buckets: buckets.sort((a, b) => a.le - b.le), count };
}

export function histogramDelta(after: Histogram, before: Histogram): Histogram {
  return {
    buckets: after.buckets.map((b, i) => ({ le: b.le, count: b.count - (before.buckets[i]?.count ?? 0) })),
    count: after.count - before.count,
  };
}

export function quantileFromBuckets(h: Histogram, q: number): number {
  if (h.count === 0) return NaN;
  const rank = q * h.count;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of h.buckets) {
    if (b.count >= rank) {
      if (b.le === Infinity) return prevLe;
      const inBucket = b.count - prevCount;
      return inBucket === 0 ? b.le : prevLe + ((b.le - prevLe) * (rank - prevCount)) / inBucket;
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe;
}
