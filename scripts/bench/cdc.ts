// The bench's CDC phase: commit in PostgreSQL -> key invalidated in Redis, at fixed offered rates,
// through the real path (PostgreSQL logical decoding -> Kafka Connect + Debezium -> Kafka -> the
// invalidator with EVENT_FORMAT=debezium -> Redis). The writer offers `rate` row changes a second
// as one transaction per 10 ms tick (rate/100 rows, like the event path's one send per tick); the
// first row of every tick is probed in Redis from the moment its transaction was sent until its
// key's floor holds the version the row was committed with.
import { Pool } from 'pg';
import type Redis from 'ioredis';
import type { Kafka } from 'kafkajs';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConnectInfo, registerConnector, stopConnect, tableConnectorConfig } from '../stack/connect';
import { createTopics } from '../stack/kafka';
import { startStackConnect, startStackPostgres } from '../stack/stack';
import type { InvalidatorProcess } from '../support/invalidator-process';
import { TICK_MS } from './offer';
import { INVALIDATOR_FETCH_SETTINGS } from './raw-hop';
import { percentile } from './proc-stats';
import { CATEGORIES } from './workload';

export const CDC_TABLE = 'bench_products';
/**
 * Row ids (and so keys, product:cdc-<n>) of their own: the event path's latency phase leaves
 * floors at versions above a million on product:<n>, where a row's small version would be
 * "applied" before it was sent.
 */
const CDC_ID_PREFIX = 'cdc-';

/** The invalidator's settings for the bench table (columns renamed to what BENCH_MAPPING renders). */
export const BENCH_CDC_SETTINGS = {
  EVENT_FORMAT: 'debezium',
  CDC_ENTITY_TYPE: 'product',
  CDC_VERSION_COLUMN: 'version',
  CDC_TENANT_COLUMN: 'tenant',
  CDC_FIELDS: 'category_id:categoryId',
} as const;

/** The table, `rows` rows at version 1, REPLICA IDENTITY FULL (an update's old row) and a publication. */
export async function createCdcTable(pool: Pool, rows: number, publication: string): Promise<void> {
  await pool.query(`DROP TABLE IF EXISTS ${CDC_TABLE}`);
  await pool.query(
    `CREATE TABLE ${CDC_TABLE} (id text PRIMARY KEY, tenant text NOT NULL, category_id text NOT NULL, price integer NOT NULL, version integer NOT NULL)`,
  );
  await pool.query(
    `INSERT INTO ${CDC_TABLE} SELECT '${CDC_ID_PREFIX}' || g, 'bench', (g % ${CATEGORIES})::text, 0, 1 FROM generate_series(0, $1::int - 1) AS g`,
    [rows],
  );
  await pool.query(`ALTER TABLE ${CDC_TABLE} REPLICA IDENTITY FULL`);
  await pool.query(`CREATE PUBLICATION ${publication} FOR TABLE ${CDC_TABLE}`);
}

/** ms from `sentAt` until `product:<id>`'s floor holds at least `version`; -1 after 10 s. */
export type ProbeApplied = (redis: Redis, key: string, version: number, sentAt: number) => Promise<number>;

/**
 * Offers `rate` row changes a second for `seconds`: one UPDATE transaction per tick over random
 * rows, each row's version raised by one. Transactions run one after the other per tick (a tick
 * that runs late is not made up: the achieved rate says so).
 */
export async function offerCommits(o: {
  pool: Pool;
  redis: Redis;
  rate: number;
  seconds: number;
  rows: number;
  probe: ProbeApplied;
}): Promise<{ sent: number; startedAt: number; probes: number[] }> {
  const perTick = Math.max(1, Math.round((o.rate * TICK_MS) / 1000));
  const ticks = Math.round((o.seconds * 1000) / TICK_MS);
  const startedAt = performance.now();
  const probes: Promise<number>[] = [];
  const writes: Promise<void>[] = [];
  let sent = 0;
  // A few connections so a slow commit does not hold back the next tick (as a write service's pool).
  let inFlight = 0;
  for (let tick = 0; tick < ticks; tick += 1) {
    const due = startedAt + tick * TICK_MS;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    while (inFlight >= 8) await sleep(1);
    // sorted: concurrent transactions lock shared rows in one order (no deadlock)
    const ids = [...new Set(Array.from({ length: perTick }, () => `${CDC_ID_PREFIX}${Math.floor(Math.random() * o.rows)}`))].sort();
    const probed = ids[Math.floor(Math.random() * ids.length)];
    const sentAt = performance.now();
    inFlight += 1;
    writes.push(
      o.pool
        .query<{ id: string; version: number }>(
          `UPDATE ${CDC_TABLE} SET price = price + 1, version = version + 1 WHERE id = ANY($1::text[]) RETURNING id, version`,
          [ids],
        )
        .then((result) => {
          sent += result.rowCount ?? 0;
          // one probe per tick, on a row of the tick picked before the transaction was sent
          const first = result.rows.find((r) => r.id === probed);
          if (first) probes.push(o.probe(o.redis, `product:${first.id}`, first.version, sentAt));
        })
        .finally(() => {
          inFlight -= 1;
        }),
    );
  }
  await Promise.all(writes);
  return { sent, startedAt, probes: await Promise.all(probes) };
}

export interface CdcPhaseOptions {
  stackName: string;
  kafka: Kafka;
  kafkaBrokers: string;
  redis: Redis;
  clients: string[];
  rates: number[];
  seconds: number;
  warmupSeconds: number;
  rows: number;
  partitions: number;
  /** Starts an invalidator with the bench's env plus `extra` on `topic` for `group`. */
  spawn: (client: string, group: string, topic: string, extra: Record<string, string>) => Promise<InvalidatorProcess>;
  /** True when `group` has committed everything on `topic`. */
  caughtUp: (group: string, topic: string) => Promise<boolean>;
  /** The invalidator's occurredAt -> applied histogram quantiles over a phase (ms): for CDC occurredAt is the commit time. */
  histogram: (child: InvalidatorProcess) => Promise<(q: number) => Promise<number>>;
  probe: ProbeApplied;
  log: (line: string) => void;
}

export interface CdcLatencyRow {
  /** A Kafka client of the invalidator, or "raw" (Debezium's own hop: a kafkajs consumer that only decodes). */
  client: string;
  source: 'cdc';
  offeredRate: number;
  achievedRate: number;
  probes: number;
  'probe p50ms': number;
  'probe p99ms': number;
  'probe p999ms': number;
  'histogram p50ms': number;
  'histogram p99ms': number;
}

/**
 * PostgreSQL and one Kafka Connect worker join the bench's stack (only now: they would take CPU
 * from every earlier phase), Debezium's connector captures the bench table onto a topic of
 * `partitions` partitions, and per Kafka client an invalidator (EVENT_FORMAT=debezium) consumes it
 * while the writer offers each rate after a warm-up.
 */
export async function cdcLatencyPhase(o: CdcPhaseOptions): Promise<CdcLatencyRow[]> {
  const pg = await startStackPostgres(o.stackName);
  const pool = new Pool({ connectionString: pg.url, max: 10 });
  const slot = 'bench_cdc';
  const topic = `${slot}.public.${CDC_TABLE}`;
  const rows: CdcLatencyRow[] = [];
  let connect: ConnectInfo | undefined;
  try {
    await createCdcTable(pool, o.rows, slot);
    await createTopics([o.kafkaBrokers], [{ topic, numPartitions: o.partitions }]);
    connect = await startStackConnect(o.stackName);
    await registerConnector(
      connect,
      'bench-cdc',
      tableConnectorConfig({ port: pg.port, database: 'postgres', table: CDC_TABLE, slot, publication: slot, partitions: o.partitions }),
    );
    rows.push(...(await cdcRawHop(o, pool, topic)));
    for (const client of o.clients) {
      const group = `bench-cdc-${client}-${Date.now()}`;
      const child = await o.spawn(client, group, topic, BENCH_CDC_SETTINGS);
      try {
        const schedule = [
          ...(o.warmupSeconds > 0 ? [{ rate: o.rates[0], seconds: o.warmupSeconds, warmup: true }] : []),
          ...o.rates.map((rate) => ({ rate, seconds: o.seconds, warmup: false })),
        ];
        for (const { rate, seconds, warmup } of schedule) {
          const quantile = await o.histogram(child);
          const { sent, startedAt, probes } = await offerCommits({ pool, redis: o.redis, rate, seconds, rows: o.rows, probe: o.probe });
          const achieved = sent / ((performance.now() - startedAt) / 1000);
          const deadline = performance.now() + 120_000;
          while (!(await o.caughtUp(group, topic))) {
            if (performance.now() > deadline) throw new Error(`CDC: group ${group} did not catch up with ${topic} in 120 s`);
            await sleep(50);
          }
          if (warmup) continue;
          const external = probes.filter((ms) => ms >= 0).sort((x, y) => x - y);
          const r1 = (x: number) => Math.round(x * 10) / 10;
          rows.push({
            client,
            source: 'cdc',
            offeredRate: rate,
            achievedRate: Math.round(achieved),
            probes: external.length,
            'probe p50ms': r1(percentile(external, 50)),
            'probe p99ms': r1(percentile(external, 99)),
            'probe p999ms': r1(percentile(external, 99.9)),
            'histogram p50ms': r1(await quantile(0.5)),
            'histogram p99ms': r1(await quantile(0.99)),
          });
          o.log(`CDC (${client}) at ${rate}/s: probe p50 ${rows.at(-1)!['probe p50ms']} ms, p99 ${rows.at(-1)!['probe p99ms']} ms`);
        }
      } finally {
        await child.terminate();
      }
    }
  } finally {
    await pool.end().catch(() => undefined);
    // The worker goes now (the stack's `down` would too): nothing after this phase should share the cores with it.
    if (connect) await stopConnect(connect);
  }
  return rows;
}

/**
 * Debezium's own hop, the CDC twin of the event path's raw hop: no invalidator, a kafkajs consumer
 * (the invalidator's fetch settings) that only decodes the change records; the probed row's change
 * is timed from its transaction's send to the consumer having decoded it. What is left of the
 * invalidator rows above this is the invalidator's share.
 */
async function cdcRawHop(o: CdcPhaseOptions, pool: Pool, topic: string): Promise<CdcLatencyRow[]> {
  const consumer = o.kafka.consumer({ groupId: `bench-cdc-raw-${Date.now()}`, ...INVALIDATOR_FETCH_SETTINGS });
  // "<id>@<version>" of a probed change -> its resolver
  const waiting = new Map<string, (receivedAt: number) => void>();
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await consumer.connect();
  const rows: CdcLatencyRow[] = [];
  try {
    await consumer.subscribe({ topic, fromBeginning: false });
    await consumer.run({
      partitionsConsumedConcurrently: o.partitions,
      eachBatch: ({ batch }) => {
        const now = performance.now();
        for (const m of batch.messages) {
          if (!m.value) continue;
          const change = JSON.parse(m.value.toString('utf8')) as { after?: { id?: string; version?: number } | null };
          const done = waiting.get(`${change.after?.id}@${change.after?.version}`);
          if (done) done(now);
        }
        return Promise.resolve();
      },
    });
    await joined;
    const probe: ProbeApplied = (_redis, key, version, sentAt) =>
      new Promise((resolve) => {
        const id = `${key.slice('product:'.length)}@${version}`;
        const timer = setTimeout(() => {
          waiting.delete(id);
          resolve(-1);
        }, 10_000);
        waiting.set(id, (receivedAt) => {
          clearTimeout(timer);
          waiting.delete(id);
          resolve(receivedAt - sentAt);
        });
      });
    const schedule = [
      ...(o.warmupSeconds > 0 ? [{ rate: o.rates[0], seconds: o.warmupSeconds, warmup: true }] : []),
      ...o.rates.map((rate) => ({ rate, seconds: o.seconds, warmup: false })),
    ];
    for (const { rate, seconds, warmup } of schedule) {
      const { sent, startedAt, probes } = await offerCommits({ pool, redis: o.redis, rate, seconds, rows: o.rows, probe });
      if (warmup) continue;
      const seen = probes.filter((ms) => ms >= 0).sort((x, y) => x - y);
      const r1 = (x: number) => Math.round(x * 10) / 10;
      rows.push({
        client: 'raw',
        source: 'cdc',
        offeredRate: rate,
        achievedRate: Math.round(sent / ((performance.now() - startedAt) / 1000)),
        probes: seen.length,
        'probe p50ms': r1(percentile(seen, 50)),
        'probe p99ms': r1(percentile(seen, 99)),
        'probe p999ms': r1(percentile(seen, 99.9)),
        'histogram p50ms': NaN,
        'histogram p99ms': NaN,
      });
      o.log(`CDC raw hop at ${rate}/s: probe p50 ${rows.at(-1)!['probe p50ms']} ms, p99 ${rows.at(-1)!['probe p99ms']} ms`);
    }
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
  return rows;
}
