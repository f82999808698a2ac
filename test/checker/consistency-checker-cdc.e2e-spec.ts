// The consistency checker's short mode with change data capture as the source: writers change
// rows of a PostgreSQL table in real transactions (several rows in some, a rolled-back one now
// and then), Kafka Connect + Debezium stream the row changes, the invalidators read them with
// EVENT_FORMAT=debezium. Injected: kill -9 and restart of an invalidator, rebalances between up
// to 3 instances, a Redis restart, the broker frozen past the request timeout, eviction pressure,
// the hostile team, and a kill -9 of the Kafka Connect worker followed by a new worker in the same
// group (it resumes from the stored source offsets and the replication slot). Not injected here:
// the event topic's own faults (duplicated, reordered and poison events, the second team's DLQ
// replay), which the event-path checker covers. After convergence: 0 stale entries, 0 lost
// invalidations, every committed row change on the CDC topic.
import { formatReport, runConsistencyCheck } from './consistency-checker';
import { freezeBroker } from '../support/broker-freeze';
import { connectWorkerGroup, ConnectWorkerGroup } from '../support/cdc';
import { freshDatabase, TestDatabase } from '../support/postgres';
import { stackEnv } from '../support/stack-env';

describe('consistency checker, CDC mode (PostgreSQL -> Debezium -> invalidators, faults injected)', () => {
  let db: TestDatabase;
  let workers: ConnectWorkerGroup;

  beforeAll(async () => {
    db = await freshDatabase('checker_cdc');
    workers = connectWorkerGroup('checker-connect');
  }, 60_000);

  afterAll(async () => {
    // the checker stops its workers and drops its slot; this only catches what a failed run left
    await workers?.stopAll();
    await db?.drop();
  }, 60_000);

  it('converges with no stale entry and no lost invalidation, across a Kafka Connect kill -9', async () => {
    const report = await runConsistencyCheck({
      brokers: stackEnv.kafkaBrokers.join(','),
      // the faults' spawns and the Connect restart stretch it: about 45 s of traffic on 2 cores
      durationMs: 30_000,
      entities: 200,
      writesPerSecond: 200,
      readers: 6,
      freezeBroker,
      source: 'cdc',
      cdc: { databaseUrl: db.url, startConnectWorker: () => workers.start() },
    });
    console.log(formatReport(report));
    expect(report.source).toBe('cdc');
    // the faults really happened
    expect(report.faults.join(' ')).toMatch(
      /kill -9 invalidator #1.*restart invalidator #1 \(rebalance\).*Redis stopped.*Redis restarted.*start invalidator #3 \(rebalance\).*Kafka broker frozen.*SIGTERM invalidator #2 \(exit 0\)/,
    );
    // the Connect worker's kill -9, and a new worker of the same group running the connector again
    // (its start runs beside the next faults, so it is checked on its own)
    expect(report.faults.join(' ')).toMatch(
      /kill -9 Kafka Connect worker.*new Kafka Connect worker \(same group\): connector RUNNING on it/,
    );
    expect(report.evictedKeys).toBeGreaterThan(0);
    // the hostile team was really active, and only its own parts were dead-lettered
    expect(report.faults.join(' ')).toMatch(/hostile mapping written straight to the mappings topic/);
    expect(report.hostileDeadLetters).toBeGreaterThan(0);
    expect(report.hostileLoaderRequests).toBeGreaterThan(0);
    // the traffic really flowed, through PostgreSQL transactions and Debezium
    expect(report.eventsPublished).toBe(0);
    expect(report.writes).toBeGreaterThan(1_000);
    expect(report.multiRowTransactions).toBeGreaterThan(100);
    expect(report.rolledBackTransactions).toBeGreaterThan(0);
    expect(report.cdcRecords).toBeGreaterThanOrEqual(report.cdcRowChanges);
    expect(report.reads).toBeGreaterThan(500);
    expect(report.samples).toBeGreaterThan(100);
    // the guarantees
    expect(report.problems).toEqual([]);
    expect(report.staleEntriesAfterConvergence).toBe(0);
    expect(report.lostInvalidations).toBe(0);
    expect(report.tagPurgesVerified).toBe(2);
  }, 360_000);

  it('detects staleness: the TTL-only baseline (same SQL writers, no Connect, no invalidator) serves stale reads', async () => {
    const report = await runConsistencyCheck({
      brokers: stackEnv.kafkaBrokers.join(','),
      durationMs: 8_000,
      entities: 50,
      writesPerSecond: 40,
      readers: 4,
      ttlOnly: true,
      evictionHeadroomBytes: 0,
      source: 'cdc',
      cdc: { databaseUrl: db.url, startConnectWorker: () => workers.start() },
    });
    console.log(formatReport(report));
    expect(report.source).toBe('cdc');
    expect(report.transactions).toBeGreaterThan(0);
    expect(report.reads).toBeGreaterThan(100);
    expect(report.staleReads).toBeGreaterThan(0);
    expect(report.staleEntriesAfterConvergence).toBeGreaterThan(0);
  }, 60_000);
});
