// The consistency checker's short mode (about 45 s) under every injected fault: kill -9 and
// restart of an invalidator, rebalances between up to 3 instances, a Redis restart, the Kafka
// broker frozen past the request timeout, duplicated
// and reordered events, poison messages, eviction pressure (allkeys-lru), warms racing slow
// fills, a second team's keyspace whose dead letters are replayed once its mapping exists, and a
// hostile third team granted the first team's entity type (unsafe template values, a purge target
// that always fails, a slow loader claiming a far-future version, a mapping written straight to the
// topic into the first team's keys). After convergence: 0 stale entries, 0 lost invalidations.
import { formatReport, runConsistencyCheck } from './consistency-checker';
import { freezeBroker } from '../support/broker-freeze';
import { stackEnv } from '../support/stack-env';

describe('consistency checker (short mode, real stack, faults injected)', () => {
  it('converges with no stale entry and no lost invalidation', async () => {
    const report = await runConsistencyCheck({
      brokers: stackEnv.kafkaBrokers.join(','),
      durationMs: 40_000,
      entities: 200,
      writesPerSecond: 200,
      readers: 6,
      freezeBroker,
    });
    console.log(formatReport(report));
    // the faults really happened and the traffic really flowed
    expect(report.faults.join(' ')).toMatch(
      /kill -9.*promo mapping registered, DLQ replay \(exit 0.*Redis stopped.*Redis restarted.*Kafka broker frozen.*SIGTERM invalidator #2 \(exit 0\)/,
    );
    // eviction pressure really evicted, and the second team's dead letters were really replayed
    expect(report.evictedKeys).toBeGreaterThan(0);
    expect(report.promoEvents).toBeGreaterThan(0);
    expect(report.dlqReplayed).toBeGreaterThan(0); // events still in the backlog when the mapping arrives are applied directly
    // the hostile team was really active, and only its own parts were dead-lettered
    expect(report.faults.join(' ')).toMatch(/hostile mapping written straight to the mappings topic/);
    expect(report.hostileDeadLetters).toBeGreaterThan(0);
    expect(report.hostileLoaderRequests).toBeGreaterThan(0);
    expect(report.hostilePurgeRequests).toBeGreaterThan(0);
    expect(report.eventsPublished).toBeGreaterThan(2_000);
    expect(report.duplicatesPublished + report.reorderedPublished + report.poisonPublished).toBeGreaterThan(0);
    expect(report.reads).toBeGreaterThan(500);
    expect(report.samples).toBeGreaterThan(100);
    // the guarantees
    expect(report.problems).toEqual([]);
    expect(report.staleEntriesAfterConvergence).toBe(0);
    expect(report.lostInvalidations).toBe(0);
    expect(report.promoStaleAfterConvergence).toBe(0);
    expect(report.tagPurgesVerified).toBe(2);
  }, 240_000);

  it('detects staleness: the TTL-only baseline (same workload, no invalidator) serves stale reads', async () => {
    // The checker's detector must be able to fail: without invalidation, keys stay stale until their TTL.
    const report = await runConsistencyCheck({
      brokers: stackEnv.kafkaBrokers.join(','),
      durationMs: 8_000,
      entities: 50,
      writesPerSecond: 40,
      readers: 4,
      ttlOnly: true,
      evictionHeadroomBytes: 0,
    });
    console.log(formatReport(report));
    expect(report.reads).toBeGreaterThan(100);
    expect(report.staleReads).toBeGreaterThan(0);
    expect(report.staleEntriesAfterConvergence).toBeGreaterThan(0);
  }, 60_000);
});
