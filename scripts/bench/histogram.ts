// Quantiles over one bench phase from two scrapes of the invalidator's /metrics: the delta of a
// histogram's cumulative buckets, then Prometheus' histogram_quantile (libs/telemetry).
// Resolution = bucket width.
import { CumulativeBucket, histogramQuantile, parsePrometheusText } from '@app/telemetry';

export interface Histogram {
  buckets: CumulativeBucket[];
  count: number;
}

/** `labels`: only the series with these label values (e.g. { step: 'apply' }). */
export function parseHistogram(text: string, name: string, labels: Record<string, string> = {}): Histogram {
  const buckets: CumulativeBucket[] = [];
  let count = 0;
  for (const s of parsePrometheusText(text)) {
    if (Object.entries(labels).some(([k, v]) => s.labels[k] !== v)) continue;
    if (s.name === `${name}_bucket`) buckets.push({ le: s.labels.le === '+Inf' ? Infinity : Number(s.labels.le), count: s.value });
    else if (s.name === `${name}_count`) count = s.value;
  }
  return { buckets: buckets.sort((a, b) => a.le - b.le), count };
}

export function histogramDelta(after: Histogram, before: Histogram): Histogram {
  return {
    buckets: after.buckets.map((b, i) => ({ le: b.le, count: b.count - (before.buckets[i]?.count ?? 0) })),
    count: after.count - before.count,
  };
}

/** The q-quantile (0..1), NaN when the phase had no observations. */
export function quantileFromBuckets(h: Histogram, q: number): number {
  return histogramQuantile(q, h.buckets) ?? NaN;
}
