// through the real invalidator: its Redis is over maxmemory with noeviction.
// The partition must not stall (before: an OOM error from the batch script made the apply retry
// forever): deletes and tombstones land, the product page's warm degrades to a tombstone of the
// event's version, counted in invalidator_keys_total{outcome="warm-degraded-oom"}, and the
// offsets are committed. Own redis-server on a free loopback port; the stack's Kafka.
import type Redis from 'ioredis';
import type { Producer } from 'kafkajs';
import { CacheProtocol } from '@app/cache-protocol';
import { loadInvalidatorConfig } from '../../apps/invalidator/src/config/invalidator.config';
import { RunningInvalidator, startInvalidator } from '../../apps/invalidator/src/bootstrap';
import { OwnRedis, startOwnRedis } from '../support/own-redis';
import { productEvent, publish } from '../support/events';
import { committedVsEnd, fillAggregate, fillVersion, invalidatorTestEnv, InvalidatorTestEnv } from '../support/invalidator-env';
import { eventually, kafka, uniqueName } from '../support/stack-env';

describe('invalidator with Redis at maxmemory (noeviction)', () => {
  let own: OwnRedis;
  let r: Redis;
  let protocol: CacheProtocol;
  let t: InvalidatorTestEnv;
  let running: RunningInvalidator;
  let producer: Producer;

  beforeAll(async () => {
    own = await startOwnRedis('inv-oom');
    r = own.redis;
    protocol = new CacheProtocol(r);
    t = await invalidatorTestEnv({ partitions: 1, redisUrl: own.url });
    running = await startInvalidator(loadInvalidatorConfig(t.env));
    producer = kafka('e2e-producer').producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
  });

  afterAll(async () => {
    await producer?.disconnect();
    await running?.close();
    await own?.stop();
  });

  it('applies every event as invalidations at worst, degrades warms, commits, and counts warm-degraded-oom', async () => {
    const id = uniqueName('p');
    await fillVersion(protocol, `product:${id}`, 1, JSON.stringify({ price: 1 }));
    await fillVersion(protocol, `product-summary:${id}`, 1, 'summary-v1');
    await fillAggregate(protocol, `category:c-${id}:products`, '[1]');

    // Over maxmemory: 2 MB of junk, then maxmemory 1 MB below what is used (noeviction cannot evict).
    const batch = r.pipeline();
    for (let i = 0; i < 256; i += 1) batch.set(`junk:${i}`, 'x'.repeat(8 * 1024));
    await batch.exec();
    const used = Number(/used_memory:(\d+)/.exec(await r.info('memory'))?.[1]);
    await r.config('SET', 'maxmemory-policy', 'noeviction');
    await r.config('SET', 'maxmemory', String(used - 1024 * 1024));
    await expect(r.set('probe', 'x')).rejects.toThrow(/^OOM /);

    await publish(producer, t.topic, [productEvent(id, 2, { categoryId: `c-${id}`, price: 2 })]);
    await eventually('every offset committed', async () => {
      const { committed, end } = await committedVsEnd(t.groupId, t.topic);
      return end > 0 && committed === end;
    });

    const page = await protocol.inspect(`product:${id}`);
    expect(page.entry).toBeUndefined(); // the warm could not be written: the page was invalidated instead
    expect(page.tombstoneVersion).toBe(2);
    expect(await protocol.inspect(`product-summary:${id}`)).toMatchObject({ tombstoneVersion: 2 });
    expect((await protocol.inspect(`category:c-${id}:products`)).entry).toBeUndefined();
    const metrics = await (await fetch(`http://127.0.0.1:${running.port}/metrics`)).text();
    expect(metrics).toMatch(/invalidator_keys_total\{outcome="warm-degraded-oom"\} 1\b/);
    expect(metrics).toMatch(/invalidator_redis_retries_total 0\b/);
  });
});
