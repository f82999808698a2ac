// Redis at maxmemory with `noeviction`. Invalidations (deletes, tombstones, tag
// purges) always land, a warm that cannot be written degrades to a tombstone of its version,
// a fill is refused cleanly (the reader keeps its loaded value, uncached) and nothing waits for
// memory to free up. Runs against its own redis-server (loopback, free port), filled until
// Redis answers OOM before every assertion.
import type Redis from 'ioredis';
import { Registry } from 'prom-client';
import { CacheClient } from '@app/cache-client';
import { CacheProtocol, KeyEffect } from '@app/cache-protocol';
import { OwnRedis, startOwnRedis } from '../support/own-redis';
import { uniqueName } from '../support/stack-env';

const JUNK = 'x'.repeat(8 * 1024);

describe('cache protocol at maxmemory with noeviction (own redis-server)', () => {
  let own: OwnRedis;
  let r: Redis;
  let p: CacheProtocol;
  let junk = 0;

  beforeAll(async () => {
    own = await startOwnRedis('cp-oom');
    r = own.redis;
    p = new CacheProtocol(r, { maxKeysPerScriptCall: 8 });
    await r.config('SET', 'maxmemory-policy', 'noeviction');
  });

  beforeEach(async () => {
    // each test starts below maxmemory, prepares its keys, then puts Redis over it
    await r.config('SET', 'maxmemory', '0');
    await r.flushall();
  });

  afterAll(async () => {
    await own?.stop();
  });

  /**
   * Puts Redis firmly over maxmemory: 2 MB of junk, then maxmemory set 1 MB below what is used
   * (noeviction cannot evict), so neither the small writes under test nor Redis shrinking client
   * buffers in the background bring it back under. A plain SET is refused afterwards (checked).
   */
  async function fillToOom(): Promise<void> {
    await r.config('SET', 'maxmemory', '0');
    const batch = r.pipeline();
    for (let i = 0; i < 256; i += 1) batch.set(`junk:${junk++}`, JUNK);
    await batch.exec();
    const used = Number(/used_memory:(\d+)/.exec(await r.info('memory'))?.[1]);
    await r.config('SET', 'maxmemory', String(used - 1024 * 1024));
    await expect(r.set(`junk:${junk++}`, 'x')).rejects.toThrow(/^OOM /);
  }

  async function fillFresh(key: string, version: number, tags?: string[]): Promise<void> {
    const got = await p.leaseGet(key, { leaseTtlMs: 5_000 });
    if (got.kind !== 'miss') throw new Error(`expected a miss on ${key}`);
    const epochs = tags ? await p.readTagEpochs(tags) : undefined;
    expect(await p.fill(got.lease, version, `v${version}`, { ttlMs: 60_000, tags: epochs })).toBe('filled');
  }

  it('invalidations of existing keys land (single, batch, tag purge), and tombstones are written', async () => {
    const keys = Array.from({ length: 20 }, () => uniqueName('product'));
    const tag = uniqueName('tag');
    const tagged = Array.from({ length: 10 }, () => uniqueName('page'));
    await Promise.all(keys.map((k) => fillFresh(k, 1)));
    await Promise.all(tagged.map((k) => fillFresh(k, 0, [tag])));
    await fillToOom();

    expect(await p.invalidate(keys[0], 2, 60_000)).toBe('deleted');
    await fillToOom();
    const effects: KeyEffect[] = keys
      .slice(1)
      .map((key, i) => ({ key, version: 2, action: i % 2 ? 'delete' : 'tombstone', tombstoneTtlMs: 60_000 }));
    expect(new Set(await p.applyKeyEffects(effects))).toEqual(new Set(['deleted']));
    await fillToOom();
    // a tombstone for a key that holds nothing: grows memory a little, still lands
    const empty = uniqueName('product');
    expect(await p.invalidate(empty, 5, 60_000)).toBe('tombstoned');
    expect(await p.applyKeyEffects([{ key: uniqueName('product'), version: 5, action: 'tombstone', tombstoneTtlMs: 60_000 }])).toEqual([
      'tombstoned',
    ]);
    await fillToOom();
    expect(await p.invalidateTags([{ tag, version: 1, tombstoneTtlMs: 60_000 }])).toEqual({ keysInvalidated: tagged.length });

    for (const k of [...keys, ...tagged]) expect((await p.inspect(k)).entry).toBeUndefined();
    expect((await p.inspect(keys[0])).tombstoneVersion).toBe(2);
    expect((await p.inspect(empty)).tombstoneVersion).toBe(5);
  });

  it('a warm that cannot be written degrades to a tombstone of its version, counted as warm-degraded-oom', async () => {
    const keys = Array.from({ length: 6 }, () => uniqueName('product'));
    await Promise.all(keys.map((k) => fillFresh(k, 1)));
    const reader = await p.leaseGet(uniqueName('never-filled'), { leaseTtlMs: 5_000 });
    await fillToOom();
    const tag = uniqueName('tag');
    const effects: KeyEffect[] = [
      { key: keys[0], version: 3, action: 'warm', tombstoneTtlMs: 60_000, value: 'v3', ttlMs: 60_000 },
      { key: keys[1], version: 3, action: 'tombstone', tombstoneTtlMs: 60_000 },
      { key: keys[2], version: 3, action: 'warm', tombstoneTtlMs: 60_000, value: 'v3', ttlMs: 60_000, tags: [tag] },
      { key: uniqueName('cold'), version: 3, action: 'warm', tombstoneTtlMs: 60_000, value: 'v3', ttlMs: 60_000 },
    ];
    // resolves (no retry loop waiting for memory): warms answered as degraded, the rest as usual
    expect(await p.applyKeyEffects(effects)).toEqual(['warm-degraded-oom', 'deleted', 'warm-degraded-oom', 'warm-degraded-oom']);
    for (const e of effects) {
      const state = await p.inspect(e.key);
      expect(state.entry).toBeUndefined();
      expect(state.tombstoneVersion).toBe(3);
    }
    await fillToOom();
    expect(await p.warm(keys[3], 4, 'v4', 60_000)).toBe('warm-degraded-oom');
    expect(await p.inspect(keys[3])).toMatchObject({ tombstoneVersion: 4 });
    expect((await p.inspect(keys[3])).entry).toBeUndefined();
    expect(reader.kind).toBe('miss');
  });

  it('a fill is refused cleanly: the lease is released and the reader gets its value uncached', async () => {
    const key = uniqueName('product');
    await fillToOom();
    const got = await p.leaseGet(key, { leaseTtlMs: 5_000 });
    if (got.kind !== 'miss') throw new Error('expected a miss (leases are granted at maxmemory)');
    expect(await p.fill(got.lease, 1, 'v1', { ttlMs: 60_000 })).toBe('refused-oom');
    expect(await p.inspect(key)).toEqual({});

    const registry = new Registry();
    const client = new CacheClient(r, { registry, name: 'oom' });
    let loads = 0;
    const load = async () => ({ value: { price: ++loads }, version: 1 });
    expect(await client.getOrLoad(key, load, { ttlMs: 60_000 })).toEqual({ price: 1 });
    expect(await client.getOrLoad(key, load, { ttlMs: 60_000, tags: [uniqueName('tag')] })).toEqual({ price: 2 });
    const rejected = await registry.getSingleMetric('cache_client_fills_rejected_total')?.get();
    expect(rejected?.values.filter((v) => v.labels.reason === 'refused-oom').reduce((a, v) => a + v.value, 0)).toBe(2);
    const unavailable = await registry.getSingleMetric('cache_client_redis_unavailable_total')?.get();
    expect(unavailable?.values.reduce((a, v) => a + v.value, 0) ?? 0).toBe(0);
    expect(await p.inspect(key)).toEqual({});
    await client.close();
  });

  it('concurrent fills on a fresh connection at maxmemory are refused as refused-oom, never NOSCRIPT (the refused EVAL loaded nothing)', async () => {
    // ioredis sends EVAL on a socket's first use of a script and then EVALSHA; Redis refused that
    // EVAL (OOM) without loading the script, so the EVALSHAs behind it answer NOSCRIPT, and
    // ioredis's own retry can go out as EVALSHA again. Readers must see refused-oom, not an error.
    await fillToOom();
    const fresh = own.client();
    try {
      await fresh.script('FLUSH');
      const q = new CacheProtocol(fresh);
      const keys = Array.from({ length: 12 }, () => uniqueName('fresh'));
      const leases = await Promise.all(keys.map((k) => q.leaseGet(k, { leaseTtlMs: 5_000 })));
      const outcomes = await Promise.all(
        leases.map((got) => {
          if (got.kind !== 'miss') throw new Error('expected a miss');
          return q.fill(got.lease, 1, 'v1', { ttlMs: 60_000 }).catch((error: Error) => `error: ${error.message}`);
        }),
      );
      expect(outcomes).toEqual(keys.map(() => 'refused-oom'));
    } finally {
      fresh.disconnect();
    }
  });

  it('warms land again once Redis is below maxmemory', async () => {
    const used = Number(/used_memory:(\d+)/.exec(await r.info('memory'))?.[1]);
    await r.config('SET', 'maxmemory', String(used + 1024 * 1024));
    const key = uniqueName('product');
    await fillFresh(key, 1); // a warm rewrites a cached value (it never creates one)
    expect(await p.warm(key, 2, 'v2', 60_000)).toBe('warmed');
    expect((await p.inspect(key)).entry).toMatchObject({ version: 2, payload: 'v2' });
    // and on an uncached key it leaves its floor, as when Redis is not full
    const cold = uniqueName('cold');
    expect(await p.warm(cold, 2, 'v2', 60_000)).toBe('tombstoned');
    expect(await p.inspect(cold)).toEqual(expect.objectContaining({ tombstoneVersion: 2 }));
  });
});
