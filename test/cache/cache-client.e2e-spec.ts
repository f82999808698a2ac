// The read-side client against the real redis-server (and cluster): stampede protection across
// processes, slow fills racing invalidations, stale-while-revalidate, deadlines, tags,
// namespaces, jitter, counters and the NestJS module.
import { setTimeout as sleep } from 'node:timers/promises';
import { Test } from '@nestjs/testing';
import Redis from 'ioredis';
import { Registry } from 'prom-client';
import { CacheClient, CacheClientModule, LoadResult } from '@app/cache-client';
import { CacheProtocol } from '@app/cache-protocol';
import { eventually, redis, redisCluster, stackEnv, uniqueName } from '../support/stack-env';

function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

async function counterValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = await registry.getSingleMetric(name)?.get();
  return (metric?.values ?? [])
    .filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))
    .reduce((sum, v) => sum + v.value, 0);
}

describe('cache client (read side)', () => {
  const connections: Redis[] = [];
  let protocol: CacheProtocol;
  let registry: Registry;
  let client: CacheClient;

  beforeAll(() => {
    for (let i = 0; i < 4; i += 1) connections.push(redis());
    protocol = new CacheProtocol(connections[0]);
  });
  beforeEach(() => {
    registry = new Registry();
    client = new CacheClient(connections[0], { registry });
  });
  afterAll(() => connections.forEach((c) => c.disconnect()));

  it('200 concurrent readers in separate clients on a cold key: exactly 1 loader call, everyone gets the value', async () => {
    const key = uniqueName('product');
    // One client per reader (4 connections shared): only the Redis lease can stop duplicate loads.
    const readers = Array.from({ length: 200 }, (_, i) => new CacheClient(connections[i % 4], { registry, coalesce: false }));
    let calls = 0;
    const loader = async (): Promise<LoadResult<{ price: number }>> => {
      calls += 1;
      await sleep(50);
      return { value: { price: 42 }, version: 1 };
    };
    const values = await Promise.all(readers.map((r) => r.getOrLoad(key, loader, { ttlMs: 60_000 })));
    expect(calls).toBe(1);
    expect(values.every((v) => v.price === 42)).toBe(true);
    expect(await counterValue(registry, 'cache_client_misses_total')).toBe(1);
    expect(await counterValue(registry, 'cache_client_hits_total')).toBe(199);
  });

  it('coalesces concurrent reads of one key inside one process too', async () => {
    const key = uniqueName('product');
    let calls = 0;
    const loader = async () => ({ value: ++calls, version: 1 });
    const values = await Promise.all(Array.from({ length: 50 }, () => client.getOrLoad(key, loader, { ttlMs: 60_000 })));
    expect(new Set(values)).toEqual(new Set([1]));
    expect(calls).toBe(1);
  });

  it('a slow fill racing an invalidation never lands: the next reader sees the new price', async () => {
    const key = uniqueName('product');
    let price = 10;
    let version = 1;
    const gate = deferred<void>();
    const loadStarted = deferred<void>();
    const slowLoader = async () => {
      const snapshot = { value: { price }, version };
      loadStarted.resolve();
      await gate.promise; // the read happened, the write lands before the fill
      return snapshot;
    };
    const slowRead = client.getOrLoad(key, slowLoader, { ttlMs: 60_000 });
    await loadStarted.promise;
    price = 12;
    version = 2;
    expect(await protocol.applyKeyEffects([{ key, version: 2, action: 'tombstone', tombstoneTtlMs: 60_000 }])).toEqual(['tombstoned']);
    gate.resolve();
    expect(await slowRead).toEqual({ price: 10 }); // that read overlapped the write: either answer is fair for it
    expect(await counterValue(registry, 'cache_client_fills_rejected_total', { reason: 'lease-lost' })).toBe(1);
    const fresh = await client.getOrLoad(key, async () => ({ value: { price }, version }), { ttlMs: 60_000 });
    expect(fresh).toEqual({ price: 12 });
    expect((await protocol.inspect(key)).entry?.payload).toBe('{"price":12}');
  });

  it('a slow fill of an aggregate (version 0) racing a tag invalidation never lands', async () => {
    const key = uniqueName('category-page');
    const tag = uniqueName('category');
    let items = ['a'];
    const gate = deferred<void>();
    const loadStarted = deferred<void>();
    const slowRead = client.getOrLoad(
      key,
      async () => {
        const snapshot = [...items];
        loadStarted.resolve();
        await gate.promise;
        return { value: snapshot, version: 0 };
      },
      { ttlMs: 60_000, tags: [tag] },
    );
    await loadStarted.promise;
    items = ['a', 'b'];
    await protocol.invalidateTags([{ tag, version: 7, tombstoneTtlMs: 60_000 }]);
    gate.resolve();
    await slowRead;
    expect(await counterValue(registry, 'cache_client_fills_rejected_total', { reason: 'tag-invalidated' })).toBe(1);
    expect(await client.getOrLoad(key, async () => ({ value: items, version: 0 }), { ttlMs: 60_000, tags: [tag] })).toEqual(['a', 'b']);
    // And the tag reaches the value that did land.
    await protocol.invalidateTags([{ tag, version: 8, tombstoneTtlMs: 60_000 }]);
    expect((await protocol.inspect(key)).entry).toBeUndefined();
  });

  it('serves stale within the grace window while exactly one reader refreshes', async () => {
    const key = uniqueName('product');
    let calls = 0;
    // The refresh (2nd load) waits until every stale read has answered, so none can see its result early.
    const refreshGate = deferred<void>();
    const loader = async () => {
      const call = ++calls;
      if (call === 2) await refreshGate.promise;
      return { value: `v${call}`, version: call };
    };
    const opts = { ttlMs: 40, staleWhileRevalidateMs: 60_000, jitterRatio: 0 };
    expect(await client.getOrLoad(key, loader, opts)).toBe('v1');
    await eventually(
      'the value turns stale',
      async () => (await protocol.leaseGet(key, { leaseTtlMs: 1, token: 'probe' })).kind === 'stale',
      5_000,
      10,
    );
    await protocol.releaseLease({ key, token: 'probe' });
    const servedWhileStale = await Promise.all(
      Array.from({ length: 20 }, (_, i) => new CacheClient(connections[i % 4], { registry }).getOrLoad(key, loader, opts)),
    );
    expect(new Set(servedWhileStale)).toEqual(new Set(['v1']));
    refreshGate.resolve();
    await eventually('the refresh lands', async () => (await protocol.inspect(key)).entry?.payload === '"v2"', 5_000, 10);
    expect(calls).toBe(2);
    expect(await counterValue(registry, 'cache_client_stale_served_total')).toBe(20);
  });

  it('waits for another loader only until waitMs, then loads itself', async () => {
    const key = uniqueName('product');
    const gate = deferred<void>();
    const holder = client.getOrLoad(key, async () => (await gate.promise, { value: 'holder', version: 1 }), { ttlMs: 60_000 });
    await eventually('the holder has the lease', async () => (await protocol.inspect(key)).leaseToken !== undefined, 5_000, 5);
    const other = new CacheClient(connections[1], { registry });
    const started = Date.now();
    expect(await other.getOrLoad(key, async () => ({ value: 'impatient', version: 1 }), { ttlMs: 60_000, waitMs: 100 })).toBe('impatient');
    expect(Date.now() - started).toBeLessThan(2_000); // bounded by redisTimeoutMs / waitMs, with room for a loaded CI machine
    expect(await counterValue(registry, 'cache_client_wait_timeouts_total')).toBe(1);
    gate.resolve();
    expect(await holder).toBe('holder');
  });

  it('times the loader out, gives the lease back, and the next reader loads at once', async () => {
    const key = uniqueName('product');
    const never = new Promise<LoadResult<string>>(() => undefined);
    await expect(client.getOrLoad(key, () => never, { ttlMs: 60_000, loaderTimeoutMs: 50 })).rejects.toMatchObject({
      code: 'LOADER_TIMEOUT',
    });
    expect((await protocol.inspect(key)).leaseToken).toBeUndefined();
    expect(await client.getOrLoad(key, async () => ({ value: 'ok', version: 1 }), { ttlMs: 60_000, waitMs: 0 })).toBe('ok');
  });

  it('jitters TTLs down by at most jitterRatio', async () => {
    const keys = Array.from({ length: 20 }, () => uniqueName('jitter'));
    await Promise.all(keys.map((k) => client.getOrLoad(k, async () => ({ value: 1, version: 1 }), { ttlMs: 100_000, jitterRatio: 0.2 })));
    const ttls = await Promise.all(keys.map(async (k) => (await protocol.inspect(k)).valueTtlMs ?? 0));
    expect(Math.min(...ttls)).toBeGreaterThanOrEqual(79_000);
    expect(Math.max(...ttls)).toBeLessThanOrEqual(100_000);
    expect(new Set(ttls.map((t) => Math.round(t / 1000))).size).toBeGreaterThan(3);
  });

  it('a namespace bump turns every value under it into a miss', async () => {
    const ns = `${uniqueName('ns')}:`;
    const nsClient = new CacheClient(connections[0], { registry, namespaces: [ns] });
    let generation = 1;
    const loader = async () => ({ value: `gen${generation}`, version: 1 });
    expect(await nsClient.getOrLoad(`${ns}a`, loader, { ttlMs: 60_000 })).toBe('gen1');
    expect(await nsClient.getOrLoad(`${ns}a`, loader, { ttlMs: 60_000 })).toBe('gen1');
    generation = 2;
    await protocol.bumpNamespace(ns);
    expect(await nsClient.getOrLoad(`${ns}a`, loader, { ttlMs: 60_000 })).toBe('gen2');
  });

  it('refuses bad input with a code; never a loader error for it', async () => {
    await expect(client.getOrLoad('bad key', async () => ({ value: 1, version: 1 }), { ttlMs: 1000 })).rejects.toMatchObject({
      code: 'KEY_BAD_CHARACTER',
    });
    await expect(client.getOrLoad(uniqueName('k'), async () => ({ value: 1, version: 1 }), { ttlMs: 0 })).rejects.toMatchObject({
      code: 'OPTIONS_INVALID',
    });
    await expect(client.getOrLoad(uniqueName('k'), async () => ({ value: 1, version: -1 }), { ttlMs: 1000 })).rejects.toMatchObject({
      code: 'LOADER_RESULT_INVALID',
    });
    const small = new CacheClient(connections[0], { registry, protocol: { maxValueBytes: 10 } });
    const key = uniqueName('big');
    expect(await small.getOrLoad(key, async () => ({ value: 'x'.repeat(100), version: 1 }), { ttlMs: 1000 })).toHaveLength(100);
    expect(await counterValue(registry, 'cache_client_fills_rejected_total', { reason: 'value-too-large' })).toBe(1);
    expect(await protocol.inspect(key)).toEqual({});
  });

  it('works on the 3-master cluster, with tags', async () => {
    const cluster = redisCluster();
    try {
      const clusterClient = new CacheClient(cluster, { registry });
      const clusterProtocol = new CacheProtocol(cluster);
      const tag = uniqueName('tag');
      const keys = Array.from({ length: 30 }, () => uniqueName('c'));
      let calls = 0;
      const load = async () => ({ value: ++calls, version: 0 });
      await Promise.all(keys.map((k) => clusterClient.getOrLoad(k, load, { ttlMs: 60_000, tags: [tag] })));
      await Promise.all(keys.map((k) => clusterClient.getOrLoad(k, load, { ttlMs: 60_000, tags: [tag] })));
      expect(calls).toBe(30);
      expect(await clusterProtocol.invalidateTags([{ tag, version: 1, tombstoneTtlMs: 60_000 }])).toEqual({ keysInvalidated: 30 });
      await Promise.all(keys.map((k) => clusterClient.getOrLoad(k, load, { ttlMs: 60_000, tags: [tag] })));
      expect(calls).toBe(60);
    } finally {
      cluster.disconnect();
    }
  });

  it('is provided by CacheClientModule, which closes the connection it created', async () => {
    let created: Redis | undefined;
    const moduleRef = await Test.createTestingModule({
      imports: [CacheClientModule.forRoot({ redis: () => (created = new Redis(stackEnv.redisUrl)), registry, name: 'nest' })],
    }).compile();
    await moduleRef.init();
    const fromNest = moduleRef.get(CacheClient);
    const key = uniqueName('nest');
    expect(await fromNest.getOrLoad(key, async () => ({ value: 'from nest', version: 1 }), { ttlMs: 60_000 })).toBe('from nest');
    expect(await counterValue(registry, 'cache_client_misses_total', { cache: 'nest' })).toBe(1);
    await moduleRef.close();
    await eventually('the module closed its connection', () => created?.status === 'end', 5_000);
  });
});
