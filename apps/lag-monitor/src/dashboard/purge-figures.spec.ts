import { INVALIDATOR_METRIC_NAMES } from '@app/telemetry';
import { computePurgeFigures } from './purge-figures';
import type { Scrape } from './invalidator-figures';

const PURGES = INVALIDATOR_METRIC_NAMES.purges;
const VARNISH = 'varnish:http://127.0.0.1:6081';
const FASTLY = 'fastly:svc';
const s = (at: number, values: Array<[string, Record<string, string>, number]>): Scrape => ({
  at,
  samples: values.map(([name, labels, value]) => ({ name, labels, value })),
});

describe('purge figures', () => {
  it('purges per second by outcome and per target over the window, summed across instances', () => {
    const a = [
      s(0, [[PURGES, { target: VARNISH, outcome: 'purged' }, 10]]),
      s(2_000, [
        [PURGES, { target: VARNISH, outcome: 'purged' }, 30],
        [PURGES, { target: VARNISH, outcome: 'retried' }, 2],
      ]),
    ];
    const b = [
      s(0, [[PURGES, { target: FASTLY, outcome: 'purged' }, 0]]),
      s(4_000, [
        [PURGES, { target: FASTLY, outcome: 'purged' }, 8],
        [PURGES, { target: FASTLY, outcome: 'failed' }, 4],
        [PURGES, { target: VARNISH, outcome: 'purged' }, 4],
      ]),
    ];
    const f = computePurgeFigures([a, b], 4_000, 15_000);
    // a: varnish purged 20 / 2 s, retried 2 / 2 s; b: fastly purged 8 / 4 s, failed 4 / 4 s, varnish purged 4 / 4 s
    expect(f.perSecondByOutcome).toEqual({ purged: 10 + 2 + 1, retried: 1, failed: 1, refused: 0 });
    expect(f.byTarget).toEqual([
      { target: FASTLY, perSecondByOutcome: { purged: 2, failed: 1 } },
      { target: VARNISH, perSecondByOutcome: { purged: 11, retried: 1 } },
    ]);
  });

  it('treats a counter that went down as a restart, not a negative rate', () => {
    const restarted = [
      s(0, [[PURGES, { target: VARNISH, outcome: 'purged' }, 500]]),
      s(5_000, [[PURGES, { target: VARNISH, outcome: 'purged' }, 50]]),
    ];
    expect(computePurgeFigures([restarted], 5_000, 15_000).perSecondByOutcome.purged).toBe(10);
  });

  it('is zero for every outcome when the counter is absent (no PURGE_TARGETS, nothing purged yet)', () => {
    const noPurges = [s(0, [[INVALIDATOR_METRIC_NAMES.consumed, {}, 10]]), s(2_000, [[INVALIDATOR_METRIC_NAMES.consumed, {}, 30]])];
    expect(computePurgeFigures([noPurges], 2_000, 15_000)).toEqual({
      perSecondByOutcome: { purged: 0, retried: 0, failed: 0, refused: 0 },
      byTarget: [],
    });
  });

  it('has no figures without two scrapes in the window', () => {
    const one = [s(0, [[PURGES, { target: VARNISH, outcome: 'purged' }, 10]])];
    expect(computePurgeFigures([one], 0, 15_000)).toEqual({ perSecondByOutcome: {}, byTarget: [] });
    const old = [
      s(0, [[PURGES, { target: VARNISH, outcome: 'purged' }, 0]]),
      s(1_000, [[PURGES, { target: VARNISH, outcome: 'purged' }, 10]]),
    ];
    expect(computePurgeFigures([old], 60_000, 15_000)).toEqual({ perSecondByOutcome: {}, byTarget: [] });
  });
});
