import { histogramDelta, parseHistogram, quantileFromBuckets } from './histogram';

const text = (counts: number[]) =>
  [0.001, 0.01, 0.1, '+Inf'].map((le, i) => `age_bucket{le="${le}"} ${counts[i]}`).join('\n') + `\nage_sum 1\nage_count ${counts[3]}\n`;

describe('histogram quantiles', () => {
  it('interpolates inside the bucket holding the rank, on the delta between two scrapes', () => {
    const before = parseHistogram(text([5, 5, 5, 5]), 'age');
    const after = parseHistogram(text([5, 55, 105, 105]), 'age');
    const d = histogramDelta(after, before);
    expect(d.count).toBe(100);
    expect(quantileFromBuckets(d, 0.5)).toBeCloseTo(0.01, 6);
    expect(quantileFromBuckets(d, 0.25)).toBeCloseTo(0.001 + 0.009 * 0.5, 6);
    expect(quantileFromBuckets(d, 0.99)).toBeCloseTo(0.01 + 0.09 * 0.98, 6);
  });
});
