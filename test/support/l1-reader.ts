// A reader PROCESS for test/cache/l1-bus.e2e-spec.ts: a CacheClient with L1 + bus reading a set
// of keys in a loop. Its loader reads the "database" (plain Redis keys db:<key> holding
// {"version":n}). It records, per key and version, the start time of the first and last read
// that returned it, and per key and version when the bus told it (processedAt) and when the
// invalidator published it (at). Commands over IPC: pause / resume (the bus goes silent for
// this reader), report, stop.
import { setTimeout as sleep } from 'node:timers/promises';
import Redis from 'ioredis';
import { Registry } from 'prom-client';
import { CacheClient } from '@app/cache-client';

const keys = (process.env.READER_KEYS ?? '').split(',').filter(Boolean);
const tagged = (process.env.READER_TAGGED ?? '').split(',').filter(Boolean);
const tag = process.env.READER_TAG ?? '';
const maxStalenessMs = Number(process.env.MAX_STALENESS_MS ?? 1000);
const redis = new Redis(process.env.REDIS_URL!);
const db = new Redis(process.env.REDIS_URL!);
const registry = new Registry();
const client = new CacheClient(redis, {
  registry,
  name: process.env.READER_NAME,
  namespaces: (process.env.READER_NAMESPACES ?? '').split(',').filter(Boolean),
  l1: { maxEntries: 10_000, maxStalenessMs },
  bus: { streamKey: process.env.BUS_STREAM_KEY, blockMs: 500 },
});

type Seen = Record<string, Record<number, { first: number; last: number }>>;
const seen: Seen = {};
const told: Array<{ keys: Array<[string, number]>; tags: string[]; ns: Array<[string, number]>; at: number; processedAt: number }> = [];
let pausedAt: number | undefined;
let running = true;

client.onBusMessage((m) => {
  if (m.kind !== 'inv') return;
  told.push({ keys: m.keys.map(([k, v]) => [k, v]), tags: m.tags, ns: m.namespaces, at: m.at, processedAt: Date.now() });
});

async function load(key: string): Promise<{ value: { version: number }; version: number }> {
  const raw = await db.get(`db:${key}`);
  const version = raw ? (JSON.parse(raw) as { version: number }).version : 0;
  return { value: { version }, version: tagged.includes(key) ? 0 : version };
}

async function loop(): Promise<void> {
  await client.busReady();
  process.send?.({ type: 'ready' });
  while (running) {
    for (const key of [...keys, ...tagged]) {
      const start = Date.now();
      const value = await client.getOrLoad<{ version: number }>(key, () => load(key), {
        ttlMs: 60_000,
        tags: tagged.includes(key) ? [tag] : undefined,
      });
      const perKey = (seen[key] ??= {});
      const s = (perKey[value.version] ??= { first: start, last: start });
      s.last = start;
    }
    await sleep(1);
  }
}

process.on('message', (msg: { cmd: string }) => {
  if (msg.cmd === 'pause') {
    client.pauseBus(true);
    pausedAt = Date.now();
    process.send?.({ type: 'paused', at: pausedAt });
  } else if (msg.cmd === 'resume') {
    client.pauseBus(false);
    pausedAt = undefined;
    process.send?.({ type: 'resumed' });
  } else if (msg.cmd === 'report') {
    process.send?.({ type: 'report', seen, told, l1: client.l1Stats() });
  } else if (msg.cmd === 'stop') {
    running = false;
    void client.close().finally(() => {
      redis.disconnect();
      db.disconnect();
      process.exit(0);
    });
  }
});

void loop().catch((error: Error) => {
  process.send?.({ type: 'error', message: error.stack ?? error.message });
  process.exit(1);
});
