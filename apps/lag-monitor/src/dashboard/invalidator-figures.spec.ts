import { computeInvalidatorFigures, Scrape } from './invalidator-figures';
import type { PromSample } from '@app/telemetry';
import { INVALIDATOR_METRIC_NAMES } from '@app/telemetry';

const s = (name: string, value: number, labels: Record<string, string> = {}): PromSample => ({ name, labels, value });

function scrape(at: number, consumed: number, dead: Record<string, number>, ageBuckets: [string, number][], mappings = 4): Scrape {
  return {
    at,
    samples: [
      s(INVALIDATOR_METRIC_NAMES.consumed, consumed),
      s(INVALIDATOR_METRIC_NAMES.applied, consumed),
      ...Object.entries(dead).map(([reason, n]) => s(INVALIDATOR_METRIC_NAMES.deadLettered, n, { reason })),
      ...ageBuckets.map(([le, n]) => s(`${INVALIDATOR_METRIC_NAMES.eventAge}_bucket`, n, { le })),
      s(INVALIDATOR_METRIC_NAMES.mappings, mappings),
    ],
  };
}

describe('computeInvalidatorFigures', () => {
  it('computes throughput, dead letters, latency quantiles and mappings over the window, summed across instances', () => {
    const a = [
      scrape(0, 100, {}, [
        ['0.01', 0],
        ['0.1', 0],
        ['+Inf', 0],
      ]),
      scrape(10_000, 600, { BAD_JSON: 2 }, [
        ['0.01', 300],
        ['0.1', 490],
        ['+Inf', 500],
      ]),
    ];
    const b = [
      scrape(
        0,
        0,
        {},
        [
          ['0.01', 0],
          ['0.1', 0],
          ['+Inf', 0],
        ],
        4,
      ),
      scrape(
        10_000,
        500,
        { BAD_SCHEMA: 1 },
        [
          ['0.01', 200],
          ['0.1', 490],
          ['+Inf', 500],
        ],
        5,
      ),
    ];
    const f = computeInvalidatorFigures([a, b], 10_000, 15_000);
    expect(f.eventsConsumedPerSecond).toBeCloseTo(100, 10); // (500 + 500) / 10 s
    expect(f.deadLettered).toBe(3);
    expect(f.deadLetteredByReason).toEqual({ BAD_JSON: 2, BAD_SCHEMA: 1 });
    expect(f.deadLetteredPerSecond).toBeCloseTo(0.3, 10);
    // 1 000 observations: 500 <= 10 ms, 480 in (10, 100] ms, 20 above
    expect(f.applyLatencyP50Seconds).toBeCloseTo(0.01, 10);
    expect(f.applyLatencyP99Seconds).toBe(0.1);
    expect(f.mappings).toBe(5);
  });

  it('treats a counter that went down as a restart, not a negative rate', () => {
    const restarted = [scrape(0, 1_000, {}, [['+Inf', 0]]), scrape(5_000, 50, {}, [['+Inf', 0]])];
    expect(computeInvalidatorFigures([restarted], 5_000, 15_000).eventsConsumedPerSecond).toBeCloseTo(10, 10);
  });

  it('has no rate or quantile without two scrapes or observations in the window, but still a dead-letter count of 0', () => {
    const one = [
      scrape(0, 10, {}, [
        ['0.1', 5],
        ['+Inf', 5],
      ]),
    ];
    const f = computeInvalidatorFigures([one], 0, 15_000);
    expect(f.eventsConsumedPerSecond).toBeNull();
    expect(f.applyLatencyP50Seconds).toBeNull();
    expect(f.deadLettered).toBe(0);
  });

  it('forgets scrapes older than the window', () => {
    const old = [scrape(0, 0, {}, [['+Inf', 0]]), scrape(1_000, 1_000, {}, [['+Inf', 0]])];
    expect(computeInvalidatorFigures([old], 60_000, 15_000).eventsConsumedPerSecond).toBeNull();
  });

  it('splits throughput by source: published events and each CDC table, told apart by invalidator_source_info', () => {
    const tagged = (source: string | undefined, at: number, consumed: number): Scrape => ({
      at,
      samples: [
        s(INVALIDATOR_METRIC_NAMES.consumed, consumed),
        s(INVALIDATOR_METRIC_NAMES.applied, consumed / 2),
        ...(source ? [s(INVALIDATOR_METRIC_NAMES.sourceInfo, 1, { source })] : []),
      ],
    });
    const events = [tagged('events', 0, 0), tagged('events', 10_000, 100)];
    const olderInstance = [tagged(undefined, 0, 0), tagged(undefined, 10_000, 50)];
    const cdc = [tagged('cdc:product', 0, 0), tagged('cdc:product', 10_000, 300)];
    const f = computeInvalidatorFigures([events, olderInstance, cdc], 10_000, 60_000);
    expect(f.bySource).toEqual([
      { source: 'cdc:product', instances: 1, consumedPerSecond: 30, appliedPerSecond: 15 },
      { source: 'events', instances: 2, consumedPerSecond: 15, appliedPerSecond: 7.5 },
    ]);
    expect(f.eventsConsumedPerSecond).toBe(45);
  });
});
