// Guarantees under faults, with the invalidator as a real child process:
// kill -9 mid-batch + restart, a rebalance between two instances under traffic, Redis stopped
// and restarted under traffic, the Kafka broker frozen longer than the request timeout. After each: every committed event's keys are gone or at least
// as new (guarantee 1), nothing moved backwards (guarantee 3).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import type { Producer } from 'kafkajs';
import { CacheProtocol } from '@app/cache-protocol';
import { INVALIDATOR_METRIC_NAMES } from '@app/telemetry';
import type { EntityUpdated } from '@app/contracts';
import { startRedisNode, stopRedisNode, RedisNodeInfo } from '../../scripts/stack/redis';
import { productEvent, publish } from '../support/events';
import { committedVsEnd, fillVersion, invalidatorTestEnv, processMetric } from '../support/invalidator-env';
import { spawnInvalidator, InvalidatorProcess } from '../../scripts/support/invalidator-process';
import { eventually, kafka, redis, uniqueName } from '../support/stack-env';
import { freezeBroker } from '../support/broker-freeze';

/** Asserts, for every entity, that the page holds >= its newest version and the summary is tombstoned at >= it. */
async function expectNoLostInvalidation(protocol: CacheProtocol, newest: Map<string, number>): Promise<void> {
  const ids = [...newest.keys()];
  const problems: string[] = [];
  for (let i = 0; i < ids.length; i += 500) {
    const slice = ids.slice(i, i + 500);
    const pages = await Promise.all(slice.map((id) => protocol.inspect(`product:${id}`)));
    const summaries = await Promise.all(slice.map((id) => protocol.inspect(`product-summary:${id}`)));
    slice.forEach((id, j) => {
      const want = newest.get(id)!;
      const page = pages[j].entry?.version ?? pages[j].tombstoneVersion ?? 0;
      const summary = Math.max(summaries[j].entry?.version ?? 0, summaries[j].tombstoneVersion ?? 0);
      if (page < want) problems.push(`product:${id} at ${page}, event ${want} committed`);
      if (summary < want || summaries[j].entry !== undefined) problems.push(`product-summary:${id} not invalidated to ${want}`);
    });
  }
  expect(problems.slice(0, 10)).toEqual([]);
}

describe('invalidator under faults (real Kafka + Redis, child processes)', () => {
  let producer: Producer;
  let r: Redis;
  let protocol: CacheProtocol;
  const children: InvalidatorProcess[] = [];

  beforeAll(async () => {
    producer = kafka('e2e-faults').producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    r = redis();
    protocol = new CacheProtocol(r);
  });

  afterEach(async () => {
    await Promise.all(
      children
        .splice(0)
        .filter((c) => c.child.exitCode === null)
        .map((c) => c.kill9()),
    );
  });

  afterAll(async () => {
    await producer?.disconnect();
    r?.disconnect();
  });

  it('kill -9 in the middle of the backlog, restart: no lost invalidation', async () => {
    const t = await invalidatorTestEnv({ partitions: 3, extra: { CHUNK_SIZE: '25' } });
    const prefix = uniqueName('k9');
    const total = 12_000;
    const newest = new Map<string, number>();
    const events: EntityUpdated[] = [];
    const preload: [string, string][] = [];
    for (let i = 0; i < total; i += 1) {
      const id = `${prefix}-${i}`;
      newest.set(id, 2);
      events.push(productEvent(id, 2, { categoryId: 'c', price: 2 }));
      // v1 cached by readers (a warm only rewrites a cached value)
      preload.push([`product:${id}`, '{"price":1}'], [`product-summary:${id}`, 'v1']);
    }
    for (let i = 0; i < preload.length; i += 1000)
      await Promise.all(preload.slice(i, i + 1000).map(([key, value]) => fillVersion(protocol, key, 1, value, 600_000)));
    for (let i = 0; i < events.length; i += 2000) await publish(producer, t.topic, events.slice(i, i + 2000));

    const first = await spawnInvalidator(t.env);
    children.push(first);
    await eventually(
      'some progress committed',
      async () => (await committedVsEnd(t.groupId, t.topic)).committed >= total * 0.05,
      60_000,
      20,
    );
    await first.kill9();
    const atKill = await committedVsEnd(t.groupId, t.topic);
    expect(atKill.committed).toBeLessThan(atKill.end); // the kill really hit mid-backlog

    const second = await spawnInvalidator(t.env);
    children.push(second);
    await eventually(
      'backlog drained after restart',
      async () => {
        const { committed, end } = await committedVsEnd(t.groupId, t.topic);
        return committed === end;
      },
      90_000,
      200,
    );
    await expectNoLostInvalidation(protocol, newest);
  });

  it('two instances in one group, a rebalance under traffic, then SIGTERM of one: nothing lost, nothing backwards', async () => {
    const t = await invalidatorTestEnv({ partitions: 6, extra: { CHUNK_SIZE: '50' } });
    const prefix = uniqueName('rb');
    const newest = new Map<string, number>();
    // Every page cached by a reader at v1 first: the events' warms then rewrite it (a warm never
    // creates a value), so the page must end at exactly the newest version's value.
    await Promise.all(
      Array.from({ length: 400 }, (_, i) => `${prefix}-${i}`).map(
        (id) => (newest.set(id, 1), fillVersion(protocol, `product:${id}`, 1, '{"price":1}', 600_000)),
      ),
    );
    let publishing = true;
    let published = 0;
    const traffic = (async () => {
      let round = 0;
      while (publishing) {
        round += 1;
        const batch: EntityUpdated[] = [];
        for (let i = 0; i < 200; i += 1) {
          const id = `${prefix}-${(round * 37 + i) % 400}`;
          const v = (newest.get(id) ?? 0) + 1;
          newest.set(id, v);
          batch.push(productEvent(id, v, { categoryId: `c${v % 5}`, price: v }));
        }
        await publish(producer, t.topic, batch);
        published += batch.length;
        await new Promise((res) => setTimeout(res, 25));
      }
    })();

    try {
      const a = await spawnInvalidator(t.env);
      children.push(a);
      await eventually('A applies traffic', async () => (await processMetric(a.port, INVALIDATOR_METRIC_NAMES.applied)) > 500, 30_000);
      const b = await spawnInvalidator(t.env);
      children.push(b);
      await eventually(
        'B gets partitions and applies',
        async () => (await processMetric(b.port, INVALIDATOR_METRIC_NAMES.applied)) > 200,
        60_000,
        200,
      );
      const exit = await a.terminate(20_000);
      if (exit !== 0) throw new Error(`A exited ${exit} on SIGTERM; its last output:\n${a.output().slice(-6000)}`);
    } finally {
      publishing = false;
      await traffic.catch(() => undefined);
    }
    expect(published).toBeGreaterThan(1000);
    await eventually(
      'everything committed by B',
      async () => {
        const { committed, end } = await committedVsEnd(t.groupId, t.topic);
        return committed === end;
      },
      60_000,
      200,
    );
    await expectNoLostInvalidation(protocol, newest);
    // the page holds exactly the newest version's value: never an older one
    const touched = [...newest.entries()].filter(([, v]) => v > 1);
    expect(touched.length).toBeGreaterThan(50);
    for (const [id, v] of touched.slice(0, 50)) {
      const page = await protocol.inspect(`product:${id}`);
      expect((JSON.parse(page.entry!.payload) as { price: number }).price).toBe(v);
    }
  });

  it('Redis stopped under traffic: nothing committed past the gap; restarted: everything applied', async () => {
    let node: RedisNodeInfo = await startRedisNode(mkdtempSync(join(tmpdir(), 'redis-gap-')));
    const own = new Redis({ port: node.port, host: '127.0.0.1', maxRetriesPerRequest: 1, retryStrategy: () => 200 });
    own.on('error', () => undefined);
    const ownProtocol = new CacheProtocol(own);
    try {
      const t = await invalidatorTestEnv({ partitions: 3, redisUrl: `redis://127.0.0.1:${node.port}` });
      const child = await spawnInvalidator(t.env);
      children.push(child);
      const prefix = uniqueName('gap');
      const before = Array.from({ length: 100 }, (_, i) => productEvent(`${prefix}-${i}`, 1, { categoryId: 'c', price: 1 }));
      await publish(producer, t.topic, before);
      await eventually('first wave committed', async () => (await committedVsEnd(t.groupId, t.topic)).committed === 100);

      await stopRedisNode(node);
      const during = Array.from({ length: 100 }, (_, i) => productEvent(`${prefix}-${i}`, 2, { categoryId: 'c', price: 2 }));
      await publish(producer, t.topic, during);
      await eventually(
        'invalidator is retrying against the dead Redis',
        async () => (await processMetric(child.port, INVALIDATOR_METRIC_NAMES.redisRetries)) >= 3,
        30_000,
        100,
      );
      const gap = await committedVsEnd(t.groupId, t.topic);
      expect(gap.end).toBe(200);
      expect(gap.committed).toBe(100); // nothing past the gap
      const notReady = await fetch(`http://127.0.0.1:${child.port}/health/ready`);
      expect(notReady.status).toBe(503);

      node = await startRedisNode(node.dir, { port: node.port });
      await eventually(
        'second wave committed after Redis is back',
        async () => (await committedVsEnd(t.groupId, t.topic)).committed === 200,
        60_000,
        100,
      );
      await expectNoLostInvalidation(ownProtocol, new Map(during.map((e) => [e.entityId, 2])));
    } finally {
      own.disconnect();
      await stopRedisNode(node);
    }
  });

  it('Kafka broker frozen (SIGSTOP) under traffic, longer than the request timeout: the same process recovers and applies everything', async () => {
    // 2 s request timeout, 15 s freeze: every in-flight request (fetch, heartbeat, commit, join)
    // times out, the client's own retries run out, and the broker wakes up with the member's
    // session (6 s) expired: it must rejoin. None of that is fatal: no exit, no restart needed.
    const t = await invalidatorTestEnv({ partitions: 3, extra: { KAFKA_REQUEST_TIMEOUT_MS: '2000', LOG_LEVEL: 'info', CHUNK_SIZE: '50' } });
    const prefix = uniqueName('freeze');
    const newest = new Map<string, number>();
    await Promise.all(
      Array.from({ length: 200 }, (_, i) => `${prefix}-${i}`).map(
        (id) => (newest.set(id, 1), fillVersion(protocol, `product:${id}`, 1, '{"price":1}', 600_000)),
      ),
    );
    const child = await spawnInvalidator(t.env);
    children.push(child);
    let publishing = true;
    const traffic = (async () => {
      for (let round = 0; publishing; round += 1) {
        const batch: EntityUpdated[] = [];
        for (let i = 0; i < 50; i += 1) {
          const id = `${prefix}-${(round * 13 + i) % 200}`;
          const v = (newest.get(id) ?? 0) + 1;
          newest.set(id, v);
          batch.push(productEvent(id, v, { categoryId: `c${v % 5}`, price: v }));
        }
        // While the broker is frozen this send waits (kafkajs retries it), as a write service's would.
        await publish(producer, t.topic, batch);
        await new Promise((res) => setTimeout(res, 50));
      }
    })();
    try {
      await eventually('traffic applied', async () => (await processMetric(child.port, INVALIDATOR_METRIC_NAMES.applied)) > 300, 30_000);
      await freezeBroker(15_000);
      const atWake = await processMetric(child.port, INVALIDATOR_METRIC_NAMES.applied);
      await eventually(
        'traffic applied again after the broker woke up',
        async () => {
          if (child.child.exitCode !== null) throw new Error(`invalidator exited ${child.child.exitCode}`);
          return (await processMetric(child.port, INVALIDATOR_METRIC_NAMES.applied)) > atWake + 300;
        },
        90_000,
        200,
      );
    } finally {
      publishing = false;
      await traffic.catch(() => undefined);
    }
    await eventually(
      'everything committed by the same process',
      async () => {
        if (child.child.exitCode !== null) throw new Error(`invalidator exited ${child.child.exitCode}:\n${child.output().slice(-4000)}`);
        const { committed, end } = await committedVsEnd(t.groupId, t.topic);
        return committed === end;
      },
      90_000,
      200,
    );
    expect({ exitCode: child.child.exitCode, gaveUp: /stopped for good/.test(child.output()) }).toEqual({ exitCode: null, gaveUp: false });
    await expectNoLostInvalidation(protocol, new Map([...newest].filter(([, v]) => v > 1)));
    const ready = await fetch(`http://127.0.0.1:${child.port}/health/ready`);
    expect(ready.status).toBe(200);
  });
});
