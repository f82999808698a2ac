// A consistency checker in the spirit of Meta's Polaris: writers change a source of truth with
// increasing versions and publish entity.updated; readers read through libs/cache-client; a
// sampler compares what Redis holds with the truth, while faults are injected (kill -9 and
// restart of an invalidator, rebalances between instances, a Redis restart, duplicated and
// reordered events, poison messages, eviction pressure (allkeys-lru with little headroom), slow
// fills racing warms, and a second team (its own keyspace) whose events are dead-lettered until
// its mapping is registered and then replayed from the DLQ), and a third, hostile team granted the
// first team's entity type: its tag template meets unsafe values, its purge target always fails,
// its loader is slow and claims a far-future version, and a mapping of its written straight to the
// topic reaches into the first team's keys. None of that may cost the first team an invalidation:
// its parts are dead-lettered alone. At the end writers stop, the system
// converges, and every key is checked as a reader would be served: stale entries and lost
// invalidations must both be 0. A TTL-only baseline runs the same workload without an invalidator.
//
// CDC mode (`source: 'cdc'`): nothing publishes events. Writers change the rows of a PostgreSQL
// table (checker_items, REPLICA IDENTITY FULL) in real transactions of one to four rows (a row may
// change twice in one; now and then a transaction is rolled back) and update the truth only once
// COMMIT returned. Kafka Connect with Debezium's PostgreSQL connector streams the row changes to
// `<slot>.public.checker_items`, and the invalidators read that topic with EVENT_FORMAT=debezium
// (CDC_FIELDS renames grp to the `group` the mappings use; a numeric column arrives as a number,
// an excluded column never reaches a warmed value: both checked at the end). Injected: kill -9 and
// restart of an invalidator, rebalances, the Redis restart, the broker freeze, eviction pressure,
// the hostile team (its registry mapping and the one written straight to the mappings topic), and
// a kill -9 of the Kafka Connect worker's JVM followed by a new worker in the same worker group,
// which must resume from the stored source offsets and the replication slot (the records it sends
// again are duplicates to the invalidators). Not injected, because they are faults of the event
// topic and its producers, not of a WAL: duplicated, reordered and poison events written by the
// checker, and the second team (its events are published to the event topic, and its DLQ replay).
// The TTL-only baseline in CDC mode runs the same SQL writers with no Connect and no invalidator.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Redis from 'ioredis';
import { logLevel, Partitioners } from 'kafkajs';
import { Client as PgClient } from 'pg';
import { createKafka } from '@app/kafka';
import { runDlqCli } from '../../apps/invalidator/src/cli/dlq-cli';
import { EMPTY_ALLOW_LIST, MappingStore, parseHostAllowList } from '@app/registry-core';
import type { Mapping } from '@app/registry-core';
import { CacheClient } from '@app/cache-client';
import { CacheProtocol } from '@app/cache-protocol';
import { EntityPublisher, buildEntityUpdated } from '@app/publisher';
import type { EntityUpdated } from '@app/contracts';
import { withAdminRetry } from '../../scripts/stack/admin-retry';
import {
  ConnectInfo,
  connectRequest,
  killConnect,
  registerConnector,
  stopConnect,
  tableConnectorConfig,
  waitForConnectorRunningOn,
} from '../../scripts/stack/connect';
import { groupProgress } from '../../scripts/stack/group-progress';
import { waitFor } from '../../scripts/stack/processes';
import { startRedisNode, stopRedisNode, RedisNodeInfo } from '../../scripts/stack/redis';
import { spawnInvalidator, InvalidatorProcess } from '../../scripts/support/invalidator-process';
import { answerJson, startRecordingServer } from '../support/recording-http-server';

export interface CheckOptions {
  brokers: string;
  durationMs: number;
  entities?: number;
  groups?: number;
  writesPerSecond?: number;
  readers?: number;
  /** The convergence window M: a key may lag the truth by this long and still count as consistent. */
  windowMs?: number;
  /** TTL readers give every cached key; the TTL-only baseline depends on it (default 60 s). */
  keyTtlMs?: number;
  /** Keys the sampler compares with the truth every 100 ms (default 20; the long mode raises it for 10^6 samples). */
  samplesPerTick?: number;
  /**
   * The TTL-only baseline: the same writers, readers and key TTL, but no invalidator and no
   * faults. Keys go stale until their TTL runs out: what a team gets without event-driven invalidation.
   */
  ttlOnly?: boolean;
  /**
   * Eviction pressure: Redis gets allkeys-lru and a maxmemory this many bytes above what it uses
   * when started (default 150 kB, well below the working set), so values, tombstones, leases and
   * tag records are evicted under the guarantees' feet. 0 runs without a limit.
   */
  evictionHeadroomBytes?: number;
  /**
   * Freezes the Kafka broker (SIGSTOP, then SIGCONT) for `ms`: given, the run freezes it once
   * under traffic for longer than the invalidators' request timeout (2 s here).
   */
  freezeBroker?: (ms: number) => Promise<void>;
  /**
   * Where the writers' changes go: `events` (default: the truth changes, then entity.updated is
   * published) or `cdc` (rows of a PostgreSQL table, captured by Debezium; needs `cdc`).
   */
  source?: 'events' | 'cdc';
  cdc?: CdcCheckOptions;
  log?: (line: string) => void;
}

export interface CdcCheckOptions {
  /**
   * A database the checker may write: it (re)creates the table checker_items there and, unless
   * TTL-only, a publication and a replication slot named after the run, dropped at the end.
   */
  databaseUrl: string;
  /**
   * Starts a Kafka Connect worker (with Debezium's PostgreSQL plugin) on `brokers`. Every call must
   * join the same worker group (same config, offset and status topics): the worker started after
   * the kill -9 of the previous one must find the connector and its stored source offsets.
   */
  startConnectWorker: () => Promise<ConnectInfo>;
}

export interface CheckReport {
  mode: 'event-driven' | 'ttl-only';
  source: 'events' | 'cdc';
  keyTtlMs: number;
  durationMs: number;
  writes: number;
  eventsPublished: number;
  duplicatesPublished: number;
  reorderedPublished: number;
  poisonPublished: number;
  faults: string[];
  /** CDC mode: committed transactions (of them, several rows), rolled-back ones, and records on the CDC topic (more than row changes when Connect re-sent some). */
  transactions: number;
  multiRowTransactions: number;
  rolledBackTransactions: number;
  /** Every committed row change (writers, convergence markers, the final move) and the CDC topic's records. */
  cdcRowChanges: number;
  cdcRecords: number;
  reads: number;
  staleReads: number;
  staleReadsBeyondWindow: number;
  samples: number;
  samplesConsistentWithinWindow: number;
  ninesWithinWindow: number;
  windowMs: number;
  convergenceMs: number;
  keysChecked: number;
  staleEntriesAfterConvergence: number;
  lostInvalidations: number;
  /** Group pages (reached only through their tag) seen purged by the final move: 2 when tags work. */
  tagPurgesVerified: number;
  /** Keys Redis evicted during the run (INFO stats, summed over Redis restarts). */
  evictedKeys: number;
  /** Second team (own keyspace): events dead-lettered before its mapping existed, replayed from the DLQ. */
  promoEvents: number;
  dlqReplayed: number;
  /** Second team's cached entries older than its truth after the replay and convergence (must be 0). */
  promoStaleAfterConvergence: number;
  /** Hostile team: dead letters naming it (its bad templates, foreign mapping, failed purges), and what its sinks received. */
  hostileDeadLetters: number;
  hostileLoaderRequests: number;
  hostilePurgeRequests: number;
  problems: string[];
}

interface Truth {
  version: number;
  group: string;
  price: number;
  changedAt: number;
  lastEvent?: EntityUpdated;
}

const MAPPING: Mapping = {
  version: 0,
  id: 'checker.item',
  entityType: 'item',
  owner: 'checker',
  description: 'consistency checker: one reader-filled key, one warmed key, group listings (by key) and group pages (by tag)',
  keys: [
    { template: 'item:{entityId}', action: 'tombstone', tombstoneTtlSeconds: 3600 },
    { template: 'item-view:{entityId}', action: 'warm', warmFrom: 'after', ttlSeconds: 3600, tombstoneTtlSeconds: 3600 },
    { template: 'group:{after.group}:items', action: 'delete' },
    { template: 'group:{before.group}:items', action: 'delete' },
  ],
  // group pages are reached only through their tag: readers attach it at fill time
  tags: ['group-tag:{after.group}', 'group-tag:{before.group}'],
};

// A second team with its own keyspace. Its mapping is registered only mid-run: under
// STRICT_ENTITY_TYPES its earlier events are dead-lettered (UNKNOWN_ENTITY_TYPE), and only the
// DLQ replay can invalidate what readers cached meanwhile.
const PROMO_MAPPING: Mapping = {
  version: 0,
  id: 'promo.offer',
  entityType: 'offer',
  owner: 'promo',
  description: 'consistency checker: a second team, its own keyspace',
  keys: [{ template: 'promo:{entityId}', action: 'tombstone', tombstoneTtlSeconds: 3600 }],
  tags: [],
};

// The hostile team: granted the checker's entity type, with its own key prefix, loader host and
// purge host. Its registered mapping is valid but meets unsafe values (a label with a space), a
// purge target that always answers 404 and a loader that is slow and answers version 2^53-1.
const HOSTILE_LOADER_IP = '127.0.0.2';
const HOSTILE_PURGE_HOST = 'mallory.example';

function hostileMapping(loaderPort: number): Mapping {
  return {
    version: 0,
    id: 'mallory.item',
    entityType: 'item',
    owner: 'mallory',
    description: 'consistency checker: a hostile team granted the item type',
    keys: [
      {
        template: 'mallory:item:{entityId}',
        action: 'warm',
        warmFrom: { loaderUrl: `http://${HOSTILE_LOADER_IP}:${loaderPort}/slow/{entityId}` },
        ttlSeconds: 3600,
      },
    ],
    tags: ['mallory:label:{after.label}'],
    purge: { tags: true, urls: [`http://${HOSTILE_PURGE_HOST}/items/{entityId}`] },
  };
}

/** Written straight to the mappings topic (the registry would refuse it): it reaches into the checker's keys. */
const FOREIGN_MAPPING: Mapping = {
  version: 1,
  id: 'mallory.steal',
  entityType: 'item',
  owner: 'mallory',
  keys: [{ template: 'item:{entityId}', action: 'warm', warmFrom: 'after', ttlSeconds: 3600 }],
  tags: [],
};

const KEYSPACES = [
  ...['item:', 'item-view:', 'group:', 'group-tag:'].map((prefix) => ({
    op: 'put' as const,
    record: { kind: 'prefix' as const, prefix, team: 'checker', version: 0 },
  })),
  { op: 'put' as const, record: { kind: 'prefix' as const, prefix: 'promo:', team: 'promo', version: 0 } },
  { op: 'put' as const, record: { kind: 'prefix' as const, prefix: 'mallory:', team: 'mallory', version: 0 } },
  { op: 'put' as const, record: { kind: 'entityType' as const, entityType: 'item', team: 'checker', grants: ['mallory'], version: 0 } },
  { op: 'put' as const, record: { kind: 'entityType' as const, entityType: 'offer', team: 'promo', grants: [], version: 0 } },
  {
    op: 'put' as const,
    record: {
      kind: 'team' as const,
      team: 'mallory',
      loaderHosts: [HOSTILE_LOADER_IP],
      purgeHosts: [HOSTILE_PURGE_HOST],
      surrogateKeyPrefixes: ['mallory:'],
      version: 0,
    },
  },
];

/** CDC mode: the table the writers change. Its columns are not the mappings' field names on purpose (grp). */
const CDC_TABLE = 'checker_items';
const CDC_TABLE_SQL = `
DROP TABLE IF EXISTS ${CDC_TABLE};
CREATE TABLE ${CDC_TABLE} (
  id      text PRIMARY KEY,
  grp     text NOT NULL,
  price   integer NOT NULL,
  version integer NOT NULL CHECK (version >= 1),
  label   text NOT NULL,
  weight  numeric(8, 2) NOT NULL,
  cost    integer NOT NULL
);
ALTER TABLE ${CDC_TABLE} REPLICA IDENTITY FULL;
`;
/** A row's first write inserts it (Debezium op c), every later one updates it (op u, the old row in `before`). */
const CDC_UPSERT = `INSERT INTO ${CDC_TABLE} (id, grp, price, version, label, weight, cost) VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (id) DO UPDATE SET grp = EXCLUDED.grp, price = EXCLUDED.price, version = EXCLUDED.version,
  label = EXCLUDED.label, weight = EXCLUDED.weight, cost = EXCLUDED.cost`;
/**
 * The CDC invalidators' settings (apps/invalidator/src/config/invalidator.config.ts): every row is
 * an `item` at its version column; grp is the mappings' `group`; weight arrives as a decimal
 * string (decimal.handling.mode=string) and is a number in the event; cost never leaves the table.
 */
const CDC_SETTINGS = {
  EVENT_FORMAT: 'debezium',
  CDC_ENTITY_TYPE: 'item',
  CDC_ID_COLUMNS: 'id',
  CDC_VERSION_COLUMN: 'version',
  CDC_FIELDS: 'grp:group',
  CDC_NUMERIC_COLUMNS: 'weight',
  CDC_EXCLUDE_COLUMNS: 'cost',
};
/** CDC mode: a row no reader or sampler touches, written last to learn when Debezium has caught up. */
const CDC_MARKER_ID = 'marker';

export async function runConsistencyCheck(options: CheckOptions): Promise<CheckReport> {
  const log = options.log ?? (() => undefined);
  const entities = options.entities ?? 200;
  const groups = options.groups ?? 8;
  const windowMs = options.windowMs ?? 2_000;
  const keyTtlMs = options.keyTtlMs ?? 60_000;
  const samplesPerTick = options.samplesPerTick ?? 20;
  const ttlOnly = options.ttlOnly ?? false;
  const cdcMode = options.source === 'cdc';
  const cdc = options.cdc;
  if (cdcMode && !cdc) throw new Error("source 'cdc' needs options.cdc: a database URL and a way to start Kafka Connect workers");
  const started = Date.now();
  const topic = `checker-${Date.now()}`;
  const groupId = `checker-${Date.now()}`;
  // CDC mode: the run's replication slot, publication, connector name and Debezium topic prefix
  const slot = `checker_${Date.now()}`;
  /** What the invalidators read: the event topic, or the connector's topic of the table. */
  const sourceTopic = cdcMode ? `${slot}.public.${CDC_TABLE}` : topic;
  const kafka = createKafka({ clientId: 'checker', brokers: options.brokers.split(','), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await withAdminRetry('connect admin', () => admin.connect());
  // a repeat after a retriable error that came after the creation is answered `false` by kafkajs, not an error
  await withAdminRetry(`createTopics(${sourceTopic}, ${topic}.dlq)`, () =>
    admin.createTopics({
      topics: [
        { topic: sourceTopic, numPartitions: 6 },
        { topic: `${topic}.dlq`, numPartitions: 1 },
      ],
      waitForLeaders: true,
    }),
  );

  const dir = mkdtempSync(join(tmpdir(), 'checker-'));
  // Mappings and keyspaces through the registry's compacted topic, as in production.
  const mappingsTopic = `${topic}.mappings`;
  const registry = new MappingStore({
    brokers: options.brokers.split(','),
    topic: mappingsTopic,
    createTopic: true,
    clientId: 'checker-registry',
    // the hostile team's loader runs on a loopback address: allow-listed, as the invalidator's LOADER_ALLOWED_HOSTS below
    allowedHosts: { loader: parseHostAllowList(HOSTILE_LOADER_IP, 'LOADER_ALLOWED_HOSTS'), purge: EMPTY_ALLOW_LIST },
  });
  await registry.start();
  await registry.writeKeyspaces(KEYSPACES, { actor: 'checker' });
  await registry.put(MAPPING, { actor: 'checker' });
  // the hostile team's sinks: a slow loader claiming a far-future version, a purge target that always says 404
  const slowLoader = await startRecordingServer(HOSTILE_LOADER_IP, (req, res) => {
    setTimeout(() => {
      res
        .writeHead(200, { 'content-type': 'application/json', 'x-entity-version': String(Number.MAX_SAFE_INTEGER) })
        .end(JSON.stringify({ path: req.path, stolen: true }));
    }, 1_500);
  });
  const failingPurge = await startRecordingServer('127.0.0.3', answerJson(404, { error: 'not found' }));
  await registry.put(hostileMapping(slowLoader.port), { actor: 'mallory' });
  const headroom = options.evictionHeadroomBytes ?? 150_000;
  let redisNode: RedisNodeInfo = await startRedisNode(join(dir, 'redis'));
  const redis = new Redis({ host: '127.0.0.1', port: redisNode.port, maxRetriesPerRequest: 1, retryStrategy: () => 100 });
  redis.on('error', () => undefined);
  const limitMemory = async () => {
    if (headroom <= 0) return;
    const used = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1] ?? 0);
    await redis.config('SET', 'maxmemory-policy', 'allkeys-lru');
    await redis.config('SET', 'maxmemory', String(used + headroom));
  };
  await limitMemory();
  const protocol = new CacheProtocol(redis);
  const client = new CacheClient(redis, { name: 'checker', redisTimeoutMs: 500 });
  const publisher = new EntityPublisher({ brokers: options.brokers.split(','), topic });
  const rawProducer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await rawProducer.connect();

  const env = {
    KAFKA_BROKERS: options.brokers,
    KAFKA_TOPIC: sourceTopic,
    KAFKA_DLQ_TOPIC: `${topic}.dlq`,
    KAFKA_GROUP_ID: groupId,
    REDIS_URL: `redis://127.0.0.1:${redisNode.port}`,
    MAPPINGS_SOURCE: 'kafka',
    KAFKA_MAPPINGS_TOPIC: mappingsTopic,
    STRICT_ENTITY_TYPES: 'true',
    KEYSPACES_REQUIRED: 'false', // the checker's mappings are written without keyspaces
    SESSION_TIMEOUT_MS: '6000',
    // Short, so the broker freeze fault outlasts it: every request in flight times out.
    KAFKA_REQUEST_TIMEOUT_MS: '2000',
    CHUNK_SIZE: '100',
    RETRY_INITIAL_MS: '50',
    RETRY_MAX_MS: '500',
    LOADER_ALLOWED_HOSTS: HOSTILE_LOADER_IP,
    PURGE_TARGETS: `varnish:${failingPurge.url}`,
    ...(cdcMode ? CDC_SETTINGS : {}),
  };
  const instances: InvalidatorProcess[] = [];
  const faults: string[] = [];
  const problems: string[] = [];
  const truth = new Map<string, Truth>();
  const ids = Array.from({ length: entities }, (_, i) => `it${i}`);
  for (const id of ids) truth.set(id, { version: 0, group: `g${Number(id.slice(2)) % groups}`, price: 0, changedAt: 0 });
  const report = {
    writes: 0,
    eventsPublished: 0,
    duplicatesPublished: 0,
    reorderedPublished: 0,
    poisonPublished: 0,
    reads: 0,
    staleReads: 0,
    staleReadsBeyondWindow: 0,
    samples: 0,
    samplesConsistentWithinWindow: 0,
    transactions: 0,
    multiRowTransactions: 0,
    rolledBackTransactions: 0,
  };
  let running = true;
  const history: EntityUpdated[] = [];
  // the second team: a few offers, written only until its mapping is registered
  const promoIds = Array.from({ length: 20 }, (_, i) => `of${i}`);
  const promoTruth = new Map(promoIds.map((id) => [id, 0]));
  // CDC mode has no second team: its events would go to the event topic, which nothing reads then
  let promoWriting = !cdcMode;
  let promoEvents = 0;
  let dlqReplayed = 0;
  let evictedBefore = 0; // evicted_keys of Redis processes already stopped
  const evictedNow = async () => Number(/evicted_keys:(\d+)/.exec(await redis.info('stats'))?.[1] ?? 0);
  // values large enough that the maxmemory limit is reached and keys are really evicted
  const PAD = 'x'.repeat(512);

  const listingOf = (group: string) =>
    ids
      .filter((id) => truth.get(id)!.version > 0 && truth.get(id)!.group === group)
      .sort()
      .map((id) => ({ id, version: truth.get(id)!.version }));

  // ---- writers: the truth changes, then its event is published (as an outbox relay would) ----
  const writer = async () => {
    const perTick = Math.max(1, Math.round((options.writesPerSecond ?? 200) / 20));
    while (running) {
      const events: EntityUpdated[] = [];
      for (let i = 0; i < perTick; i += 1) {
        const id = ids[Math.floor(Math.random() * ids.length)];
        const t = truth.get(id)!;
        const before = t.version > 0 ? { group: t.group, price: t.price } : undefined;
        const next: Truth = {
          version: t.version + 1,
          group: Math.random() < 0.2 ? `g${Math.floor(Math.random() * groups)}` : t.group,
          price: Math.round(Math.random() * 1000),
          changedAt: Date.now(),
        };
        // the hostile team's tag template renders `label`: now and then a value it must refuse (a space)
        const label = Math.random() < 0.3 ? 'on sale' : `l${next.version % 5}`;
        const event = buildEntityUpdated({
          entityType: 'item',
          entityId: id,
          version: next.version,
          before,
          after: { group: next.group, price: next.price, version: next.version, label },
        });
        next.lastEvent = event;
        truth.set(id, next);
        events.push(event);
        history.push(event);
        report.writes += 1;
      }
      await publisher.publishMany(events);
      report.eventsPublished += events.length;
      // duplicates (same eventId, and same version under a new id), reordered old events, poison
      if (Math.random() < 0.3) {
        const e = events[0];
        await publisher.publishMany([e, { ...e, eventId: `${e.eventId}-dup` }]);
        report.duplicatesPublished += 2;
      }
      if (Math.random() < 0.2 && history.length > 50) {
        const old = history[Math.floor(Math.random() * (history.length - 50))];
        await publisher.publishMany([old]);
        report.reorderedPublished += 1;
      }
      if (Math.random() < 0.05) {
        await rawProducer.send({
          topic,
          messages: [
            { key: 'poison', value: '{"eventId": broken' },
            { key: 'poison', value: JSON.stringify({ entityType: 'item', entityId: 'x y', version: -1 }) },
          ],
        });
        report.poisonPublished += 2;
      }
      if (promoWriting) {
        const id = promoIds[Math.floor(Math.random() * promoIds.length)];
        const version = promoTruth.get(id)! + 1;
        promoTruth.set(id, version);
        await publisher.publishMany([buildEntityUpdated({ entityType: 'offer', entityId: id, version, after: { discount: version } })]);
        promoEvents += 1;
      }
      await sleep(50);
    }
  };

  // ---- CDC mode: the rows live in PostgreSQL; Kafka Connect + Debezium turn their changes into records ----
  // The writers' connections: each writer owns its share of the ids, so one row's transactions and
  // truth updates stay in commit order. One per 200 writes a second asked for (a connection's
  // transactions are sequential round trips).
  const writerCount = cdcMode ? Math.min(8, entities, Math.ceil((options.writesPerSecond ?? 200) / 200)) : 0;
  const sqlWriters: PgClient[] = [];
  let pgAdmin: PgClient | undefined; // the table, slot positions, markers and the final move (after the writers stopped), teardown
  let worker: ConnectInfo | undefined; // the Connect worker running now
  let cdcRowChanges = 0; // every committed row change (writers, markers, the final move): one record each on the CDC topic
  let markerVersion = 0;
  const pgConnect = async (what: string) => {
    const client = new PgClient({ connectionString: cdc!.databaseUrl });
    client.on('error', (error: Error) => problems.push(`PostgreSQL connection (${what}): ${error.message}`));
    await client.connect();
    return client;
  };

  /** One transaction writing `rows` in order; the truth follows only once COMMIT returned (the last change of a row wins). */
  const commitRows = async (sql: PgClient, rows: { id: string; next: Truth; label: string }[], rollback = false) => {
    await sql.query('BEGIN');
    try {
      for (const { id, next, label } of rows)
        await sql.query(CDC_UPSERT, [id, next.group, next.price, next.version, label, (next.price / 100).toFixed(2), next.price * 3]);
    } catch (error) {
      await sql.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
    await sql.query(rollback ? 'ROLLBACK' : 'COMMIT');
    if (rollback) return;
    const committedAt = Date.now();
    for (const { id, next } of rows) truth.set(id, { ...next, changedAt: committedAt });
    cdcRowChanges += rows.length;
  };

  // ---- CDC writers: transactions of one to four rows (a row may change twice in one), now and then one rolled back ----
  const sqlWriter = async (k: number) => {
    const sql = sqlWriters[k];
    const own = ids.filter((_, i) => i % writerCount === k);
    const perTick = Math.max(1, Math.round((options.writesPerSecond ?? 200) / 20 / writerCount));
    try {
      while (running) {
        for (let left = perTick; left > 0 && running;) {
          const size = Math.min(left, 1 + Math.floor(Math.random() * 4));
          left -= size;
          const pending = new Map<string, Truth>();
          const rows: { id: string; next: Truth; label: string }[] = [];
          for (let i = 0; i < size; i += 1) {
            const id = own[Math.floor(Math.random() * own.length)];
            const t = pending.get(id) ?? truth.get(id)!;
            const next: Truth = {
              version: t.version + 1,
              group: Math.random() < 0.2 ? `g${Math.floor(Math.random() * groups)}` : t.group,
              price: Math.round(Math.random() * 1000),
              changedAt: 0,
            };
            pending.set(id, next);
            // the hostile team's tag template renders `label`: now and then a value it must refuse (a space)
            rows.push({ id, next, label: Math.random() < 0.3 ? 'on sale' : `l${next.version % 5}` });
          }
          // A rolled-back transaction is never decoded from the WAL: nothing may come of it.
          const rollback = Math.random() < 0.05;
          await commitRows(sql, rows, rollback);
          if (rollback) {
            report.rolledBackTransactions += 1;
            continue;
          }
          report.transactions += 1;
          if (rows.length > 1) report.multiRowTransactions += 1;
          report.writes += rows.length;
        }
        await sleep(50);
      }
    } catch (error) {
      problems.push(`CDC writer ${k} stopped: ${(error as Error).message}`);
    }
  };

  /** The table; unless TTL-only, its publication, a Connect worker and the connector, running before any write. */
  const cdcSetup = async () => {
    for (let k = 0; k < writerCount; k += 1) sqlWriters.push(await pgConnect(`writer ${k}`));
    pgAdmin = await pgConnect('admin');
    await pgAdmin.query(CDC_TABLE_SQL);
    if (ttlOnly) return;
    await pgAdmin.query(`CREATE PUBLICATION ${slot} FOR TABLE ${CDC_TABLE}`);
    worker = await cdc!.startConnectWorker();
    const url = new URL(cdc!.databaseUrl);
    const config = tableConnectorConfig({
      port: Number(url.port),
      database: url.pathname.slice(1),
      table: CDC_TABLE,
      slot,
      publication: slot,
      partitions: 6,
    });
    await registerConnector(worker, slot, config, 120_000);
    // No snapshot: changes are captured from the slot's creation on, so the writers start once it exists.
    await waitFor(
      `replication slot ${slot}`,
      async () => ((await pgAdmin!.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [slot])).rowCount ? true : undefined),
      60_000,
    );
    log(`Kafka Connect worker ${worker.url} streams ${CDC_TABLE} to ${sourceTopic}`);
  };

  /**
   * The Connect fault: kill -9 of the worker's JVM (no offset flush, no clean leave of its group),
   * then a new worker in the same group. It must run the connector again and resume from the
   * offsets stored in Kafka and the slot's position: whatever the dead worker had not flushed is
   * sent again (duplicates), nothing committed may be missing. Never throws: a failure is a problem.
   */
  const crashConnectWorker = async () => {
    try {
      const dead = worker!;
      await killConnect(dead);
      faults.push(`${((Date.now() - started) / 1000).toFixed(1)}s kill -9 Kafka Connect worker (pid ${dead.pid})`);
      log('kill -9 Kafka Connect worker');
      const restartStart = Date.now();
      worker = await cdc!.startConnectWorker();
      await waitForConnectorRunningOn(worker, slot, 180_000);
      faults.push(
        `${((Date.now() - started) / 1000).toFixed(1)}s new Kafka Connect worker (same group): connector RUNNING on it after ${((Date.now() - restartStart) / 1000).toFixed(1)} s`,
      );
      log('Kafka Connect worker replaced');
    } catch (error) {
      problems.push(`Kafka Connect after its kill -9: ${(error as Error).message}`);
    }
  };

  /**
   * CDC mode, the first half of convergence: every row change committed so far is in Kafka.
   * After the writers' last COMMIT returned, a marker row is written (M1) and the server's WAL
   * position P is read after its COMMIT returned, so every writer's commit record and M1's lie
   * below P; then the marker is written again (M2), whose records lie above P. Debezium
   * confirms a position to the slot (confirmed_flush_lsn) only for what Connect has committed as
   * source offsets, and Connect commits an offset only once every record before it was
   * acknowledged by the broker. So once confirmed_flush_lsn >= P, every change committed before P
   * is on the CDC topic; M2 makes sure a later change exists to carry the confirmed position past
   * P, whether Debezium confirms a transaction's commit position or its end. End offsets read
   * after that include them all, and the group committed to them has applied them all. (The
   * marker alone seen in Redis would not do: eviction may drop it, and Connect's producer may
   * deliver the marker's partition before an earlier record retried on another.)
   */
  const cdcCaughtUp = async (deadline: number): Promise<boolean> => {
    const writeMarker = () => {
      markerVersion += 1;
      return commitRows(pgAdmin!, [
        { id: CDC_MARKER_ID, next: { version: markerVersion, group: 'marker', price: 0, changedAt: 0 }, label: 'marker' },
      ]);
    };
    await writeMarker();
    const target = (await pgAdmin!.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0].lsn;
    await writeMarker();
    let confirmed = '';
    while (Date.now() < deadline) {
      const { rows } = await pgAdmin!.query<{ confirmed: string | null; done: boolean | null }>(
        'SELECT confirmed_flush_lsn::text AS confirmed, pg_wal_lsn_diff(confirmed_flush_lsn, $2::pg_lsn) >= 0 AS done FROM pg_replication_slots WHERE slot_name = $1',
        [slot, target],
      );
      if (rows[0]?.done) return true;
      confirmed = rows[0]?.confirmed ?? '(no slot)';
      await sleep(100);
    }
    const status = worker ? await connectRequest(worker, 'GET', `/connectors/${slot}/status`).catch((e: Error) => e.message) : 'no worker';
    problems.push(
      `Debezium did not catch up: slot ${slot} confirmed ${confirmed}, WAL position to pass ${target}; connector status ${JSON.stringify(status).slice(0, 1_000)}; worker log ${worker?.logFile ?? '-'}`,
    );
    return false;
  };

  /** Connector, worker, slot and publication go; the table stays for a look after the run. */
  const cdcTeardown = async () => {
    if (worker) {
      await connectRequest(worker, 'DELETE', `/connectors/${slot}`).catch(() => undefined);
      await stopConnect(worker);
    }
    if (pgAdmin && !ttlOnly) {
      // A slot pins WAL and blocks DROP DATABASE; it can be dropped once its walsender is gone.
      await waitFor(
        `replication slot ${slot} dropped`,
        async () => {
          await pgAdmin!.query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active', [
            slot,
          ]);
          return (await pgAdmin!.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [slot])).rowCount === 0
            ? true
            : undefined;
        },
        30_000,
      ).catch((error: Error) => log(error.message));
      await pgAdmin.query(`DROP PUBLICATION IF EXISTS ${slot}`).catch(() => undefined);
    }
    await Promise.all([...sqlWriters, ...(pgAdmin ? [pgAdmin] : [])].map((c) => c.end().catch(() => undefined)));
  };

  // ---- readers through the cache client; a read is stale if it returns less than the truth had before it started ----
  const reader = async () => {
    while (running) {
      const id = ids[Math.floor(Math.random() * ids.length)];
      const before = truth.get(id)!;
      const readStart = Date.now();
      const dice = Math.random();
      if (dice < 0.08) {
        // a slow fill of the warmed key: the invalidator's warms race it (a lagging replica's read)
        const value = await client.getOrLoad(
          `item-view:${id}`,
          async () => {
            const t = truth.get(id)!;
            await sleep(20 + Math.random() * 40);
            return { value: { group: t.group, price: t.price, version: t.version }, version: t.version };
          },
          { ttlMs: keyTtlMs, waitMs: 500, loaderTimeoutMs: 2_000 },
        );
        report.reads += 1;
        if (value.version < before.version) {
          report.staleReads += 1;
          if (readStart - before.changedAt > windowMs) report.staleReadsBeyondWindow += 1;
        }
      } else if (dice < 0.13) {
        const offer = promoIds[Math.floor(Math.random() * promoIds.length)];
        await client.getOrLoad(
          `promo:${offer}`,
          () => Promise.resolve({ value: { discount: promoTruth.get(offer)! }, version: promoTruth.get(offer)! }),
          { ttlMs: keyTtlMs, waitMs: 500, loaderTimeoutMs: 2_000 },
        );
      } else if (dice < 0.8) {
        const value = await client.getOrLoad(
          `item:${id}`,
          async () => {
            const t = truth.get(id)!;
            await sleep(Math.random() * 5); // a loader takes time: the window where a stale fill could race an invalidation
            return { value: { version: t.version, price: t.price, pad: PAD }, version: t.version };
          },
          { ttlMs: keyTtlMs, waitMs: 500, loaderTimeoutMs: 2_000 },
        );
        report.reads += 1;
        if (value.version < before.version) {
          report.staleReads += 1;
          if (readStart - before.changedAt > windowMs) report.staleReadsBeyondWindow += 1;
        }
      } else if (Math.random() < 0.5) {
        const group = `g${Math.floor(Math.random() * groups)}`;
        await client.getOrLoad(`group:${group}:items`, () => Promise.resolve({ value: listingOf(group), version: 0 }), {
          ttlMs: keyTtlMs,
          waitMs: 500,
          loaderTimeoutMs: 2_000,
        });
        report.reads += 1;
      } else {
        const group = `g${Math.floor(Math.random() * groups)}`;
        await client.getOrLoad(`group-page:${group}`, () => Promise.resolve({ value: listingOf(group), version: 0 }), {
          ttlMs: keyTtlMs,
          waitMs: 500,
          loaderTimeoutMs: 2_000,
          tags: [`group-tag:${group}`],
        });
        report.reads += 1;
      }
      await sleep(2); // a reader is a request handler, not a busy loop: leave CPU to the system under test
    }
  };

  // ---- sampler: what Redis holds vs. the truth ----
  const sampler = async () => {
    while (running) {
      const sample = Array.from({ length: samplesPerTick }, () => ids[Math.floor(Math.random() * ids.length)]);
      const states = await Promise.all(sample.map((id) => protocol.inspect(`item:${id}`).catch(() => undefined)));
      const now = Date.now();
      sample.forEach((id, i) => {
        const s = states[i];
        if (!s) return; // Redis down: nothing cached, nothing stale
        report.samples += 1;
        const t = truth.get(id)!;
        const cached = s.entry?.version;
        if (cached === undefined || cached >= t.version || now - t.changedAt <= windowMs) report.samplesConsistentWithinWindow += 1;
      });
      await sleep(100);
    }
  };

  const spawn = async (why: string) => {
    const p = await spawnInvalidator(env);
    instances.push(p);
    faults.push(`${((Date.now() - started) / 1000).toFixed(1)}s ${why}`);
    log(why);
    return p;
  };

  /** The group page a reader is served now (a miss loads the truth). */
  const servedPage = async (group: string): Promise<string> =>
    JSON.stringify(
      await client.getOrLoad(`group-page:${group}`, () => Promise.resolve({ value: listingOf(group), version: 0 }), {
        ttlMs: keyTtlMs,
        tags: [`group-tag:${group}`],
      }),
    );

  const ninesOf = () => {
    const consistent = report.samples === 0 ? 1 : report.samplesConsistentWithinWindow / report.samples;
    return consistent >= 1 ? Infinity : -Math.log10(1 - consistent);
  };

  try {
    if (cdcMode) await cdcSetup();
    // CDC mode: the faults' schedule starts once Connect runs (its start takes seconds the first faults would lose)
    const scheduleStart = cdcMode ? Date.now() : started;
    if (!ttlOnly) {
      await spawn('start invalidator #1');
      // the hostile team writes a mapping into the checker's keys straight to the topic, past the registry
      await rawProducer.send({ topic: mappingsTopic, messages: [{ key: FOREIGN_MAPPING.id, value: JSON.stringify(FOREIGN_MAPPING) }] });
      faults.push(`${((Date.now() - started) / 1000).toFixed(1)}s hostile mapping written straight to the mappings topic`);
    }
    const writers = cdcMode ? Array.from({ length: writerCount }, (_, k) => sqlWriter(k)) : [writer()];
    const loops = [...writers, sampler(), ...Array.from({ length: options.readers ?? 8 }, () => reader())];
    if (ttlOnly) {
      // No invalidator, no faults: the same workload, and keys live until their TTL.
      await sleep(options.durationMs);
      running = false;
      await Promise.allSettled(loops);
      let staleAtEnd = 0;
      for (const id of ids) {
        const entry = (await protocol.inspect(`item:${id}`)).entry;
        if (entry && entry.version < truth.get(id)!.version) staleAtEnd += 1;
      }
      return {
        ...report,
        mode: 'ttl-only',
        source: cdcMode ? 'cdc' : 'events',
        cdcRowChanges,
        cdcRecords: 0,
        keyTtlMs,
        evictedKeys: await evictedNow().catch(() => 0),
        promoEvents,
        dlqReplayed: 0,
        promoStaleAfterConvergence: 0,
        hostileDeadLetters: 0,
        hostileLoaderRequests: 0,
        hostilePurgeRequests: 0,
        durationMs: Date.now() - started,
        faults: [],
        windowMs,
        ninesWithinWindow: ninesOf(),
        convergenceMs: 0,
        keysChecked: ids.length,
        tagPurgesVerified: 0,
        staleEntriesAfterConvergence: staleAtEnd,
        lostInvalidations: staleAtEnd,
        problems: problems.slice(0, 20),
      };
    }
    const d = options.durationMs;
    const at = async (fraction: number) => {
      const wait = scheduleStart + d * fraction - Date.now();
      if (wait > 0) await sleep(wait);
    };
    await at(0.1);
    await spawn('start invalidator #2 (rebalance)');
    await at(0.25);
    const victim = instances[0];
    await victim.kill9();
    faults.push(`${((Date.now() - started) / 1000).toFixed(1)}s kill -9 invalidator #1`);
    log('kill -9 invalidator #1');
    let connectBack: Promise<void> = Promise.resolve();
    if (cdcMode) {
      // Connect's crash and replacement run beside the next faults; awaited before the broker freeze
      await at(0.3);
      connectBack = crashConnectWorker();
    }
    await at(0.35);
    await spawn('restart invalidator #1 (rebalance)');
    if (!cdcMode) {
      await at(0.45);
      // the second team's mapping arrives; its dead-lettered events are replayed from the DLQ
      promoWriting = false;
      await registry.put(PROMO_MAPPING, { actor: 'promo' });
      await sleep(1_000); // the invalidators' followers pick the mapping up (bounded by the follower's fetch wait)
      const replayOut: string[] = [];
      const replayCode = await runDlqCli(
        ['replay', '--reason', 'UNKNOWN_ENTITY_TYPE', '--brokers', options.brokers, '--dlq-topic', `${topic}.dlq`],
        {
          env: {},
          out: (line) => replayOut.push(line),
          err: (line) => replayOut.push(line),
        },
      );
      dlqReplayed = Number(/replayed\D*(\d+)/i.exec(replayOut.join('\n'))?.[1] ?? 0);
      faults.push(
        `${((Date.now() - started) / 1000).toFixed(1)}s promo mapping registered, DLQ replay (exit ${replayCode}, ${dlqReplayed} replayed)`,
      );
      if (replayCode !== 0) problems.push(`dlq replay exit ${replayCode}: ${replayOut.slice(-3).join(' | ')}`);
      log(`DLQ replay: ${replayOut.slice(-1)[0] ?? ''}`);
    }
    await at(0.5);
    evictedBefore += await evictedNow().catch(() => 0);
    await stopRedisNode(redisNode);
    faults.push(`${((Date.now() - started) / 1000).toFixed(1)}s Redis stopped`);
    log('Redis stopped');
    await sleep(1_500);
    redisNode = await startRedisNode(redisNode.dir, { port: redisNode.port });
    await limitMemory().catch((error: Error) => problems.push(`maxmemory not set after the Redis restart: ${error.message}`));
    faults.push(`${((Date.now() - started) / 1000).toFixed(1)}s Redis restarted (empty)`);
    log('Redis restarted');
    await at(0.65);
    await spawn('start invalidator #3 (rebalance)');
    // the broker freeze meets a Connect worker that runs the connector, not one still starting
    await connectBack;
    if (options.freezeBroker) {
      await at(0.7);
      const frozenAt = ((Date.now() - started) / 1000).toFixed(1);
      await options.freezeBroker(6_000);
      faults.push(`${frozenAt}s Kafka broker frozen 6 s (SIGSTOP, request timeout 2 s)`);
      log('Kafka broker woken');
    }
    await at(0.8);
    const leaving = instances[1];
    const code = await leaving.terminate(20_000);
    faults.push(`${((Date.now() - started) / 1000).toFixed(1)}s SIGTERM invalidator #2 (exit ${code})`);
    if (code !== 0) problems.push(`SIGTERM exit code ${code}`);
    await at(1);
    running = false;
    await Promise.allSettled(loops);

    // ---- convergence: everything published is committed by the group ----
    let stuck = false;
    /** The highest committed offset seen per partition: a commit that moves back is a bug to name. */
    const highest = new Map<number, number>();
    const converge = async (): Promise<number> => {
      const convergeStart = Date.now();
      // CDC mode: first every committed row change must be on the topic (see cdcCaughtUp), then committed by the group.
      if (cdcMode && !stuck && !(await cdcCaughtUp(convergeStart + 90_000))) stuck = true;
      // Once stuck, the report already says why; waiting again would only outlast the test's timeout.
      for (; !stuck;) {
        const { committed, end, partitions } = await groupProgress(admin, groupId, sourceTopic);
        for (const p of partitions) {
          const before = highest.get(p.partition) ?? 0;
          if (p.committed < before)
            problems.push(`committed offset of partition ${p.partition} moved back from ${before} to ${p.committed}`);
          else highest.set(p.partition, p.committed);
        }
        if (committed === end) return Date.now() - convergeStart;
        if (Date.now() - convergeStart > 90_000) {
          // Name the partitions left behind and what the live invalidators said last, so a
          // liveness failure can be understood from the report alone.
          const behind = partitions.filter((p) => p.committed < p.end).map((p) => `p${p.partition} ${p.committed}/${p.end}`);
          const said = instances
            .filter((p) => p.child.exitCode === null)
            .map((p, i) => `--- live invalidator ${i + 1} (last lines) ---\n${p.output().trim().split('\n').slice(-40).join('\n')}`);
          problems.push(`did not converge: committed ${committed} of ${end} (behind: ${behind.join(', ')})\n${said.join('\n')}`);
          stuck = true;
        }
        await sleep(100);
      }
      return Date.now() - convergeStart;
    };
    const convergenceMs = await converge();

    // ---- a final move through the tag path: both group pages are cached, one item moves, both must be purged ----
    const mover = ids.find((id) => truth.get(id)!.version > 0)!;
    const from = truth.get(mover)!.group;
    const to = from === 'g0' ? 'g1' : 'g0';
    for (const g of [from, to]) {
      await client.getOrLoad(`group-page:${g}`, () => Promise.resolve({ value: listingOf(g), version: 0 }), {
        ttlMs: 60_000,
        tags: [`group-tag:${g}`],
      });
      if (!(await protocol.inspect(`group-page:${g}`)).entry && headroom <= 0)
        problems.push(`group-page:${g} was not cached before the final move`);
    }
    const t = truth.get(mover)!;
    const moved: Truth = { version: t.version + 1, group: to, price: t.price, changedAt: Date.now() };
    if (cdcMode) await commitRows(pgAdmin!, [{ id: mover, next: moved, label: `l${moved.version % 5}` }]);
    else {
      truth.set(mover, moved);
      await publisher.publishMany([
        buildEntityUpdated({
          entityType: 'item',
          entityId: mover,
          version: moved.version,
          before: { group: from, price: t.price },
          after: { group: to, price: t.price, version: moved.version },
        }),
      ]);
    }
    await converge();
    let tagPurges = 0;
    for (const g of [from, to]) {
      // What a reader is served: a tagged value whose tag moved on reads as a miss (the epoch it
      // recorded is stale), even where the value is still in Redis or the member set was evicted.
      const served = await servedPage(g);
      if (served !== JSON.stringify(listingOf(g)))
        problems.push(`group-page:${g} served the listing from before the move of ${mover} (tag not purged)`);
      else tagPurges += 1;
    }

    // ---- after convergence: nothing stale, nothing lost ----
    let stale = 0;
    let lost = 0;
    for (const id of ids) {
      const t = truth.get(id)!;
      if (t.version === 0) continue;
      const [item, view] = await Promise.all([protocol.inspect(`item:${id}`), protocol.inspect(`item-view:${id}`)]);
      if (item.entry && item.entry.version < t.version) {
        stale += 1;
        if ((item.tombstoneVersion ?? 0) < t.version) lost += 1;
        problems.push(`item:${id} holds v${item.entry.version}, truth v${t.version}`);
      }
      if (view.entry && view.entry.version < t.version) {
        stale += 1;
        lost += 1;
        problems.push(`item-view:${id} holds v${view.entry.version}, truth v${t.version}`);
      }
      // CDC mode: a value warmed from the row is the row as the mappings name it (group, not grp),
      // its numeric column a number, its excluded column absent
      if (cdcMode && view.entry && view.entry.version === t.version) {
        const value = JSON.parse(view.entry.payload) as Record<string, unknown>;
        const wrong = [
          value.group !== t.group && `group ${String(value.group)} (truth ${t.group})`,
          value.price !== t.price && `price ${String(value.price)} (truth ${t.price})`,
          'weight' in value && typeof value.weight !== 'number' && `weight ${JSON.stringify(value.weight)} is not a number`,
          'grp' in value && 'column grp not renamed',
          'cost' in value && 'excluded column cost present',
        ].filter(Boolean);
        if (wrong.length > 0) problems.push(`item-view:${id} at v${t.version}: ${wrong.join(', ')}`);
      }
    }
    let promoStale = 0;
    for (const id of promoIds) {
      const entry = (await protocol.inspect(`promo:${id}`)).entry;
      if (entry && entry.version < promoTruth.get(id)!) {
        promoStale += 1;
        problems.push(`promo:${id} holds v${entry.version}, truth v${promoTruth.get(id)} (dead-lettered event not replayed?)`);
      }
    }
    for (let g = 0; g < groups; g += 1) {
      const listing = await protocol.inspect(`group:g${g}:items`);
      if (listing.entry && listing.entry.payload !== JSON.stringify(listingOf(`g${g}`))) {
        stale += 1;
        problems.push(`group:g${g}:items differs from the truth`);
      }
      if ((await servedPage(`g${g}`)) !== JSON.stringify(listingOf(`g${g}`))) {
        stale += 1;
        problems.push(`group-page:g${g} served a listing that differs from the truth`);
      }
    }
    const hostileDeadLetters = await countDeadLettersOf(kafka, `${topic}.dlq`, 'mallory');
    let cdcRecords = 0;
    if (cdcMode) {
      const ends = await withAdminRetry(`fetchTopicOffsets(${sourceTopic})`, () => admin.fetchTopicOffsets(sourceTopic));
      cdcRecords = ends.reduce((n, p) => n + Number(p.high), 0);
      // one record per committed row change, more where Connect sent some again after its crash, never fewer
      if (cdcRecords < cdcRowChanges) problems.push(`${cdcRecords} records on ${sourceTopic} for ${cdcRowChanges} committed row changes`);
    }
    return {
      ...report,
      mode: 'event-driven',
      source: cdcMode ? 'cdc' : 'events',
      cdcRowChanges,
      cdcRecords,
      keyTtlMs,
      evictedKeys: evictedBefore + (await evictedNow().catch(() => 0)),
      promoEvents,
      dlqReplayed,
      promoStaleAfterConvergence: promoStale,
      hostileDeadLetters,
      hostileLoaderRequests: slowLoader.seen.length,
      hostilePurgeRequests: failingPurge.seen.length,
      durationMs: Date.now() - started,
      faults,
      windowMs,
      ninesWithinWindow: ninesOf(),
      convergenceMs,
      keysChecked: ids.length * 2 + groups * 2,
      tagPurgesVerified: tagPurges,
      staleEntriesAfterConvergence: stale,
      lostInvalidations: lost,
      problems: problems.slice(0, 20),
    };
  } finally {
    running = false;
    await Promise.all(instances.filter((p) => p.child.exitCode === null).map((p) => p.kill9()));
    await cdcTeardown();
    await publisher.disconnect().catch(() => undefined);
    await rawProducer.disconnect().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    await registry.stop().catch(() => undefined);
    await client.close().catch(() => undefined);
    await Promise.all([slowLoader.close(), failingPurge.close()]);
    redis.disconnect();
    await stopRedisNode(redisNode);
  }
}

/** Dead letters in `dlqTopic` whose x-dlq-team header names `team` (read from the beginning to the current end). */
async function countDeadLettersOf(kafka: ReturnType<typeof createKafka>, dlqTopic: string, team: string): Promise<number> {
  const admin = kafka.admin();
  await withAdminRetry('connect admin', () => admin.connect());
  const ends = await withAdminRetry(`fetchTopicOffsets(${dlqTopic})`, () => admin.fetchTopicOffsets(dlqTopic)).finally(() =>
    admin.disconnect(),
  );
  const total = ends.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
  if (total === 0) return 0;
  const consumer = kafka.consumer({ groupId: `checker-dlq-count-${Date.now()}` });
  let seen = 0;
  let ofTeam = 0;
  await consumer.connect();
  await consumer.subscribe({ topic: dlqTopic, fromBeginning: true });
  const done = new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: ({ message }) => {
        seen += 1;
        if (message.headers?.['x-dlq-team']?.toString() === team) ofTeam += 1;
        if (seen >= total) resolve();
        return Promise.resolve();
      },
    });
  });
  await Promise.race([done, sleep(30_000)]);
  await consumer.disconnect();
  return ofTeam;
}

export function formatReport(r: CheckReport): string {
  const nines = Number.isFinite(r.ninesWithinWindow) ? r.ninesWithinWindow.toFixed(2) : 'all samples';
  const staleRate = r.reads === 0 ? 0 : r.staleReads / r.reads;
  const transactions =
    r.source === 'cdc'
      ? ` to PostgreSQL in ${r.transactions} transactions (${r.multiRowTransactions} of several rows; ${r.rolledBackTransactions} more rolled back)`
      : '';
  if (r.mode === 'ttl-only') {
    return [
      `TTL-only baseline (no invalidator, key TTL ${r.keyTtlMs / 1000} s): duration ${(r.durationMs / 1000).toFixed(0)} s, writes ${r.writes}${transactions}`,
      `reads ${r.reads}: stale ${r.staleReads} (${(staleRate * 100).toFixed(3)}% of reads; beyond the ${r.windowMs} ms window: ${r.staleReadsBeyondWindow})`,
      `samples ${r.samples}: ${nines} nines of keys consistent within ${r.windowMs / 1000} s`,
      `stale entries at the end: ${r.staleEntriesAfterConvergence} of ${r.keysChecked} keys`,
    ].join('\n');
  }
  return [
    r.source === 'cdc'
      ? `CDC: duration ${(r.durationMs / 1000).toFixed(0)} s, writes ${r.writes}${transactions}; ${r.cdcRecords} Debezium records for ${r.cdcRowChanges} committed row changes (markers included; the surplus was sent again after the Connect kill)`
      : `duration ${(r.durationMs / 1000).toFixed(0)} s, writes ${r.writes}, events ${r.eventsPublished} (+${r.duplicatesPublished} duplicates, ${r.reorderedPublished} reordered, ${r.poisonPublished} poison)`,
    `faults: ${r.faults.join('; ')}`,
    `reads ${r.reads}: stale ${r.staleReads} (${(staleRate * 100).toFixed(3)}% of reads; within the ${r.windowMs} ms window: ${r.staleReads - r.staleReadsBeyondWindow}, beyond it: ${r.staleReadsBeyondWindow})`,
    `samples ${r.samples}: ${nines} nines of keys consistent within ${r.windowMs / 1000} s`,
    r.source === 'cdc'
      ? `eviction: ${r.evictedKeys} keys evicted by Redis (allkeys-lru); second team: not run in CDC mode (its events go to the event topic)`
      : `eviction: ${r.evictedKeys} keys evicted by Redis (allkeys-lru); second team: ${r.promoEvents} events dead-lettered before its mapping, ${r.dlqReplayed} replayed, ${r.promoStaleAfterConvergence} of its keys stale after convergence`,
    `hostile team: ${r.hostileDeadLetters} dead letters naming it, its slow loader called ${r.hostileLoaderRequests} times, its failing purge target ${r.hostilePurgeRequests} times`,
    `converged in ${r.convergenceMs} ms; keys checked ${r.keysChecked}: stale entries after convergence ${r.staleEntriesAfterConvergence}, lost invalidations ${r.lostInvalidations}; tag purges verified ${r.tagPurgesVerified}/2`,
    ...(r.problems.length > 0 ? [`problems: ${r.problems.join('; ')}`] : []),
  ].join('\n');
}
