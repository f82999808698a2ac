// npm run bench:read: the read side on one machine, same workload for every contender:
//   redis-only   our CacheClient without L1 (every read is a leaseGet round trip)
//   ours+L1      our CacheClient with L1 + the invalidation bus (heartbeats from a BusPublisher)
//   bentocache   BentoCache with its memory L1 + Redis L2 + its Redis pub/sub bus
// Workload: BENCH_READ_KEYS keys (10000), 90% of reads on the hottest 10%, ~400-byte JSON values,
// BENCH_READ_CONCURRENCY concurrent readers (32) in one process for BENCH_READ_SECONDS (5) each,
// while BENCH_READ_INVALIDATIONS_PER_S keys (100) are invalidated per second through each
// contender's own path (ours: applyKeyEffects + bus announce; bentocache: delete() on a second
// instance). Then the invalidation -> L1 eviction delay: from the start of the invalidation to
// the reader instance applying the bus message (ours: applyKeyEffects + announce -> onBusMessage;
// bentocache: delete() -> 'bus:message:received' on the reader).
// Starts its own redis-server on a free port (never 6379) and stops it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Redis from 'ioredis';
import { Registry } from 'prom-client';
import { CacheClient } from '@app/cache-client';
import { CacheProtocol } from '@app/cache-protocol';
import { BusPublisher } from '@app/cache-protocol/bus';
import { startRedisNode, stopRedisNode } from '../stack/redis';

const KEYS = Number(process.env.BENCH_READ_KEYS ?? 10_000);
const CONCURRENCY = Number(process.env.BENCH_READ_CONCURRENCY ?? 32);
const SECONDS = Number(process.env.BENCH_READ_SECONDS ?? 5);
const INVALIDATIONS_PER_S = Number(process.env.BENCH_READ_INVALIDATIONS_PER_S ?? 100);
const DELAY_SAMPLES = Number(process.env.BENCH_READ_DELAY_SAMPLES ?? 200);
const HOT = Math.max(1, Math.floor(KEYS / 10));

const valueOf = (i: number) => ({ id: i, name: `product ${i}`, price: i % 100, description: 'x'.repeat(300), tags: ['a', 'b', 'c'] });
const keyOf = (i: number) => `bench:product:${i}`;
function pick(): number {
  return Math.random() < 0.9 ? Math.floor(Math.random() * HOT) : HOT + Math.floor(Math.random() * (KEYS - HOT));
}
function quantile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

interface Row {
  name: string;
  reads: number;
  readsPerSecond: number;
  p50us: number;
  p99us: number;
  loaderCalls: number;
}

async function runReads(
  name: string,
  get: (key: string, i: number) => Promise<unknown>,
  invalidate: (i: number) => Promise<void>,
  loaderCalls: () => number,
): Promise<Row> {
  // warm: every key once
  for (let i = 0; i < KEYS; i += 256)
    await Promise.all(Array.from({ length: Math.min(256, KEYS - i) }, (_, j) => get(keyOf(i + j), i + j)));
  const loadsBefore = loaderCalls();
  const latencies: number[] = [];
  let stop = false;
  const invalidator = (async () => {
    const every = 1000 / INVALIDATIONS_PER_S;
    while (!stop) {
      await invalidate(pick()).catch(() => undefined);
      await sleep(every);
    }
  })();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      let n = 0;
      while (performance.now() - started < SECONDS * 1000) {
        const i = pick();
        const t = performance.now();
        await get(keyOf(i), i);
        latencies.push(performance.now() - t);
        // give the event loop (bus reader, timers) a turn now and then, as a real server would
        if (++n % 64 === 0) await new Promise((r) => setImmediate(r));
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  stop = true;
  await invalidator;
  const sorted = Float64Array.from(latencies).sort();
  return {
    name,
    reads: latencies.length,
    readsPerSecond: latencies.length / elapsed,
    p50us: quantile(sorted, 0.5) * 1000,
    p99us: quantile(sorted, 0.99) * 1000,
    loaderCalls: loaderCalls() - loadsBefore,
  };
}

function delays(samples: number[]): string {
  const sorted = Float64Array.from(samples).sort();
  return `p50 ${quantile(sorted, 0.5).toFixed(2)} ms, p99 ${quantile(sorted, 0.99).toFixed(2)} ms, max ${sorted[sorted.length - 1].toFixed(2)} ms (${samples.length} samples)`;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-read-'));
  const node = await startRedisNode(join(dir, 'redis'));
  const connections: Redis[] = [];
  const conn = () => {
    const c = new Redis({ host: '127.0.0.1', port: node.port });
    connections.push(c);
    return c;
  };
  const rows: Row[] = [];
  const lines: string[] = [];
  try {
    const protocol = new CacheProtocol(conn());
    const streamKey = '~bus{bench}';
    const publisher = new BusPublisher(conn(), { streamKey, source: 'bench-invalidator' });
    let version = 1;
    const invalidateOurs = async (i: number) => {
      version += 1;
      await protocol.applyKeyEffects([{ key: keyOf(i), version, action: 'tombstone', tombstoneTtlMs: 600_000 }]);
      await publisher.announce({ keys: [[keyOf(i), version, 'i']] });
    };
    let loads = 0;
    const load = (i: number) => () => {
      loads += 1;
      return Promise.resolve({ value: valueOf(i), version });
    };
    const opts = { ttlMs: 600_000, jitterRatio: 0 };

    // 1. ours, Redis only
    const plain = new CacheClient(conn(), { registry: new Registry() });
    rows.push(
      await runReads(
        'ours, Redis only (no L1)',
        (key, i) => plain.getOrLoad(key, load(i), opts),
        invalidateOurs,
        () => loads,
      ),
    );
    await plain.close();

    // 2. ours with L1 + bus
    void publisher.startHeartbeat(200);
    const withL1 = new CacheClient(conn(), {
      registry: new Registry(),
      l1: { maxEntries: KEYS * 2, maxStalenessMs: 2000 },
      bus: { streamKey, connection: conn() },
    });
    await withL1.busReady();
    rows.push(
      await runReads(
        'ours, L1 + Redis + bus',
        (key, i) => withL1.getOrLoad(key, load(i), opts),
        invalidateOurs,
        () => loads,
      ),
    );
    // invalidation -> L1 eviction delay
    const ours: number[] = [];
    for (let n = 0; n < DELAY_SAMPLES; n += 1) {
      const i = pick();
      await withL1.getOrLoad(keyOf(i), load(i), opts);
      const heard = new Promise<number>((resolve) => {
        const off = withL1.onBusMessage((m) => {
          if (m.kind === 'inv' && m.keys.some(([k]) => k === keyOf(i))) {
            off();
            resolve(performance.now());
          }
        });
      });
      const t = performance.now();
      await invalidateOurs(i);
      ours.push((await heard) - t);
    }
    lines.push(`- ours: invalidation (applyKeyEffects + announce) -> reader's L1 entry dropped: ${delays(ours)}`);
    await withL1.close();
    publisher.stopHeartbeat();

    // 3. bentocache: memory L1 + Redis L2 + its pub/sub bus
    const { BentoCache, bentostore } = await import('bentocache');
    const { memoryDriver } = await import('bentocache/drivers/memory');
    const { redisDriver, redisBusDriver } = await import('bentocache/drivers/redis');
    const bento = (name: string) =>
      new BentoCache({
        default: 'cache',
        stores: {
          cache: bentostore()
            .useL1Layer(memoryDriver({ maxItems: KEYS * 2 }))
            .useL2Layer(redisDriver({ connection: conn() }))
            .useBus(redisBusDriver({ connection: { host: '127.0.0.1', port: node.port } })),
        },
        prefix: `bench-${name}`,
      });
    const reader = bento('shared');
    const writer = bento('shared');
    let bentoLoads = 0;
    const bentoGet = (key: string, i: number) =>
      reader.getOrSet({
        key,
        ttl: 600_000,
        factory: () => {
          bentoLoads += 1;
          return Promise.resolve(valueOf(i));
        },
      });
    await sleep(500); // bus subscriptions up
    rows.push(
      await runReads(
        'bentocache 1.6.1, memory L1 + Redis L2 + bus',
        bentoGet,
        async (i) => void (await writer.delete({ key: keyOf(i) })),
        () => bentoLoads,
      ),
    );
    const theirs: number[] = [];
    for (let n = 0; n < DELAY_SAMPLES; n += 1) {
      const i = pick();
      await bentoGet(keyOf(i), i);
      const heard = new Promise<number>((resolve) => {
        const on = (data: unknown) => {
          if (JSON.stringify(data).includes(keyOf(i))) {
            reader.off?.('bus:message:received', on);
            resolve(performance.now());
          }
        };
        reader.on('bus:message:received', on);
      });
      const t = performance.now();
      await writer.delete({ key: keyOf(i) });
      theirs.push((await Promise.race([heard, sleep(2000).then(() => Number.NaN)])) - t);
    }
    const heardTheirs = theirs.filter((d) => !Number.isNaN(d));
    lines.push(
      `- bentocache: delete() on another instance -> reader's bus message received: ${heardTheirs.length ? delays(heardTheirs) : 'not observed'}`,
    );
    await Promise.allSettled([reader.disconnect(), writer.disconnect()]);

    console.log(
      `# read benchmark\n\nnode ${process.version}, ${KEYS} keys (90% of reads on ${HOT}), ~400-byte values, ${CONCURRENCY} concurrent readers in one process, ${SECONDS} s per row, ${INVALIDATIONS_PER_S} invalidations/s during the reads, redis-server started by the bench\n`,
    );
    console.log('| contender | reads/s | p50 µs | p99 µs | loader calls during the run |');
    console.log('|---|---:|---:|---:|---:|');
    for (const r of rows)
      console.log(
        `| ${r.name} | ${Math.round(r.readsPerSecond).toLocaleString('en-US')} | ${r.p50us.toFixed(0)} | ${r.p99us.toFixed(0)} | ${r.loaderCalls} |`,
      );
    console.log('\nInvalidation -> L1 eviction delay:\n');
    for (const l of lines) console.log(l);
  } finally {
    connections.forEach((c) => c.disconnect());
    await stopRedisNode(node);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: Error) => {
    console.error(error);
    process.exit(1);
  },
);
