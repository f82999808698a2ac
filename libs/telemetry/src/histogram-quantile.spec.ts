import fc from 'fast-check';
import { histogramQuantile } from './histogram-quantile';

const inf = Number.POSITIVE_INFINITY;

describe('histogramQuantile', () => {
  it('interpolates inside the bucket the rank falls in, as Prometheus does', () => {
    // 100 observations: 50 <= 0.1, 40 in (0.1, 0.5], 10 in (0.5, 1]
    const buckets = [
      { le: 0.1, count: 50 },
      { le: 0.5, count: 90 },
      { le: 1, count: 100 },
      { le: inf, count: 100 },
    ];
    expect(histogramQuantile(0.5, buckets)).toBeCloseTo(0.1, 10);
    expect(histogramQuantile(0.7, buckets)).toBeCloseTo(0.3, 10);
    expect(histogramQuantile(0.99, buckets)).toBeCloseTo(0.95, 10);
    expect(histogramQuantile(0.25, buckets)).toBeCloseTo(0.05, 10);
  });

  it('answers the largest finite bound when the rank is in +Inf', () => {
    expect(
      histogramQuantile(0.99, [
        { le: 1, count: 1 },
        { le: inf, count: 10 },
      ]),
    ).toBe(1);
  });

  it('is null with no observations or without a +Inf bucket', () => {
    expect(
      histogramQuantile(0.5, [
        { le: 1, count: 0 },
        { le: inf, count: 0 },
      ]),
    ).toBeNull();
    expect(histogramQuantile(0.5, [{ le: 1, count: 3 }])).toBeNull();
  });

  it('accepts buckets in any order and repairs non-monotonic counts', () => {
    expect(
      histogramQuantile(0.5, [
        { le: inf, count: 10 },
        { le: 2, count: 9 },
        { le: 1, count: 10 },
      ]),
    ).toBeCloseTo(0.5, 10);
  });

  it('rejects a quantile outside [0, 1]', () => {
    expect(() => histogramQuantile(1.5, [])).toThrow(RangeError);
  });

  it('stays within the bucket bounds and never decreases with q (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat(1_000), { minLength: 1, maxLength: 10 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (perBucket, q1, q2) => {
          let cumulative = 0;
          const buckets = perBucket.map((n, i) => ({ le: (i + 1) * 0.5, count: (cumulative += n) }));
          buckets.push({ le: inf, count: cumulative });
          const a = histogramQuantile(Math.min(q1, q2), buckets);
          const b = histogramQuantile(Math.max(q1, q2), buckets);
          if (cumulative === 0) return expect(a).toBeNull();
          expect(a).not.toBeNull();
          expect(a!).toBeLessThanOrEqual(b! + 1e-9);
          expect(a!).toBeGreaterThanOrEqual(0);
          expect(b!).toBeLessThanOrEqual(perBucket.length * 0.5);
        },
      ),
    );
  });
});
