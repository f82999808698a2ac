// Micro-benchmark of libs/cache-protocol: envelope size and encode/decode cost, and script
// throughput (applyKeyEffects, per-key EVALSHA, getOrLoad hits) against plain pipelined
// DEL/SET/GET on the same redis-server, which this script starts on a free port and stops.
//
//   npx ts-node --transpile-only -r tsconfig-paths/register scripts/bench/protocol.ts [--keys 100000] [--cluster]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis, { Cluster } from 'ioredis';
import { Registry } from 'prom-client';
import { CacheClient } from '@app/cache-client';
import { CacheProtocol, decodeEnvelope, encodeEnvelope, encodeKeyState, invalidateScript, KeyEffect } from '@app/cache-protocol';
import { RedisNodeInfo, startRedisCluster, startRedisNode, stopRedisNode } from '../stack/redis';

const args = process.argv.slice(2);
const KEYS = Number(args[args.indexOf('--keys') + 1]) || 100_000;
const WITH_CLUSTER = args.includes('--cluster');
const BATCH = 500; // what one invalidator chunk hands to applyKeyEffects

interface Row {
  what: string;
  opsPerSec: number;
  note?: string;
  /** CPU µs per op spent in this Node process and in redis-server (which side is the bottleneck). */
  nodeCpuUs?: number;
  redisCpuUs?: number;
}

function formatRows(rows: Row[], baseline?: number): string {
  const lines = [
    '| operation | ops/s | µs/op | node CPU µs/op | redis CPU µs/op | vs plain DEL (same table) |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  const cpu = (n?: number) => (n === undefined ? '' : n.toFixed(1));
  for (const r of rows) {
    const ratio = baseline ? `${((r.opsPerSec / baseline) * 100).toFixed(0)}%` : '';
    lines.push(
      `| ${r.what}${r.note ? ` (${r.note})` : ''} | ${Math.round(r.opsPerSec).toLocaleString('en-US')} | ${(1e6 / r.opsPerSec).toFixed(2)} | ${cpu(r.nodeCpuUs)} | ${cpu(r.redisCpuUs)} | ${ratio} |`,
    );
  }
  return lines.join('\n');
}

function time(fn: () => void, iterations: number): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i += 1) fn();
  return Number(process.hrtime.bigint() - start) / iterations; // ns per op
}

function envelopeTable(): string {
  const product = JSON.stringify({
    id: 'p-123',
    name: 'Espresso cup "Roma"',
    priceCents: 1290,
    currency: 'EUR',
    stock: 17,
    tags: ['kitchen', 'cups'],
  });
  const page = JSON.stringify({
    items: Array.from({ length: 12 }, (_, i) => ({ id: `p-${i}`, name: `Product ${i}`, priceCents: 100 * i })),
  });
  const lines = [
    '| payload | payload bytes | envelope bytes | header bytes | encode ns | decode ns | JSON-wrapped bytes | JSON encode ns | JSON decode ns |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const [name, payload] of [
    ['product (small)', product],
    ['category page (~1 KB)', page],
  ] as const) {
    const e = { version: 1_764_000_123_456, writtenAt: Date.now(), freshForMs: 60_000, namespaceGeneration: 3, payload };
    const raw = encodeEnvelope(e);
    const json = JSON.stringify({ v: e.version, w: e.writtenAt, f: e.freshForMs, n: e.namespaceGeneration, d: payload });
    let sink = 0;
    time(() => (sink += encodeEnvelope(e).length), 20_000); // warm-up
    const enc = time(() => (sink += encodeEnvelope(e).length), 200_000);
    const dec = time(() => (sink += decodeEnvelope(raw).version), 200_000);
    const jenc = time(
      () => (sink += JSON.stringify({ v: e.version, w: e.writtenAt, f: e.freshForMs, n: e.namespaceGeneration, d: payload }).length),
      200_000,
    );
    const jdec = time(() => (sink += (JSON.parse(json) as { v: number }).v), 200_000);
    if (sink === 42) console.log('');
    lines.push(
      `| ${name} | ${payload.length} | ${raw.length} | ${raw.length - payload.length} | ${enc.toFixed(0)} | ${dec.toFixed(0)} | ${json.length} | ${jenc.toFixed(0)} | ${jdec.toFixed(0)} |`,
    );
  }
  return lines.join('\n');
}

/** Runs `batches` of work with `inFlight` batches outstanding at a time; returns ops/s. */
async function throughput(total: number, inFlight: number, runBatch: (from: number, to: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const start = process.hrtime.bigint();
  const worker = async () => {
    while (next < total) {
      const from = next;
      next = Math.min(total, next + BATCH);
      await runBatch(from, next);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return total / (Number(process.hrtime.bigint() - start) / 1e9);
}

async function redisCpuSeconds(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const field = (name: string) => Number(new RegExp(`${name}:([0-9.]+)`).exec(info)?.[1] ?? 0);
  return field('used_cpu_user') + field('used_cpu_sys');
}

/** Measures `ops` operations done by `work` (returns ops/s): wall time plus CPU per op on both sides. */
async function measured(redis: Redis, what: string, note: string, ops: number, work: () => Promise<number>): Promise<Row> {
  const redisBefore = await redisCpuSeconds(redis);
  const nodeBefore = process.cpuUsage();
  const opsPerSec = await work();
  const node = process.cpuUsage(nodeBefore);
  const redisCpu = (await redisCpuSeconds(redis)) - redisBefore;
  return { what, note, opsPerSec, nodeCpuUs: (node.user + node.system) / ops, redisCpuUs: (redisCpu * 1e6) / ops };
}

async function redisTable(redis: Redis, label: string): Promise<{ rows: Row[]; baseline: number }> {
  const run = `bench:${Date.now().toString(36)}`;
  const key = (i: number) => `${run}:product:${i}`;
  const value = 'x'.repeat(100);
  const rows: Row[] = [];
  const seed = async () =>
    throughput(KEYS, 4, (from, to) => {
      const p = redis.pipeline();
      for (let i = from; i < to; i += 1) p.set(key(i), value);
      return p.exec();
    });

  for (const inFlight of [1, 4]) {
    const note = `${BATCH}/pipeline, ${inFlight} in flight`;
    await seed();
    rows.push(
      await measured(redis, 'plain DEL', note, KEYS, () =>
        throughput(KEYS, inFlight, (from, to) => {
          const p = redis.pipeline();
          for (let i = from; i < to; i += 1) p.del(key(i));
          return p.exec();
        }),
      ),
    );
    rows.push(
      await measured(redis, 'plain SET', note, KEYS, () =>
        throughput(KEYS, inFlight, (from, to) => {
          const p = redis.pipeline();
          for (let i = from; i < to; i += 1) p.set(key(i), value);
          return p.exec();
        }),
      ),
    );
  }
  const baseline = rows[2].opsPerSec; // plain DEL, 4 in flight

  let version = 1;
  for (const perCall of [1, 16, 64, 256]) {
    const protocol = new CacheProtocol(redis, { maxKeysPerScriptCall: perCall });
    await seed();
    const v = ++version;
    rows.push(
      await measured(redis, `applyKeyEffects tombstone, ${perCall} keys/EVALSHA`, `${BATCH}/call, 4 in flight`, KEYS, () =>
        throughput(KEYS, 4, (from, to) => {
          const effects: KeyEffect[] = [];
          for (let i = from; i < to; i += 1) effects.push({ key: key(i), version: v, action: 'tombstone', tombstoneTtlMs: 60_000 });
          return protocol.applyKeyEffects(effects);
        }),
      ),
    );
  }
  const protocol = new CacheProtocol(redis);
  // A warm rewrites a cached value and never creates one: seed values (version 1, format 4) to rewrite.
  const seededAt = Date.now();
  const cachedValue = encodeKeyState({
    floor: 0,
    floorUntil: 0,
    leaseUntil: 0,
    token: '',
    entry: { version: 1, writtenAt: seededAt, freshForMs: 0, namespaceGeneration: 0, payload: value, hardUntil: seededAt + 600_000 },
  });
  for (const inFlight of [1, 4]) {
    await throughput(KEYS, 4, (from, to) => {
      const p = redis.pipeline();
      for (let i = from; i < to; i += 1) p.set(key(i), cachedValue, 'PX', 600_000);
      return p.exec();
    });
    const v = ++version;
    rows.push(
      await measured(redis, 'applyKeyEffects warm, 64 keys/EVALSHA', `${BATCH}/call, ${inFlight} in flight`, KEYS, () =>
        throughput(KEYS, inFlight, (from, to) => {
          const effects: KeyEffect[] = [];
          for (let i = from; i < to; i += 1)
            effects.push({ key: key(i), version: v, action: 'warm', tombstoneTtlMs: 60_000, value, ttlMs: 60_000 });
          return protocol.applyKeyEffects(effects);
        }),
      ),
    );
  }
  const v = ++version;
  rows.push(
    await measured(redis, 'invalidate-1, one EVALSHA per key', `${BATCH}/pipeline, 4 in flight`, KEYS, () =>
      throughput(KEYS, 4, (from, to) => {
        const p = redis.pipeline();
        for (let i = from; i < to; i += 1) invalidateScript.queue(p, key(i), v, 60_000, true);
        return p.exec();
      }),
    ),
  );

  // Read side: hits through getOrLoad (leaseGet script + envelope decode + JSON.parse) vs plain GET, 64 concurrent readers.
  const hitKeys = Math.min(KEYS, 20_000);
  const client = new CacheClient(redis, { registry: new Registry(), coalesce: false });
  const load = () => Promise.resolve({ value: { price: 1 }, version: 1 });
  for (let i = 0; i < hitKeys; i += BATCH) {
    await Promise.all(
      Array.from({ length: Math.min(BATCH, hitKeys - i) }, (_, j) => client.getOrLoad(`${run}:hit:${i + j}`, load, { ttlMs: 600_000 })),
    );
  }
  const readers = async (read: (i: number) => Promise<unknown>) => {
    let next = 0;
    const start = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (next < hitKeys * 3) await read(next++ % hitKeys);
      }),
    );
    return (hitKeys * 3) / (Number(process.hrtime.bigint() - start) / 1e9);
  };
  rows.push(await measured(redis, 'plain GET', '64 concurrent readers', hitKeys * 3, () => readers((i) => redis.get(`${run}:hit:${i}`))));
  rows.push(
    await measured(redis, 'getOrLoad hit', '64 concurrent readers', hitKeys * 3, () =>
      readers((i) => client.getOrLoad(`${run}:hit:${i}`, load, { ttlMs: 600_000 })),
    ),
  );
  console.error(`[bench] ${label}: done`);
  return { rows, baseline };
}

async function clusterTable(cluster: Cluster): Promise<Row[]> {
  const run = `bench:${Date.now().toString(36)}`;
  const key = (i: number) => `${run}:product:${i}`;
  const protocol = new CacheProtocol(cluster);
  const total = Math.min(KEYS, 50_000);
  const row = async (what: string, note: string, work: () => Promise<number>): Promise<Row> => {
    const before = process.cpuUsage();
    const opsPerSec = await work();
    const cpu = process.cpuUsage(before);
    return { what, note, opsPerSec, nodeCpuUs: (cpu.user + cpu.system) / total };
  };
  const tombstones = (keyOf: (i: number) => string) => (from: number, to: number) =>
    protocol.applyKeyEffects(
      Array.from({ length: to - from }, (_, j): KeyEffect => ({
        key: keyOf(from + j),
        version: 2,
        action: 'tombstone',
        tombstoneTtlMs: 60_000,
      })),
    );
  return [
    await row('cluster: plain DEL, ioredis routing', `${BATCH} commands at once, 4 in flight`, () =>
      throughput(total, 4, (from, to) => Promise.all(Array.from({ length: to - from }, (_, j) => cluster.del(key(from + j))))),
    ),
    await row('cluster: applyKeyEffects tombstone', `${BATCH}/call, grouped by slot: ~1 key/EVALSHA, 4 in flight`, () =>
      throughput(total, 4, tombstones(key)),
    ),
    await row('cluster: applyKeyEffects tombstone, keys of 16 hash tags', `"{tenant-n}:..." ~31 keys/EVALSHA, 4 in flight`, () =>
      throughput(
        total,
        4,
        tombstones((i) => `{tenant-${i % 16}}:${key(i)}`),
      ),
    ),
  ];
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'cache-protocol-bench-'));
  const nodes: RedisNodeInfo[] = [];
  try {
    console.log(
      `# cache-protocol micro-benchmark\n\nnode ${process.version}, ${KEYS} keys per row, redis-server started by the bench on a free port\n`,
    );
    console.log('## Envelope (format 1) vs a JSON wrapper\n');
    console.log(envelopeTable());
    const node = await startRedisNode(join(dir, 'standalone'));
    nodes.push(node);
    const redis = new Redis({ host: '127.0.0.1', port: node.port });
    try {
      const { rows, baseline } = await redisTable(redis, 'standalone');
      console.log('\n## Throughput on one redis-server (one Node process, one connection)\n');
      console.log(formatRows(rows, baseline));
    } finally {
      redis.disconnect();
    }
    if (WITH_CLUSTER) {
      const clusterNodes = await startRedisCluster(join(dir, 'cluster'));
      nodes.push(...clusterNodes);
      const cluster = new Cluster(clusterNodes.map((n) => ({ host: '127.0.0.1', port: n.port })));
      try {
        await cluster.ping();
        console.log('\n## Throughput on a 3-master cluster\n');
        const rows = await clusterTable(cluster);
        console.log(formatRows(rows, rows[0].opsPerSec));
      } finally {
        cluster.disconnect();
      }
    }
  } finally {
    await Promise.all(nodes.map(stopRedisNode));
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
