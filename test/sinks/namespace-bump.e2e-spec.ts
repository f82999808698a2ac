// Namespace bumps from events against the stack's redis-server and its 3-master
// cluster: once per (entity, version), replays and duplicates change nothing, other entities
// are never suppressed, readers that declare the namespace see everything under it as a miss.
import type Redis from 'ioredis';
import { bumpNamespaces, CacheProtocol, namespaceKey, namespaceVersionsKey } from '@app/cache-protocol';
import { redis, redisCluster, uniqueName } from '../support/stack-env';

describe('namespace bumps from events', () => {
  let r: Redis;
  beforeAll(() => (r = redis()));
  afterAll(() => r.disconnect());

  const bump = (namespace: string, entity: string, version: number) =>
    bumpNamespaces(r, [{ namespace, entity, version, recordTtlMs: 60_000 }]);

  it('bumps once per (entity, version); duplicates and older replays do nothing; other entities still bump', async () => {
    const ns = `${uniqueName('pricing')}:`;
    expect(await bump(ns, 'product:1', 5)).toEqual([{ namespace: ns, bumped: true, generation: 1 }]);
    expect(await bump(ns, 'product:1', 5)).toEqual([{ namespace: ns, bumped: false, generation: 1 }]);
    expect(await bump(ns, 'product:1', 4)).toEqual([{ namespace: ns, bumped: false, generation: 1 }]);
    expect(await bump(ns, 'product:2', 1)).toEqual([{ namespace: ns, bumped: true, generation: 2 }]);
    expect(await bump(ns, 'product:1', 6)).toEqual([{ namespace: ns, bumped: true, generation: 3 }]);
    // Version 0 (unversioned) always bumps.
    expect((await bump(ns, 'product:1', 0))[0].bumped).toBe(true);
    expect(await r.hget(namespaceVersionsKey(ns), 'product:1')).toBe('6');
    expect(await r.pttl(namespaceVersionsKey(ns))).toBeGreaterThan(50_000);
  });

  it('a bumped namespace reads as a miss for readers declaring it; an evicted record bumps again (extra misses only)', async () => {
    const ns = `${uniqueName('pricing')}:`;
    const p = new CacheProtocol(r);
    const key = `${ns}product:9`;
    const generation = await p.namespaceGeneration(ns);
    const got = await p.leaseGet(key, { leaseTtlMs: 5_000, minNamespaceGeneration: generation });
    if (got.kind !== 'miss') throw new Error('expected a miss');
    expect(await p.fill(got.lease, 3, '{"price":1}', { ttlMs: 60_000, namespaceGeneration: generation })).toBe('filled');
    expect((await p.leaseGet(key, { leaseTtlMs: 5_000, minNamespaceGeneration: generation })).kind).toBe('hit');
    const [bumped] = await bump(ns, 'price-list:1', 2);
    expect((await p.leaseGet(key, { leaseTtlMs: 5_000, minNamespaceGeneration: bumped.generation })).kind).toBe('miss');
    await r.del(namespaceVersionsKey(ns));
    expect((await bump(ns, 'price-list:1', 2))[0].bumped).toBe(true);
  });

  it('one slot per bump on a Redis Cluster', async () => {
    const c = redisCluster();
    try {
      const namespaces = Array.from({ length: 8 }, (_, i) => `${uniqueName(`ns${i}`)}:`);
      const results = await bumpNamespaces(
        c,
        namespaces.map((namespace) => ({ namespace, entity: 'e:1', version: 1, recordTtlMs: 60_000 })),
      );
      expect(results.every((x) => x.bumped && x.generation === 1)).toBe(true);
      for (const ns of namespaces) expect(await c.get(namespaceKey(ns))).toBe('1');
    } finally {
      c.disconnect();
    }
  });
});
