// Redis going away, on a redis-server of this test's own (scripts/stack/redis.ts): reads are
// answered by the loader (counted, never an error), the invalidator side rejects so its caller
// retries, and both recover when Redis is back. Also: scripts survive SCRIPT FLUSH (NOSCRIPT).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { Registry } from 'prom-client';
import { CacheClient } from '@app/cache-client';
import { CacheProtocol, KeyEffect } from '@app/cache-protocol';
import { RedisNodeInfo, startRedisNode, stopRedisNode } from '../../scripts/stack/redis';
import { eventually, uniqueName } from '../support/stack-env';

async function unavailableCount(registry: Registry): Promise<number> {
  const metric = await registry.getSingleMetric('cache_client_redis_unavailable_total')?.get();
  return (metric?.values ?? []).reduce((sum, v) => sum + v.value, 0);
}

describe('when Redis is down', () => {
  let dir: string;
  let node: RedisNodeInfo;
  let reader: Redis;
  let writer: Redis;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cache-down-'));
    node = await startRedisNode(join(dir, 'redis'));
    // The reader keeps ioredis defaults (a user's usual setup: offline queue, 20 retries).
    reader = new Redis({ host: '127.0.0.1', port: node.port, retryStrategy: () => 50 });
    // The writer is configured like the invalidator's: fail fast, let the caller retry.
    writer = new Redis({ host: '127.0.0.1', port: node.port, maxRetriesPerRequest: 1, retryStrategy: () => 50 });
    reader.on('error', () => undefined);
    writer.on('error', () => undefined);
    await Promise.all([reader.ping(), writer.ping()]);
  });

  afterAll(async () => {
    reader.disconnect();
    writer.disconnect();
    await stopRedisNode(node);
    rmSync(dir, { recursive: true, force: true });
  });

  it('scripts keep working after SCRIPT FLUSH (EVALSHA falls back on NOSCRIPT), in pipelines too', async () => {
    const protocol = new CacheProtocol(writer, { maxKeysPerScriptCall: 4 });
    const keys = Array.from({ length: 20 }, () => uniqueName('flush'));
    const effects: KeyEffect[] = keys.map((key) => ({ key, version: 1, action: 'tombstone', tombstoneTtlMs: 60_000 }));
    expect(await protocol.applyKeyEffects(effects)).toEqual(keys.map(() => 'tombstoned'));
    await writer.script('FLUSH');
    expect(await protocol.applyKeyEffects(effects.map((e) => ({ ...e, version: 2 })))).toEqual(keys.map(() => 'tombstoned'));
    await writer.script('FLUSH');
    expect((await protocol.leaseGet(keys[0], { leaseTtlMs: 1000 })).kind).toBe('miss');
    // The fallback really ran: Redis answered NOSCRIPT at least once per flush.
    const noscript = /errorstat_NOSCRIPT:count=(\d+)/.exec(await writer.info('errorstats'));
    expect(Number(noscript?.[1] ?? 0)).toBeGreaterThanOrEqual(2);
  });

  it('reads are answered by the loader while Redis is stopped, and use the cache again once it is back', async () => {
    const registry = new Registry();
    const client = new CacheClient(reader, { registry });
    const key = uniqueName('product');
    let calls = 0;
    const loader = async () => ({ value: { price: 5, call: ++calls }, version: 1 });
    expect(await client.getOrLoad(key, loader, { ttlMs: 60_000 })).toEqual({ price: 5, call: 1 });
    expect(await client.getOrLoad(key, loader, { ttlMs: 60_000 })).toEqual({ price: 5, call: 1 });

    await stopRedisNode(node);
    // Straight after the stop (the client may not have noticed yet) and then many times more.
    for (let i = 0; i < 20; i += 1) {
      const started = Date.now();
      const value = await client.getOrLoad(key, loader, { ttlMs: 60_000 });
      expect(value.price).toBe(5);
      expect(Date.now() - started).toBeLessThan(2_000); // bounded by redisTimeoutMs / waitMs, with room for a loaded CI machine
    }
    expect(calls).toBe(21);
    expect(await unavailableCount(registry)).toBe(20);

    node = await startRedisNode(join(dir, 'redis'), { port: node.port });
    await eventually('the client is connected again', () => reader.status === 'ready', 10_000);
    // A fresh Redis (no persistence): the first read fills, the next is a hit.
    await client.getOrLoad(key, loader, { ttlMs: 60_000 });
    const before = calls;
    await client.getOrLoad(key, loader, { ttlMs: 60_000 });
    expect(calls).toBe(before);
  });

  it('applyKeyEffects rejects while Redis is stopped (the invalidator retries the batch) and applies after it is back', async () => {
    const protocol = new CacheProtocol(writer);
    const key = uniqueName('product');
    await stopRedisNode(node);
    await expect(protocol.applyKeyEffects([{ key, version: 3, action: 'tombstone', tombstoneTtlMs: 60_000 }])).rejects.toThrow();
    node = await startRedisNode(join(dir, 'redis'), { port: node.port });
    await eventually('the writer is connected again', () => writer.status === 'ready', 10_000);
    expect(await protocol.applyKeyEffects([{ key, version: 3, action: 'tombstone', tombstoneTtlMs: 60_000 }])).toEqual(['tombstoned']);
  });
});
