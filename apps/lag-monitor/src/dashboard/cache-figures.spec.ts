import { computeFamilyFigures, computeOutcomeRates } from './cache-figures';
import { computePurgeFigures } from './purge-figures';
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

describe("cache figures: many families (key prefixes are the readers' to choose)", () => {
  // A reader with a high maxFamilies (or a hostile /metrics) exposes thousands of families. The
  // figures are computed on every dashboard poll in the lag monitor's event loop: looking each
  // family up by scanning the whole scrape was quadratic (1 000 families took 5 s, 3 000 took
  // about a minute), which froze /lag and the health probes.
  function manyFamilies(families: number, scrapes: number): Scrape[] {
    const results = ['l1-hit', 'hit', 'stale', 'miss', 'bypass'];
    return Array.from({ length: scrapes }, (_, i) =>
      s(
        i * 2000,
        Array.from({ length: families }, (_, f) =>
          results.map((result): [string, Record<string, string>, number] => [
            'cache_client_family_reads_total',
            { family: `family-${f}`, result },
            i * (f + 1),
          ]),
        ).flat(),
      ),
    );
  }

  it('5 000 families over 8 scrapes take a small fraction of a second, not minutes', () => {
    const scrapes = manyFamilies(5_000, 8);
    const started = performance.now();
    const figures = computeFamilyFigures([scrapes], 14_000, 15_000);
    // Generous: the linear computation takes well under 100 ms, the quadratic one minutes.
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(figures).toHaveLength(5_000);
    expect(figures[0]).toEqual({ family: 'family-4999', readsPerSecond: (5 * 5_000 * 7) / 14, hitRate: 0.6, l1HitRate: 0.2 });
  });
});

describe('outcome and purge labels that are names of Object.prototype', () => {
  it('counts an outcome called constructor, toString or __proto__ as a number like any other', () => {
    const scrapes = ['constructor', 'toString', '__proto__'].map((outcome) => [
      s(0, [['invalidator_keys_total', { outcome }, 0]]),
      s(2000, [['invalidator_keys_total', { outcome }, 4]]),
    ]);
    const rates = computeOutcomeRates(scrapes, 2000, 15_000, 'invalidator_keys_total');
    expect(Object.entries(rates)).toEqual([
      ['constructor', 2],
      ['toString', 2],
      ['__proto__', 2],
    ]);
    expect(JSON.parse(JSON.stringify(rates))).toEqual(JSON.parse('{"constructor":2,"toString":2,"__proto__":2}'));
  });

  it('does the same for purge outcomes and targets', () => {
    const scrapes = [
      s(0, [['invalidator_purges_total', { target: 'constructor', outcome: 'valueOf' }, 0]]),
      s(2000, [['invalidator_purges_total', { target: 'constructor', outcome: 'valueOf' }, 4]]),
    ];
    const figures = computePurgeFigures([scrapes], 2000, 15_000);
    expect(Object.entries(figures.perSecondByOutcome)).toContainEqual(['valueOf', 2]);
    expect(figures.byTarget.map((t) => [t.target, Object.entries(t.perSecondByOutcome)])).toEqual([['constructor', [['valueOf', 2]]]]);
  });
});
