// Bounded staleness, proven: three reader PROCESSES (test/support/l1-reader.ts: a
// CacheClient with L1 + the bus), the real invalidator (BUS_ENABLED) and Redis.
// - healthy bus: once a reader has applied the bus message of an event, none of its later
//   reads returns an older version (keys, a tagged aggregate, a namespaced key); the bus delay
//   (invalidator publish -> reader applied) is reported with its p99;
// - a reader whose bus connection is killed drops its L1 and keeps the same invariant;
// - a reader whose bus goes silent never answers from L1 later than maxStalenessMs after it.
// No timing asserts beyond the configured staleness bound; figures are printed.
import { ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Redis from 'ioredis';
import { stringify } from 'yaml';
import type { Producer } from 'kafkajs';
import { spawnInvalidator, InvalidatorProcess } from '../../scripts/support/invalidator-process';
import { productEvent, publish } from '../support/events';
import { invalidatorTestEnv } from '../support/invalidator-env';
import { eventually, kafka, redis, stackEnv, uniqueName } from '../support/stack-env';

const ROOT = join(__dirname, '..', '..');
const MAX_STALENESS_MS = 1500;
const IDS = ['1', '2', '3', '4'];

interface Report {
  seen: Record<string, Record<string, { first: number; last: number }>>;
  told: Array<{ keys: Array<[string, number]>; tags: string[]; ns: Array<[string, number]>; at: number; processedAt: number }>;
  l1: { entries: number; bytes: number };
}

interface Round {
  id: string;
  version: number;
  round: number;
  publishedAt: number;
}

class Reader {
  private out = '';
  private waiters: Array<{ type: string; resolve: (m: { type: string }) => void }> = [];
  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    child.stdout?.on('data', (d: Buffer) => (this.out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.out += d.toString()));
    child.on('message', (m: { type: string }) => {
      const i = this.waiters.findIndex((w) => w.type === m.type);
      if (i >= 0) this.waiters.splice(i, 1)[0].resolve(m);
    });
  }
  next<T>(type: string): Promise<T> {
    // the child answers `type` with a T (the message protocol of test/support/l1-reader.ts)
    return new Promise((resolve) => this.waiters.push({ type, resolve: (m) => resolve(m as T) }));
  }
  async ask<T>(cmd: string, reply: string): Promise<T> {
    const got = this.next<T>(reply);
    this.child.send({ cmd });
    return got;
  }
  output(): string {
    return this.out;
  }
}

function p(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

describe('L1 + invalidation bus across reader processes and the real invalidator', () => {
  const streamKey = `~bus{${uniqueName('l1e2e')}}`;
  const prefix = uniqueName('l1p');
  const tag = `${prefix}-tag:acme`;
  const namespace = `${prefix}-ns:`;
  const productKey = (id: string) => `${prefix}:${id}`;
  const pageKey = `${prefix}-page:all`;
  const nsKey = `${namespace}list`;
  let invalidator: InvalidatorProcess;
  const readers: Reader[] = [];
  let producer: Producer;
  let db: Redis;
  let topic: string;
  const versions = new Map<string, number>();
  let round = 0;

  beforeAll(async () => {
    db = redis();
    const env = await invalidatorTestEnv({
      partitions: 1,
      extra: { BUS_ENABLED: 'true', BUS_STREAM_KEY: streamKey, BUS_HEARTBEAT_MS: '200' },
    });
    topic = env.topic;
    writeFileSync(
      env.mappingsFile,
      stringify({
        mappings: [
          {
            id: 'l1.product',
            entityType: 'product',
            owner: 'catalog',
            description: 'L1 bus e2e: the product key tombstoned, a tag, a namespace bumped',
            keys: [{ template: `${prefix}:{entityId}`, action: 'tombstone', tombstoneTtlSeconds: 600 }],
            tags: [`${prefix}-tag:{tenant}`],
            namespaces: [namespace],
          },
        ],
      }),
    );
    invalidator = await spawnInvalidator(env.env);
    for (const id of IDS) await db.set(`db:${productKey(id)}`, JSON.stringify({ version: 1 }));
    await db.set(`db:${pageKey}`, JSON.stringify({ version: 0 }));
    await db.set(`db:${nsKey}`, JSON.stringify({ version: 0 }));
    IDS.forEach((id) => versions.set(id, 1));
    for (let i = 0; i < 3; i += 1) {
      const child = spawn(
        process.execPath,
        ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', join(ROOT, 'test/support/l1-reader.ts')],
        {
          cwd: ROOT,
          env: {
            ...process.env,
            TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'),
            REDIS_URL: stackEnv.redisUrl,
            BUS_STREAM_KEY: streamKey,
            MAX_STALENESS_MS: String(MAX_STALENESS_MS),
            READER_NAME: `reader-${i}`,
            READER_KEYS: [...IDS.map(productKey), nsKey].join(','),
            READER_TAGGED: pageKey,
            READER_TAG: tag,
            READER_NAMESPACES: namespace,
            LOG_LEVEL: 'warn',
          },
          stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        },
      );
      const reader = new Reader(`reader-${i}`, child);
      readers.push(reader);
    }
    await Promise.all(readers.map((r) => r.next('ready')));
    producer = kafka('l1-e2e').producer();
    await producer.connect();
  }, 120_000);

  afterAll(async () => {
    await producer?.disconnect();
    for (const r of readers) r.child.send({ cmd: 'stop' });
    await Promise.all(
      readers.map((r) => new Promise((resolve) => (r.child.exitCode !== null ? resolve(null) : r.child.once('exit', resolve)))),
    );
    await invalidator?.terminate();
    db?.disconnect();
  }, 60_000);

  /** One event: the database changes first, then the event is published. Waits until every reader shows it. */
  async function oneRound(): Promise<Round> {
    round += 1;
    const id = IDS[round % IDS.length];
    const version = (versions.get(id) ?? 1) + 1;
    versions.set(id, version);
    await db.set(`db:${productKey(id)}`, JSON.stringify({ version }));
    await db.set(`db:${pageKey}`, JSON.stringify({ version: round }));
    await db.set(`db:${nsKey}`, JSON.stringify({ version: round }));
    const publishedAt = Date.now();
    await publish(producer, topic, [productEvent(id, version, { price: version })]);
    await eventually(
      `round ${round}: every reader serves ${productKey(id)} v${version}, page and namespaced list ${round}`,
      async () => {
        const reports = await Promise.all(readers.map((r) => r.ask<Report>('report', 'report')));
        return reports.every((rep) => rep.seen[productKey(id)]?.[version] && rep.seen[pageKey]?.[round] && rep.seen[nsKey]?.[round]);
      },
      30_000,
      50,
    );
    return { id, version, round, publishedAt };
  }

  /** The invariant: after a reader applied the bus message of a change, it never returned an older version. */
  function checkInvariant(reader: string, rep: Report, rounds: Round[]): number[] {
    const delays: number[] = [];
    for (const r of rounds) {
      const keyMsg = rep.told.find((t) => t.keys.some(([k, v]) => k === productKey(r.id) && v === r.version));
      const tagMsg = rep.told.find((t) => t.tags.includes(tag) && t.at >= r.publishedAt);
      const nsMsg = rep.told.find((t) => t.ns.some(([n]) => n === namespace) && t.at >= r.publishedAt);
      for (const [msg, key, version] of [
        [keyMsg, productKey(r.id), r.version],
        [tagMsg, pageKey, r.round],
        [nsMsg, nsKey, r.round],
      ] as const) {
        if (!msg) continue; // a reader that was cut may have caught up through a drop instead
        delays.push(msg.processedAt - msg.at);
        for (const [seenVersion, s] of Object.entries(rep.seen[key] ?? {})) {
          if (Number(seenVersion) < version && s.last > msg.processedAt) {
            throw new Error(`${reader}: ${key} v${seenVersion} read at ${s.last}, after the bus told it v${version} at ${msg.processedAt}`);
          }
        }
      }
    }
    return delays;
  }

  it('healthy bus: no reader serves an old value after it applied the bus message; bus delay p99 reported', async () => {
    const rounds: Round[] = [];
    for (let i = 0; i < 12; i += 1) rounds.push(await oneRound());
    const reports = await Promise.all(readers.map((r) => r.ask<Report>('report', 'report')));
    const delays = reports.flatMap((rep, i) => checkInvariant(readers[i].name, rep, rounds));
    expect(delays.length).toBeGreaterThanOrEqual(rounds.length * 3 * 3 * 0.9);
    console.log(
      `bus delay (invalidator announce -> reader L1 drop), ${delays.length} samples: p50 ${p(delays, 0.5)} ms, p99 ${p(delays, 0.99)} ms, max ${Math.max(...delays)} ms; ` +
        `L1 entries per reader: ${reports.map((r) => r.l1.entries).join(', ')}`,
    );
    expect(reports.every((r) => r.l1.entries > 0)).toBe(true);
  }, 180_000);

  it('a reader whose bus connection is killed drops its L1 and keeps the invariant', async () => {
    const admin = redis();
    const list = (await admin.client('LIST')) as string;
    const line = list.split('\n').find((l) => / name=cache-bus:client-/.test(l) || l.includes('name=cache-bus:'));
    expect(line).toBeDefined();
    await admin.client('KILL', 'ID', /id=(\d+)/.exec(line!)![1]);
    admin.disconnect();
    const rounds: Round[] = [];
    for (let i = 0; i < 3; i += 1) rounds.push(await oneRound());
    const reports = await Promise.all(readers.map((r) => r.ask<Report>('report', 'report')));
    reports.forEach((rep, i) => checkInvariant(readers[i].name, rep, rounds));
  }, 120_000);

  it('a reader whose bus goes silent never answers from L1 later than maxStalenessMs after it', async () => {
    const cut = readers[0];
    const paused = await cut.ask<{ at: number }>('pause', 'paused');
    const r = await oneRound(); // waits until the cut reader serves the new version too (from Redis, once L1 is past its bound)
    const rep = await cut.ask<Report & { seen: Report['seen'] }>('report', 'report');
    const firstNew = rep.seen[productKey(r.id)][r.version].first;
    console.log(
      `silent bus: cut reader served v${r.version} ${firstNew - r.publishedAt} ms after the event was published (bus cut ${r.publishedAt - paused.at} ms before; maxStalenessMs ${MAX_STALENESS_MS})`,
    );
    await sleep(MAX_STALENESS_MS + 300);
    const after = await cut.ask<Report>('report', 'report');
    // the old version was last read no later than maxStalenessMs after the cut (plus one read's time)
    // ...or before the invalidator applied the event (Redis itself still had it): the other readers heard when
    const other = await readers[1].ask<Report>('report', 'report');
    const appliedAt =
      other.told.find((t) => t.keys.some(([k, v]) => k === productKey(r.id) && v === r.version))?.at ?? Number.POSITIVE_INFINITY;
    for (const [v, s] of Object.entries(after.seen[productKey(r.id)])) {
      if (Number(v) < r.version) expect(s.last).toBeLessThanOrEqual(Math.max(paused.at + MAX_STALENESS_MS + 100, appliedAt));
    }
    await cut.ask('resume', 'resumed');
  }, 120_000);
});
