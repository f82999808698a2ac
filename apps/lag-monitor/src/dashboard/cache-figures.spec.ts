import { computeFamilyFigures, computeOutcomeRates } from './cache-figures';
import type { Scrape } from './invalidator-figures';

const s = (at: number, values: Array<[string, Record<string, string>, number]>): Scrape => ({
  at,
  samples: values.map(([name, labels, value]) => ({ name, labels, value })),
});

describe('cache figures', () => {
  it('hit rate per family over the window, summed across instances, restarts counted from 0', () => {
    const a = [
      s(0, [
        ['cache_client_family_reads_total', { family: 'product', result: 'l1-hit' }, 100],
        ['cache_client_family_reads_total', { family: 'product', result: 'miss' }, 10],
      ]),
      s(10_000, [
        ['cache_client_family_reads_total', { family: 'product', result: 'l1-hit' }, 170],
        ['cache_client_family_reads_total', { family: 'product', result: 'hit' }, 20],
        ['cache_client_family_reads_total', { family: 'product', result: 'miss' }, 20],
      ]),
    ];
    const b = [
      s(0, [['cache_client_family_reads_total', { family: 'page', result: 'miss' }, 50]]),
      s(10_000, [['cache_client_family_reads_total', { family: 'page', result: 'miss' }, 5]]),
    ];
    const figures = computeFamilyFigures([a, b], 10_000, 15_000);
    expect(figures).toEqual([
      { family: 'product', readsPerSecond: 10, hitRate: 0.9, l1HitRate: 0.7 },
      { family: 'page', readsPerSecond: 0.5, hitRate: 0, l1HitRate: 0 },
    ]);
  });

  it('invalidations per second by outcome', () => {
    const scrapes = [
      s(0, [['invalidator_keys_total', { outcome: 'deleted' }, 10]]),
      s(2000, [
        ['invalidator_keys_total', { outcome: 'deleted' }, 30],
        ['invalidator_keys_total', { outcome: 'warmed' }, 4],
      ]),
    ];
    expect(computeOutcomeRates([scrapes], 2000, 15_000, 'invalidator_keys_total')).toEqual({ deleted: 10, warmed: 2 });
  });
});
