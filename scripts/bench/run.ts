// npm run bench: one run, one machine, same workload for every contender.
//   ours       the invalidator (child process, MAPPINGS_SOURCE=file, compiled as deployed) through
//              a backlog, once per Kafka client (KAFKA_CLIENT: kafkajs, platformatic)
//   naive      one message at a time, await DEL per key, SMEMBERS + DEL per tag
//   raw        kafkajs eachBatch that only JSON-decodes (the Kafka-side ceiling)
//   script     pipelined applyKeyEffects of the same effects, no Kafka (the Redis-side ceiling)
// plus publish -> applied latency at fixed offered rates, and the service's CPU and peak RSS;
//   raw hop    publish -> consumed of a raw kafkajs consumer at the same rates (Kafka's own hop),
//   CDC        commit in PostgreSQL -> applied in Redis through Kafka Connect + Debezium and an
//              invalidator with EVENT_FORMAT=debezium, at the same rates (cdc.ts), beside the event path,
// and the cost goals table (goals.ts) with met / missed.
// Options (env): BENCH_EVENTS (200000), BENCH_KEYS (100000 entities), BENCH_NAIVE_EVENTS (10000),
// BENCH_RATES ("1000,5000,20000"), BENCH_RATE_SECONDS (5), BENCH_WARMUP_SECONDS (5, not reported),
// BENCH_RAW_HOP_RATES (the BENCH_RATES up to 5000, i.e. "1000,5000"), BENCH_RAW_HOP_WARMUP_SECONDS (2),
// BENCH_CDC ("1"; "0" skips the CDC phase), BENCH_CDC_RATES (the raw hop's rates), BENCH_CDC_ROWS (BENCH_KEYS),
// BENCH_ONLY ("ours": the backlog runs only; "cdc": the CDC phase only),
// BENCH_CLIENTS ("kafkajs,platformatic"), BENCH_RUNTIME ("dist": `nest build invalidator` first and run
// the compiled JS, as a container does; "ts-node": the sources through ts-node, as the e2e tests do).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { Admin, Kafka, logLevel, Partitioners, Producer } from 'kafkajs';
import { createKafka } from '@app/kafka';
import { stringify } from 'yaml';
import { CacheProtocol, KeyEffect } from '@app/cache-protocol';
import { decodeKeyState, STATE_BYTES } from '@app/cache-protocol/envelope';
import { entityMessageKey, EVENT_HEADERS } from '@app/contracts';
import { addresses, down, up } from '../stack/stack';
import { createTopics } from '../stack/kafka';
import { withAdminRetry } from '../stack/admin-retry';
import { groupProgress } from '../stack/group-progress';
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawnInvalidator, InvalidatorProcess } from '../support/invalidator-process';
import { naiveConsume } from './naive';
import { percentile, readProcStats } from './proc-stats';
import { ThreeKeyBaseline } from './three-key';
import { rawConsume } from './raw-consume';
import { BENCH_MAPPING, BenchEvent, CATEGORIES, generateEvents, keysOf, tagOf } from './workload';
import { histogramDelta, parseHistogram, quantileFromBuckets } from './histogram';
import { offerTicks, TICK_MS } from './offer';
import { rawHopLatency, RawHopRow } from './raw-hop';
import { evaluateGoals } from './goals';
import { benchNodeArgs } from './heap';
import { CdcLatencyRow, cdcLatencyPhase } from './cdc';
import { INVALIDATOR_METRIC_NAMES, parsePrometheusText, sumOf } from '@app/telemetry';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 200_000);
const ENTITIES = Number(process.env.BENCH_KEYS ?? 100_000);
const NAIVE_EVENTS = Number(process.env.BENCH_NAIVE_EVENTS ?? 10_000);
const RATES = (process.env.BENCH_RATES ?? '1000,5000,20000').split(',').map(Number);
const RATE_SECONDS = Number(process.env.BENCH_RATE_SECONDS ?? 5);
/** Same as the invalidator's default CHUNK_SIZE, so the Redis-side ceiling gets the same tag coalescing. */
const SCRIPT_CHUNK = 10_000;
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 5);
/** The raw-hop baseline skips the saturated rates by default (at 20,000/s the 2 cores queue, see docs/benchmark.md). */
const RAW_HOP_RATES = process.env.BENCH_RAW_HOP_RATES
  ? process.env.BENCH_RAW_HOP_RATES.split(',').map(Number)
  : RATES.filter((r) => r <= 5000).length > 0
    ? RATES.filter((r) => r <= 5000)
    : RATES;
const RAW_HOP_WARMUP_SECONDS = Number(process.env.BENCH_RAW_HOP_WARMUP_SECONDS ?? 2);
const CDC = process.env.BENCH_CDC !== '0';
const CDC_RATES = process.env.BENCH_CDC_RATES ? process.env.BENCH_CDC_RATES.split(',').map(Number) : RAW_HOP_RATES;
const CDC_ROWS = Number(process.env.BENCH_CDC_ROWS ?? ENTITIES);
/** The rate the latency goal is evaluated at. */
const GOAL_RATE = 5000;
const PARTITIONS = 6;
const CLIENTS = (process.env.BENCH_CLIENTS ?? 'kafkajs,platformatic').split(',').filter(Boolean);
const COMPILED = (process.env.BENCH_RUNTIME ?? 'dist') === 'dist';
/** Node flags of the invalidator process: the shipped heap setting, or BENCH_NODE_ARGS="--max-semi-space-size=64 ..." ("" = V8's defaults). */
const extraNodeArgs = benchNodeArgs(process.env, COMPILED);
/** Steps of invalidator_chunk_step_seconds shown in the latency table. */
const CHUNK_STEPS = ['prepare', 'apply', 'commit'] as const;

const log = (msg: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}`);

async function produceAll(producer: Producer, topic: string, events: Iterable<BenchEvent>): Promise<number> {
  let batch: BenchEvent[] = [];
  let count = 0;
  const flush = async () => {
    await producer.send({
      topic,
      acks: -1,
      messages: batch.map((e) => ({
        key: entityMessageKey(e.entityType, e.entityId),
        value: JSON.stringify(e),
        headers: { [EVENT_HEADERS.schemaVersion]: '1' },
      })),
    });
    count += batch.length;
    batch = [];
  };
  for (const e of events) {
    batch.push(e);
    if (batch.length === 5000) await flush();
  }
  if (batch.length > 0) await flush();
  return count;
}

/** Preloads every key the workload touches, in our envelope (ours/script) or plain (naive). */
async function preload(redis: Redis, protocol: CacheProtocol, mode: 'protocol' | 'plain'): Promise<void> {
  await redis.flushall();
  await redis.script('FLUSH'); // scripts come back through EVALSHA's NOSCRIPT fallback
  const step = 5000;
  for (let from = 0; from < ENTITIES; from += step) {
    const ids = Array.from({ length: Math.min(step, ENTITIES - from) }, (_, i) => String(from + i));
    if (mode === 'protocol') {
      // filled the way readers fill them (lease, then version 1): a warm never creates a value
      await Promise.all(
        ids
          .flatMap((id) => [
            [`product:${id}`, '{"price":0}'],
            [`product-page:${id}`, '<html/>'],
          ])
          .map(async ([key, value]) => {
            const got = await protocol.leaseGet(key, { leaseTtlMs: 10_000 });
            if (got.kind !== 'miss') throw new Error(`preload: ${key} was ${got.kind}`);
            const outcome = await protocol.fill(got.lease, 1, value, { ttlMs: 3_600_000 });
            if (outcome !== 'filled') throw new Error(`preload: fill of ${key}: ${outcome}`);
          }),
      );
    } else {
      const p = redis.pipeline();
      for (const id of ids) p.set(`product:${id}`, '{"price":0}').set(`product-page:${id}`, '<html/>');
      await p.exec();
    }
  }
  for (let c = 0; c < CATEGORIES; c += 1) {
    if (mode === 'protocol') {
      // aggregates are filled the way readers fill them: lease, then version 0 (+ the tag's epoch)
      for (const [key, tags] of [
        [`category:${c}:products`, []],
        [`category:${c}:page:1`, [`category:${c}`]],
      ] as const) {
        const got = await protocol.leaseGet(key, { leaseTtlMs: 10_000 });
        if (got.kind !== 'miss') throw new Error(`preload: ${key} was ${got.kind}`);
        const outcome = await protocol.fill(got.lease, 0, '[]', { ttlMs: 3_600_000, tags: await protocol.readTagEpochs([...tags]) });
        if (outcome !== 'filled') throw new Error(`preload: fill of ${key}: ${outcome}`);
      }
    } else {
      await redis
        .pipeline()
        .set(`category:${c}:products`, '[]')
        .set(`category:${c}:page:1`, '[]')
        .sadd(`category:${c}`, `category:${c}:page:1`)
        .exec();
    }
  }
}

/** The bench workload's key effects of `events` (listings deleted, entity keys tombstoned). */
function benchKeyEffects(events: BenchEvent[]): KeyEffect[] {
  return events.flatMap((e) =>
    keysOf(e).map((key): KeyEffect => ({
      key,
      version: e.version,
      action: key.startsWith('category:') ? 'delete' : 'tombstone',
      tombstoneTtlMs: 600_000,
    })),
  );
}

/**
 * As many concurrent streams as the invalidator has partitions (by entity), each applying its
 * events in chunks of SCRIPT_CHUNK one after the other: the invalidator's shape of Redis work
 * with Kafka and the pipeline taken away.
 */
async function inPartitionStreams(events: BenchEvent[], apply: (chunk: BenchEvent[]) => Promise<unknown>): Promise<void> {
  const streams: BenchEvent[][] = Array.from({ length: PARTITIONS }, () => []);
  events.forEach((e) => streams[Number(e.entityId) % PARTITIONS].push(e));
  await Promise.all(
    streams.map(async (stream) => {
      for (let i = 0; i < stream.length; i += SCRIPT_CHUNK) await apply(stream.slice(i, i + SCRIPT_CHUNK));
    }),
  );
}

interface KeyWork {
  seconds: number;
  redisMicrosPerEvent: number;
}

/**
 * The same key effects (3 keys per event, no tags) applied through the single-key scripts and
 * through the earlier three-key batch script (three-key.ts), each on keys cached the way its
 * layout caches them, on the same redis-server: redis-server CPU per event for both.
 */
async function keyEffectsRedisCpu(
  redis: Redis,
  protocol: CacheProtocol,
  redisPid: number,
  events: BenchEvent[],
): Promise<{ singleKey: KeyWork; threeKey: KeyWork }> {
  const timed = async (apply: (chunk: BenchEvent[]) => Promise<unknown>): Promise<KeyWork> => {
    const cpuBefore = readProcStats(redisPid).cpuSeconds;
    const t0 = performance.now();
    await inPartitionStreams(events, apply);
    const seconds = (performance.now() - t0) / 1000;
    return { seconds, redisMicrosPerEvent: ((readProcStats(redisPid).cpuSeconds - cpuBefore) / events.length) * 1e6 };
  };
  await preload(redis, protocol, 'protocol');
  const singleRedis = new Redis(redis.options);
  const single = new CacheProtocol(singleRedis);
  const singleKey = await timed((chunk) => single.applyKeyEffects(benchKeyEffects(chunk)));
  singleRedis.disconnect();
  await redis.flushall();
  const baseline = new ThreeKeyBaseline(redis);
  await baseline.seed([...new Set(events.flatMap(keysOf))], '{"price":0}');
  const threeKey = await timed((chunk) =>
    baseline.apply(
      benchKeyEffects(chunk).map((k) => ({
        key: k.key,
        head: k.action === 'delete' ? `d${k.version}` : `t${k.version}:${k.tombstoneTtlMs}`,
      })),
    ),
  );
  return { singleKey, threeKey };
}

let sharedAdmin: Admin | undefined;

/** Committed vs. end offsets of a group, through one long-lived admin connection. */
async function committedVsEnd(kafka: Kafka, groupId: string, topic: string): Promise<{ committed: number; end: number }> {
  if (!sharedAdmin) {
    const admin = kafka.admin();
    await withAdminRetry('connect admin', () => admin.connect());
    sharedAdmin = admin;
  }
  return groupProgress(sharedAdmin, groupId, topic);
}

/** ms from `sendAt` until Redis holds the effect of `version` on `key` (its floor at least that version); -1 after 10 s. */
async function probeApplied(redis: Redis, key: string, version: number, sendAt: number): Promise<number> {
  while (performance.now() - sendAt < 10_000) {
    const head = await redis.getrange(key, 0, STATE_BYTES - 1);
    const floor = head.startsWith('4|') ? decodeKeyState(head)?.floor : undefined;
    if (floor !== undefined && floor >= version) return performance.now() - sendAt;
    await sleep(1);
  }
  return -1;
}

async function metricsText(child: InvalidatorProcess): Promise<string> {
  return (await fetch(`http://127.0.0.1:${child.port}/metrics`)).text();
}

function counter(text: string, name: string): number {
  return sumOf(parsePrometheusText(text), name) ?? 0;
}

interface Row {
  contender: string;
  events: number;
  seconds: number;
  eventsPerSec: number;
  keysPerSec: number;
  note: string;
}

interface OursCost {
  cpuSeconds: number;
  peakRssMb: number;
  redisCpuSeconds: number;
  kafkaCpuSeconds: number;
  wallSeconds: number;
  events: number;
  heapUsedMb: number;
  heapTotalMb: number;
  externalMb: number;
}

function costRow(c: OursCost): Record<string, string> {
  return {
    'invalidator CPU s': c.cpuSeconds.toFixed(2),
    'CPU µs / event': ((c.cpuSeconds / c.events) * 1e6).toFixed(1),
    'peak RSS MB': c.peakRssMb.toFixed(0),
    'heap used / total MB (peak, sampled)': `${c.heapUsedMb.toFixed(0)} / ${c.heapTotalMb.toFixed(0)}`,
    'external MB (peak, sampled)': c.externalMb.toFixed(0),
    'redis-server CPU s': c.redisCpuSeconds.toFixed(2),
    'kafka broker CPU s': c.kafkaCpuSeconds.toFixed(2),
    'wall s': c.wallSeconds.toFixed(2),
  };
}

async function main(): Promise<void> {
  const started = Date.now();
  log(`starting stack (events=${EVENTS}, entities=${ENTITIES}, naive events=${NAIVE_EVENTS})`);
  const state = await up({ name: `bench-${process.pid}`, ownerPid: process.pid, cluster: false });
  const a = addresses(state);
  const kafka = createKafka({
    clientId: 'bench',
    brokers: [a.kafkaBrokers],
    logLevel: logLevel.NOTHING,
    connectionTimeoutMs: 1_000,
    retry: {},
  });
  const redis = new Redis(a.redisUrl, { maxRetriesPerRequest: 3 });
  const protocol = new CacheProtocol(redis);
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const rows: Row[] = [];
  const result: Record<string, unknown> = {
    date: new Date().toISOString(),
    machine: { cores: cpus().length, memGb: Math.round(totalmem() / 2 ** 30) },
    events: EVENTS,
    entities: ENTITIES,
  };
  let child: InvalidatorProcess | undefined;
  try {
    const topic = 'bench.backlog';
    const latencyTopic = 'bench.latency';
    const rawHopTopic = 'bench.latency-raw';
    await createTopics(
      [a.kafkaBrokers],
      [
        { topic, numPartitions: PARTITIONS },
        { topic: latencyTopic, numPartitions: PARTITIONS },
        { topic: rawHopTopic, numPartitions: PARTITIONS },
        { topic: 'bench.dlq', numPartitions: 1 },
      ],
    );
    log('producing the backlog');
    await produceAll(producer, topic, generateEvents(EVENTS, ENTITIES, 2)); // preloaded values are version 1

    const dir = mkdtempSync(join(tmpdir(), 'bench-'));
    const mappingsFile = join(dir, 'mappings.yaml');
    writeFileSync(mappingsFile, stringify({ mappings: [BENCH_MAPPING] }));
    const env = (group: string, t: string) => ({
      KAFKA_BROKERS: a.kafkaBrokers,
      KAFKA_TOPIC: t,
      KAFKA_DLQ_TOPIC: 'bench.dlq',
      KAFKA_GROUP_ID: group,
      REDIS_URL: a.redisUrl,
      MAPPINGS_SOURCE: 'file',
      MAPPINGS_FILE: mappingsFile,
      KEYSPACES_REQUIRED: 'false', // the bench file declares no keyspaces
      PARTITIONS_CONSUMED_CONCURRENTLY: String(PARTITIONS),
      LOG_LEVEL: 'warn',
      ...(process.env.BENCH_INVALIDATOR_ENV
        ? Object.fromEntries(process.env.BENCH_INVALIDATOR_ENV.split(',').map((kv) => kv.split('=') as [string, string]))
        : {}),
    });

    // ---- ours: throughput through the backlog, once per Kafka client ----
    if (COMPILED) {
      log('building the invalidator (nest build invalidator): the bench runs the compiled JS, as deployed');
      execFileSync('npx', ['nest', 'build', 'invalidator'], { cwd: join(__dirname, '..', '..'), stdio: 'inherit' });
    }
    const runCdc = () =>
      cdcLatencyPhase({
        stackName: state.name,
        kafka,
        kafkaBrokers: a.kafkaBrokers,
        redis,
        clients: CLIENTS,
        rates: CDC_RATES,
        seconds: RATE_SECONDS,
        warmupSeconds: WARMUP_SECONDS,
        rows: CDC_ROWS,
        partitions: PARTITIONS,
        spawn: (client, group, t, extra) =>
          spawnInvalidator({ ...env(group, t), KAFKA_CLIENT: client, ...extra }, { nodeArgs: extraNodeArgs, compiled: COMPILED }),
        caughtUp: async (group, t) => {
          const { committed, end } = await committedVsEnd(kafka, group, t);
          return committed >= end;
        },
        histogram: async (c) => {
          const before = parseHistogram(await metricsText(c), INVALIDATOR_METRIC_NAMES.eventAge);
          return async (q) =>
            quantileFromBuckets(histogramDelta(parseHistogram(await metricsText(c), INVALIDATOR_METRIC_NAMES.eventAge), before), q) * 1000;
        },
        probe: probeApplied,
        log,
      });
    if (process.env.BENCH_ONLY === 'cdc') {
      log(`CDC only: commit in PostgreSQL -> applied, ${WARMUP_SECONDS}s warm-up, then ${CDC_RATES.join(', ')} row changes/s`);
      console.table(await runCdc());
      return;
    }
    const costs: Record<string, OursCost> = {};
    const counters: Record<string, Record<string, number>> = {};
    for (const client of CLIENTS) {
      await preload(redis, protocol, 'protocol');
      log(`ours (${client}): invalidator through the backlog`);
      const group = `bench-ours-${client}-${Date.now()}`;
      // BENCH_PROFILE=<dir>: the invalidator writes a V8 CPU profile there (open in Chrome DevTools / speedscope)
      const nodeArgs = [
        ...extraNodeArgs,
        ...(process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : []),
      ];
      child = await spawnInvalidator({ ...env(group, topic), KAFKA_CLIENT: client }, { waitReady: false, nodeArgs, compiled: COMPILED });
      let first: { at: number; committed: number; cpuSeconds: number } | undefined;
      let neighboursBefore = { redis: 0, kafka: 0 };
      let row: Row | undefined;
      // What the RSS is made of (prom-client's default metrics of the invalidator): peak V8 heap used and external (Buffers) memory.
      const memory = { heapUsedMb: 0, heapTotalMb: 0, externalMb: 0 };
      let lastMemorySample = 0;
      for (;;) {
        if (performance.now() - lastMemorySample > 500) {
          lastMemorySample = performance.now();
          const text = await metricsText(child).catch(() => '');
          const mb = (name: string) => (sumOf(parsePrometheusText(text), name) ?? 0) / 2 ** 20;
          memory.heapUsedMb = Math.max(memory.heapUsedMb, mb('nodejs_heap_size_used_bytes'));
          memory.heapTotalMb = Math.max(memory.heapTotalMb, mb('nodejs_heap_size_total_bytes'));
          memory.externalMb = Math.max(memory.externalMb, mb('nodejs_external_memory_bytes'));
        }
        const { committed, end } = await committedVsEnd(kafka, group, topic);
        const now = performance.now();
        if (!first && committed > 0) {
          first = { at: now, committed, cpuSeconds: readProcStats(child.child.pid!).cpuSeconds };
          neighboursBefore = { redis: readProcStats(state.redis!.pid).cpuSeconds, kafka: readProcStats(state.kafka!.pid).cpuSeconds };
        }
        if (first && committed >= end) {
          const seconds = (now - first.at) / 1000;
          const events = end - first.committed;
          row = {
            contender: `ours (invalidator, ${client})`,
            events,
            seconds,
            eventsPerSec: events / seconds,
            keysPerSec: (events * 3) / seconds,
            note: `${PARTITIONS} partitions, 3 keys + 1 tag/event, KAFKA_CLIENT=${client}`,
          };
          rows.push(row);
          break;
        }
        if (child.child.exitCode !== null || child.child.signalCode !== null)
          throw new Error(`invalidator exited (${child.child.exitCode ?? child.child.signalCode}):\n${child.output().slice(-3000)}`);
        await sleep(50);
      }
      const stats = readProcStats(child.child.pid!);
      costs[client] = {
        cpuSeconds: stats.cpuSeconds - first.cpuSeconds,
        peakRssMb: stats.peakRssMb,
        // what the same run cost the servers on the same 2 cores: the budget the service competes for
        redisCpuSeconds: readProcStats(state.redis!.pid).cpuSeconds - neighboursBefore.redis,
        kafkaCpuSeconds: readProcStats(state.kafka!.pid).cpuSeconds - neighboursBefore.kafka,
        wallSeconds: row.seconds,
        events: row.events,
        ...memory,
      };
      const oursText = await metricsText(child);
      counters[client] = {
        applied: counter(oursText, INVALIDATOR_METRIC_NAMES.applied),
        coalesced: counter(oursText, INVALIDATOR_METRIC_NAMES.coalesced),
        deduped: counter(oursText, INVALIDATOR_METRIC_NAMES.deduped),
      };
      await child.terminate();
      // BENCH_INVALIDATOR_OUTPUT=<dir>: the backlog run's stdout and stderr (e.g. with BENCH_NODE_ARGS=--trace-gc: the live heap after each full GC)
      if (process.env.BENCH_INVALIDATOR_OUTPUT) {
        mkdirSync(process.env.BENCH_INVALIDATOR_OUTPUT, { recursive: true });
        writeFileSync(join(process.env.BENCH_INVALIDATOR_OUTPUT, `ours-${client}.log`), child.output());
      }
      child = undefined;
    }
    result.oursCounters = counters;

    if (process.env.BENCH_ONLY === 'ours') {
      console.table(rows);
      console.table(Object.fromEntries(Object.entries(costs).map(([c, k]) => [c, costRow(k)])));
      return;
    }

    // ---- raw consume ceiling ----
    log('raw: kafkajs decode-only ceiling');
    const raw = await rawConsume(kafka, topic, EVENTS);
    rows.push({
      contender: 'raw kafkajs decode (Kafka ceiling)',
      events: raw.events,
      seconds: raw.seconds,
      eventsPerSec: raw.events / raw.seconds,
      keysPerSec: NaN,
      note: 'eachBatch + JSON.parse only',
    });

    // ---- script ceiling ----
    log('script: pipelined applyKeyEffects, no Kafka (Redis-side ceiling)');
    await preload(redis, protocol, 'protocol');
    const scriptEvents = [...generateEvents(Math.min(EVENTS, 100_000), ENTITIES, 2)];
    const scriptRedis = new Redis(a.redisUrl, { maxRetriesPerRequest: 3, enableAutoPipelining: true });
    const scriptProtocol = new CacheProtocol(scriptRedis);
    const t0 = performance.now();
    await inPartitionStreams(scriptEvents, (chunk) =>
      Promise.all([
        scriptProtocol.applyKeyEffects(benchKeyEffects(chunk)),
        scriptProtocol.invalidateTags([...new Set(chunk.map(tagOf))].map((tag) => ({ tag, version: 1, tombstoneTtlMs: 600_000 }))),
      ]),
    );
    scriptRedis.disconnect();
    const scriptSeconds = (performance.now() - t0) / 1000;
    rows.push({
      contender: 'our scripts, pipelined (Redis ceiling)',
      events: scriptEvents.length,
      seconds: scriptSeconds,
      eventsPerSec: scriptEvents.length / scriptSeconds,
      keysPerSec: (scriptEvents.length * 3) / scriptSeconds,
      note: `applyKeyEffects + invalidateTags, ${PARTITIONS} streams, chunks of ${SCRIPT_CHUNK}`,
    });
    const plainStart = performance.now();
    for (let i = 0; i < scriptEvents.length; i += 2000) {
      const p = redis.pipeline();
      for (const e of scriptEvents.slice(i, i + 2000)) p.del(...keysOf(e));
      await p.exec();
    }
    const plainSeconds = (performance.now() - plainStart) / 1000;
    rows.push({
      contender: 'plain pipelined DEL (reference)',
      events: scriptEvents.length,
      seconds: plainSeconds,
      eventsPerSec: scriptEvents.length / plainSeconds,
      keysPerSec: (scriptEvents.length * 3) / plainSeconds,
      note: 'no guard, no tags: what correctness costs',
    });

    // ---- Redis CPU per event: the single-key state vs the earlier three-key layout ----
    log('redis CPU: the same key effects through the single-key scripts, then the earlier three-key script');
    const keyWork = await keyEffectsRedisCpu(redis, protocol, state.redis!.pid, scriptEvents);
    result.redisKeyWork = keyWork;
    rows.push(
      {
        contender: 'key effects, single-key scripts',
        events: scriptEvents.length,
        seconds: keyWork.singleKey.seconds,
        eventsPerSec: scriptEvents.length / keyWork.singleKey.seconds,
        keysPerSec: (scriptEvents.length * 3) / keyWork.singleKey.seconds,
        note: `redis-server ${keyWork.singleKey.redisMicrosPerEvent.toFixed(1)} µs CPU/event, no tags`,
      },
      {
        contender: 'key effects, earlier three-key script',
        events: scriptEvents.length,
        seconds: keyWork.threeKey.seconds,
        eventsPerSec: scriptEvents.length / keyWork.threeKey.seconds,
        keysPerSec: (scriptEvents.length * 3) / keyWork.threeKey.seconds,
        note: `redis-server ${keyWork.threeKey.redisMicrosPerEvent.toFixed(1)} µs CPU/event, no tags (baseline)`,
      },
    );

    // ---- naive ----
    log(`naive: one message at a time, first ${NAIVE_EVENTS} events`);
    await preload(redis, protocol, 'plain');
    const naive = await naiveConsume(kafka, redis, topic, NAIVE_EVENTS);
    rows.push({
      contender: 'naive (await DEL per key, SMEMBERS+DEL)',
      events: naive.events,
      seconds: naive.seconds,
      eventsPerSec: naive.events / naive.seconds,
      keysPerSec: (naive.events * 3) / naive.seconds,
      note: 'eachMessage, as in common guides',
    });

    // ---- latency at fixed offered rates ----
    const latencyByClient: Record<string, Record<string, unknown>[]> = {};
    let version = 1_000_000;
    for (const client of CLIENTS) {
      await preload(redis, protocol, 'protocol');
      log(
        `latency (${client}): ${WARMUP_SECONDS}s warm-up at ${RATES[0]} events/s, then offered rates ${RATES.join(', ')} events/s, ${RATE_SECONDS}s each`,
      );
      const latGroup = `bench-latency-${client}-${Date.now()}`;
      child = await spawnInvalidator(
        { ...env(latGroup, latencyTopic), KAFKA_CLIENT: client },
        { nodeArgs: extraNodeArgs, compiled: COMPILED },
      );
      const latency: Record<string, unknown>[] = [];
      latencyByClient[client] = latency;
      // Warm-up (not reported): JIT, connection pools and the group's first fetches, as JMH warms up.
      const schedule = [
        ...(WARMUP_SECONDS > 0 ? [{ rate: RATES[0], seconds: WARMUP_SECONDS, warmup: true }] : []),
        ...RATES.map((rate) => ({ rate, seconds: RATE_SECONDS, warmup: false })),
      ];
      for (const { rate, seconds, warmup } of schedule) {
        const beforeText = await metricsText(child);
        const before = parseHistogram(beforeText, INVALIDATOR_METRIC_NAMES.eventAge);
        const applyBefore = parseHistogram(beforeText, INVALIDATOR_METRIC_NAMES.applyDuration);
        const stepsBefore = CHUNK_STEPS.map((step) => parseHistogram(beforeText, INVALIDATOR_METRIC_NAMES.chunkStep, { step }));
        const probes: Promise<number>[] = [];
        const { sent, startedAt } = await offerTicks({
          producer,
          topic: latencyTopic,
          rate,
          seconds,
          entities: ENTITIES,
          nextVersion: () => (version += 1),
          // External probe: the first event of every tick is watched in Redis until its tombstone holds its version.
          onTick: (events, sendAt) => probes.push(probeApplied(redis, `product:${events[0].entityId}`, events[0].version, sendAt)),
        });
        const external = (await Promise.all(probes)).filter((ms) => ms >= 0).sort((x, y) => x - y);
        const achieved = sent / ((performance.now() - startedAt) / 1000);
        for (;;) {
          const { committed, end } = await committedVsEnd(kafka, latGroup, latencyTopic);
          if (committed >= end) break;
          await sleep(50);
        }
        const afterText = await metricsText(child);
        const delta = histogramDelta(parseHistogram(afterText, INVALIDATOR_METRIC_NAMES.eventAge), before);
        const applyDelta = histogramDelta(parseHistogram(afterText, INVALIDATOR_METRIC_NAMES.applyDuration), applyBefore);
        const ms = (h: typeof delta, q: number) => Math.round(quantileFromBuckets(h, q) * 10_000) / 10;
        const r1 = (x: number) => Math.round(x * 10) / 10;
        if (warmup) continue;
        latency.push({
          client,
          offeredRate: rate,
          achievedRate: Math.round(achieved),
          probes: external.length,
          'probe p50ms': r1(percentile(external, 50)),
          'probe p99ms': r1(percentile(external, 99)),
          'probe p999ms': r1(percentile(external, 99.9)),
          'histogram p50ms': ms(delta, 0.5),
          'histogram p99ms': ms(delta, 0.99),
          'histogram p999ms': ms(delta, 0.999),
          chunkApplyP99ms: ms(applyDelta, 0.99),
          // where a chunk's time goes (p99 of each step): CPU before Redis, Redis, the Kafka commit
          ...Object.fromEntries(
            CHUNK_STEPS.map((step, i) => [
              `${step} p99ms`,
              ms(histogramDelta(parseHistogram(afterText, INVALIDATOR_METRIC_NAMES.chunkStep, { step }), stepsBefore[i]), 0.99),
            ]),
          ),
        });
      }
      await child.terminate();
      child = undefined;
    }

    // ---- raw hop: Kafka's own publish -> consumed at the same offered rates ----
    log(
      `raw hop: raw kafkajs consumer, ${RAW_HOP_WARMUP_SECONDS}s warm-up at ${RAW_HOP_RATES[0]} events/s, then ${RAW_HOP_RATES.join(', ')} events/s, ${RATE_SECONDS}s each`,
    );
    const rawHop: RawHopRow[] = await rawHopLatency({
      kafka,
      producer,
      topic: rawHopTopic,
      rates: RAW_HOP_RATES,
      seconds: RATE_SECONDS,
      warmupSeconds: RAW_HOP_WARMUP_SECONDS,
      entities: ENTITIES,
      partitionsConsumedConcurrently: PARTITIONS,
    });

    // ---- CDC: commit in PostgreSQL -> applied, last (Connect would take CPU from the phases before) ----
    let cdcLatency: CdcLatencyRow[] = [];
    if (CDC) {
      log(
        `CDC: PostgreSQL + Kafka Connect + Debezium, ${WARMUP_SECONDS}s warm-up, then ${CDC_RATES.join(', ')} row changes/s, ${RATE_SECONDS}s each`,
      );
      cdcLatency = await runCdc();
    }

    // ---- report ----
    const oursRows = CLIENTS.map((client) => ({ client, row: rows.find((r) => r.contender === `ours (invalidator, ${client})`)! }));
    const rawRow = rows.find((r) => r.contender.startsWith('raw'))!;
    const naiveRow = rows.find((r) => r.contender.startsWith('naive'))!;
    const scriptRow = rows.find((r) => r.contender.startsWith('our scripts'))!;
    const plainRow = rows.find((r) => r.contender.startsWith('plain'))!;
    const ratios = Object.fromEntries(
      oursRows.map(({ client, row }) => [
        client,
        {
          oursOverNaive: row.eventsPerSec / naiveRow.eventsPerSec,
          oursOverPlainDel: row.eventsPerSec / plainRow.eventsPerSec,
          oursOverRawConsume: row.eventsPerSec / rawRow.eventsPerSec,
          oursOverScriptCeiling: row.eventsPerSec / scriptRow.eventsPerSec,
        },
      ]),
    );
    const rawAtGoal = rawHop.find((l) => l.offeredRate === GOAL_RATE);
    const goals = Object.fromEntries(
      oursRows.map(({ client, row }) => [
        client,
        evaluateGoals({
          oursEventsPerSec: row.eventsPerSec,
          plainDelEventsPerSec: plainRow.eventsPerSec,
          naiveEventsPerSec: naiveRow.eventsPerSec,
          cpuMicrosPerEvent: (costs[client].cpuSeconds / row.events) * 1e6,
          peakRssMb: costs[client].peakRssMb,
          latencyRate: GOAL_RATE,
          oursP99Ms: latencyByClient[client]?.find((l) => l.offeredRate === GOAL_RATE)?.['probe p99ms'] as number | undefined,
          rawHopP99Ms: rawAtGoal?.['probe p99ms'],
          redisMicrosPerEvent: keyWork.singleKey.redisMicrosPerEvent,
          threeKeyRedisMicrosPerEvent: keyWork.threeKey.redisMicrosPerEvent,
        }),
      ]),
    );
    Object.assign(result, {
      runtime: COMPILED ? 'dist (compiled)' : 'ts-node',
      throughput: rows,
      ratios,
      latency: latencyByClient,
      rawHopLatency: rawHop,
      cdcLatency,
      goals,
      cost: costs,
      seconds: Math.round((Date.now() - started) / 1000),
    });
    console.log(
      `\nThroughput (same workload: 3 keys + 1 tag per event; invalidator run as ${COMPILED ? 'compiled JS (nest build)' : 'TypeScript through ts-node'})`,
    );
    console.table(
      rows.map((r) => ({
        contender: r.contender,
        events: r.events,
        seconds: r.seconds.toFixed(2),
        'events/s': Math.round(r.eventsPerSec),
        'keys/s': Number.isNaN(r.keysPerSec) ? '-' : Math.round(r.keysPerSec),
        note: r.note,
      })),
    );
    console.log('Ratios');
    console.table(
      Object.fromEntries(
        Object.entries(ratios).map(([client, r]) => [
          client,
          {
            'ours / naive': `${r.oursOverNaive.toFixed(1)}x`,
            'ours / plain DEL': `${r.oursOverPlainDel.toFixed(2)}x`,
            'ours / raw consume': `${r.oursOverRawConsume.toFixed(2)}x`,
            'ours / script ceiling': `${r.oursOverScriptCeiling.toFixed(2)}x`,
          },
        ]),
      ),
    );
    console.log(
      "Latency publish -> applied in Redis: probe = one event per 10 ms tick watched in Redis from outside (send start -> tombstone at its version); histogram = every event, the invalidator's occurredAt -> applied histogram interpolated within buckets",
    );
    console.table(Object.values(latencyByClient).flat());
    console.log('Cost of the invalidator process during the backlog run');
    console.table(Object.fromEntries(Object.entries(costs).map(([client, c]) => [client, costRow(c)])));
    console.log(
      `Raw hop publish -> consumed (Kafka's own hop on this box): a raw kafkajs consumer (eachBatch, JSON.parse only, no Redis, its own group, the invalidator's fetch settings) on its own ${PARTITIONS}-partition topic, same generator; probe = the first event of every ${TICK_MS} ms tick, every event = all events; time from send start to the consumer having decoded the event`,
    );
    console.table(rawHop);
    if (cdcLatency.length > 0) {
      console.log(
        "Latency by source, same run: cdc = an UPDATE transaction sent to PostgreSQL -> its row version applied in Redis (Debezium, then the invalidator); Debezium's hop = the same -> the change decoded by a raw kafkajs consumer (no invalidator); events = publish -> applied (the latency table above) and Kafka's raw hop; all probes: one change per 10 ms tick watched from outside",
      );
      console.table(
        cdcLatency
          .filter((c) => c.client !== 'raw')
          .map((c) => {
            const debezium = cdcLatency.find((d) => d.client === 'raw' && d.offeredRate === c.offeredRate);
            const events = latencyByClient[c.client]?.find((l) => l.offeredRate === c.offeredRate);
            const kafkaHop = rawHop.find((l) => l.offeredRate === c.offeredRate);
            return {
              client: c.client,
              'offered /s': c.offeredRate,
              'cdc achieved /s': c.achievedRate,
              'cdc p50 / p99 ms': `${c['probe p50ms']} / ${c['probe p99ms']}`,
              "Debezium's hop p50 / p99 ms": debezium ? `${debezium['probe p50ms']} / ${debezium['probe p99ms']}` : '-',
              'events p50 / p99 ms': events ? `${String(events['probe p50ms'])} / ${String(events['probe p99ms'])}` : '-',
              "Kafka's hop p50 / p99 ms": kafkaHop ? `${kafkaHop['probe p50ms']} / ${kafkaHop['probe p99ms']}` : '-',
              'cdc / events p99': events ? `${(c['probe p99ms'] / (events['probe p99ms'] as number)).toFixed(1)}x` : '-',
            };
          }),
      );
    }
    console.log(`Goals, this run, per Kafka client; latency goal on the probe p99s at ${GOAL_RATE} events/s`);
    console.table(
      Object.entries(goals).flatMap(([client, rowsOfClient]) =>
        rowsOfClient.map((g) => ({
          client,
          goal: g.goal,
          measured: g.measured,
          target: g.target,
          result: g.met === null ? '-' : g.met ? 'met' : 'MISSED',
          by: g.by,
        })),
      ),
    );
    mkdirSync(join(__dirname, '..', '..', 'bench-results'), { recursive: true });
    const out = join(__dirname, '..', '..', 'bench-results', 'latest.json');
    writeFileSync(out, JSON.stringify(result, null, 2));
    console.log(`\nwritten: ${out}`);
  } finally {
    if (child && child.child.exitCode === null) await child.kill9();
    await producer.disconnect().catch(() => undefined);
    await sharedAdmin?.disconnect().catch(() => undefined);
    redis.disconnect();
    await down(state.name);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
