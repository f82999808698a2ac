// Without a server: the client's edges (option checks, Redis already known to be down).
import type Redis from 'ioredis';
import { Registry } from 'prom-client';
import { CacheClient } from './cache-client';

function redisStub(status: string): Redis {
  return { status, options: {}, isCluster: false, defineCommand: () => undefined } as unknown as Redis;
}

describe('CacheClient without Redis', () => {
  it('answers from the loader when the connection is known to be down, and counts it', async () => {
    const registry = new Registry();
    const client = new CacheClient(redisStub('reconnecting'), { registry });
    const value = await client.getOrLoad('product:1', async () => ({ value: { price: 3 }, version: 2 }), { ttlMs: 1000 });
    expect(value).toEqual({ price: 3 });
    const metric = await registry.getSingleMetric('cache_client_redis_unavailable_total')?.get();
    expect(metric?.values[0]?.value).toBe(1);
  });

  it.each([
    [{ ttlMs: 0 }, 'OPTIONS_INVALID'],
    [{ ttlMs: 1.5 }, 'OPTIONS_INVALID'],
    [{ ttlMs: 10, jitterRatio: 1 }, 'OPTIONS_INVALID'],
    [{ ttlMs: 10, staleWhileRevalidateMs: -1 }, 'OPTIONS_INVALID'],
    [{ ttlMs: 10, loaderTimeoutMs: 0 }, 'OPTIONS_INVALID'],
    [{ ttlMs: 10, tags: ['bad tag'] }, 'KEY_BAD_CHARACTER'],
  ])('refuses %j with %s (as a rejected promise)', async (options, code) => {
    const client = new CacheClient(redisStub('reconnecting'), { registry: new Registry() });
    await expect(client.getOrLoad('product:1', async () => ({ value: 1, version: 1 }), options)).rejects.toMatchObject({ code });
  });

  it('still surfaces loader failures', async () => {
    const client = new CacheClient(redisStub('end'), { registry: new Registry() });
    await expect(client.getOrLoad('product:1', async () => Promise.reject(new Error('db down')), { ttlMs: 10 })).rejects.toThrow('db down');
  });

  it('refuses bad client options', () => {
    expect(() => new CacheClient(redisStub('ready'), { registry: new Registry(), redisTimeoutMs: 0 })).toThrow(
      expect.objectContaining({ code: 'OPTIONS_INVALID' }),
    );
  });
});
