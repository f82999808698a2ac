// Every protocol script on a real 3-master Redis Cluster: each touches only keys of one slot
// (no CROSSSLOT), the batch path groups by slot and pipelines per node, and our local slot
// computation agrees with the cluster's.
import { Cluster } from 'ioredis';
import {
  CacheProtocol,
  clusterSlot,
  legacyLeaseKey,
  legacyTombstoneKey,
  KeyEffect,
  namespaceKey,
  tagMembersKey,
  tagPendingKey,
  tagStateKey,
} from '@app/cache-protocol';
import { redisCluster, uniqueName } from '../support/stack-env';

describe('cache protocol on a 3-master Redis Cluster', () => {
  let c: Cluster;
  let p: CacheProtocol;

  beforeAll(async () => {
    c = redisCluster();
    p = new CacheProtocol(c, { maxKeysPerScriptCall: 8, tagScanCount: 20 });
    await c.ping();
  });
  afterAll(() => c.disconnect());

  // Plain keys spread over all slots, and hash-tagged keys that share a few slots (so batch calls carry several keys).
  const keysOf = (n: number) => [
    ...Array.from({ length: n }, (_, i) => uniqueName(`plain:${i}`)),
    ...Array.from({ length: n }, (_, i) => `{${uniqueName(`tenant-${i % 4}`).slice(0, 10)}}:${uniqueName('cart')}`),
  ];

  it('computes the same slot as the cluster for keys and all their companions', async () => {
    const key = `{t1}${uniqueName('x')}`;
    const samples = [
      uniqueName('p'),
      key,
      'produit:é',
      legacyTombstoneKey(key),
      legacyLeaseKey('plain'),
      tagStateKey('tag:a'),
      tagMembersKey('tag:a'),
      tagPendingKey('tag:a', 1_764_000_000_000_001),
      namespaceKey('ns:a'),
    ];
    for (const k of samples) expect([k, clusterSlot(k)]).toEqual([k, Number(await c.cluster('KEYSLOT', k))]);
  });

  it('runs invalidate, warm, leaseGet, fill and releaseLease for keys of every node without CROSSSLOT', async () => {
    const keys = keysOf(30);
    const slots = new Set(keys.map(clusterSlot));
    expect(slots.size).toBeGreaterThan(20);
    await Promise.all(
      keys.map(async (key, i) => {
        const got = await p.leaseGet(key, { leaseTtlMs: 5_000 });
        if (got.kind !== 'miss') throw new Error(`expected a miss on ${key}`);
        if (i % 5 === 0) {
          expect(await p.releaseLease(got.lease)).toBe(true);
          return;
        }
        expect(await p.fill(got.lease, 2, 'v2', { ttlMs: 60_000 })).toBe('filled');
        expect(await p.warm(key, 3, 'v3', 60_000)).toBe('warmed');
        expect(await p.invalidate(key, 4, 30_000)).toBe('deleted');
        expect(await p.invalidate(key, 4, 30_000)).toBe('skipped-older');
      }),
    );
  });

  /** A reader's fill of `version` (lease, then fill): what a warm may then rewrite. */
  async function fillFresh(key: string, version: number, value: string): Promise<void> {
    const got = await p.leaseGet(key, { leaseTtlMs: 5_000 });
    if (got.kind !== 'miss') throw new Error(`expected a miss on ${key}`);
    expect(await p.fill(got.lease, version, value, { ttlMs: 60_000 })).toBe('filled');
  }

  it('applies a batch spanning all nodes, several keys per call where keys share a slot', async () => {
    const keys = keysOf(150);
    await Promise.all(keys.slice(0, 50).map((k) => fillFresh(k, 5, 'v5')));
    const effects: KeyEffect[] = keys.map((key, i) =>
      i % 3 === 0
        ? { key, version: 6, action: 'warm', tombstoneTtlMs: 1, value: 'v6', ttlMs: 60_000 }
        : { key, version: 6, action: i % 3 === 1 ? 'tombstone' : 'delete', tombstoneTtlMs: 30_000 },
    );
    const outcomes = await p.applyKeyEffects(effects);
    expect(outcomes).toHaveLength(effects.length);
    effects.forEach((e, i) => {
      // a warm rewrites the cached values (the first 50 keys) and leaves only its floor elsewhere
      if (e.action === 'warm') expect([i, outcomes[i]]).toEqual([i, i < 50 ? 'warmed' : 'tombstoned']);
      else if (i < 50 || e.action === 'delete') expect(outcomes[i]).toBe('deleted');
      else expect(outcomes[i]).toBe('tombstoned');
    });
    expect(new Set(await p.applyKeyEffects(effects))).toEqual(new Set(['skipped-older', 'deleted']));
    const sample = await Promise.all([keys[0], keys[1], keys[3], keys[51]].map((k) => p.inspect(k)));
    expect(sample.map((s) => s.entry?.payload ?? s.tombstoneVersion)).toEqual(['v6', 6, 'v6', 6]);
  });

  it('a warm never creates a value: on an uncached key it leaves its floor, a reader fills; a replay after value and floor were evicted does not land', async () => {
    const keys = keysOf(20);
    const slots = new Set(keys.map((k) => c.slots[clusterSlot(k)]?.[0]));
    expect(slots.size).toBe(3); // keys on every master
    await Promise.all(
      keys.map(async (key) => {
        // (a) uncached: only the floor; the next reader fills at least that version
        expect(await p.warm(key, 5, 'v5', 60_000)).toBe('tombstoned');
        expect(await p.inspect(key)).toEqual(expect.objectContaining({ tombstoneVersion: 5 }));
        expect((await p.inspect(key)).entry).toBeUndefined();
        const got = await p.leaseGet(key, { leaseTtlMs: 5_000 });
        if (got.kind !== 'miss') throw new Error(`expected a miss on ${key}`);
        expect(got.tombstoneVersion).toBe(5);
        expect(await p.fill(got.lease, 4, 'v4', { ttlMs: 60_000 })).toBe('older-than-tombstone');
        await fillFresh(key, 5, 'v5 from the source');
        // a warm rewrites it
        expect(await p.warm(key, 9, 'v9', 60_000)).toBe('warmed');
        // (b) value and floor evicted: a replayed older warm does not land (single and batch)
        await c.del(key); // value, floor and lease live in the one key
        expect(await p.warm(key, 7, 'v7 (replayed)', 60_000)).toBe('tombstoned');
        expect(
          await p.applyKeyEffects([{ key, version: 8, action: 'warm', tombstoneTtlMs: 30_000, value: 'v8 (replayed)', ttlMs: 60_000 }]),
        ).toEqual(['tombstoned']);
        expect((await p.inspect(key)).entry).toBeUndefined();
        expect((await p.leaseGet(key, { leaseTtlMs: 5_000, token: 'probe' })).kind).toBe('miss');
      }),
    );
  });

  it('joins tags at fill and warm, invalidates them across nodes, and refuses fills of an invalidated tag', async () => {
    const tag = uniqueName('tag');
    const keys = keysOf(60);
    await Promise.all(
      keys.map(async (key, i) => {
        if (i % 2 === 0) {
          await fillFresh(key, 1, 'cached'); // a warm rewrites a cached value
          expect(
            await p.applyKeyEffects([{ key, version: 2, action: 'warm', tombstoneTtlMs: 1, value: 'w', ttlMs: 60_000, tags: [tag] }]),
          ).toEqual(['warmed']);
          return;
        }
        const got = await p.leaseGet(key, { leaseTtlMs: 5_000 });
        if (got.kind !== 'miss') throw new Error('expected a miss');
        expect(await p.fill(got.lease, 0, 'page', { ttlMs: 60_000, tags: await p.readTagEpochs([tag]) })).toBe('filled');
      }),
    );
    const late = uniqueName('late');
    const got = await p.leaseGet(late, { leaseTtlMs: 5_000 });
    const epochs = await p.readTagEpochs([tag]);
    expect(await p.invalidateTags([{ tag, version: 2, tombstoneTtlMs: 30_000 }])).toEqual({ keysInvalidated: keys.length });
    if (got.kind !== 'miss') throw new Error('expected a miss');
    expect(await p.fill(got.lease, 0, 'stale page', { ttlMs: 60_000, tags: epochs })).toBe('tag-invalidated');
    const states = await Promise.all(keys.map((k) => p.inspect(k)));
    expect(states.filter((s) => s.entry)).toHaveLength(0);
  });

  it("checks a tagged value's epochs on read (a second round trip on a cluster): lost member sets or tag states never serve stale pages", async () => {
    const tag = uniqueName('tag');
    const other = uniqueName('tag');
    const keys = keysOf(20);
    await Promise.all(
      keys.map(async (key, i) => {
        if (i % 2 === 0) {
          await fillFresh(key, 1, 'cached'); // a warm rewrites a cached value
          expect(
            await p.applyKeyEffects([
              { key, version: 2, action: 'warm', tombstoneTtlMs: 1, value: 'w', ttlMs: 60_000, tags: [tag, other] },
            ]),
          ).toEqual(['warmed']);
          return;
        }
        const got = await p.leaseGet(key, { leaseTtlMs: 5_000 });
        if (got.kind !== 'miss') throw new Error('expected a miss');
        expect(await p.fill(got.lease, 0, 'page', { ttlMs: 60_000, tags: await p.readTagEpochs([tag, other]) })).toBe('filled');
      }),
    );
    const kinds = async () => Promise.all(keys.map(async (k) => (await p.leaseGet(k, { leaseTtlMs: 5_000, token: 'probe' })).kind));
    expect(new Set(await kinds())).toEqual(new Set(['hit']));
    await c.del(tagMembersKey(tag)); // evicted: invalidateTags finds no member
    expect(await p.invalidateTags([{ tag, version: 2, tombstoneTtlMs: 30_000 }])).toEqual({ keysInvalidated: 0 });
    expect(new Set(await kinds())).toEqual(new Set(['miss']));
    const states = await Promise.all(keys.map((k) => p.inspect(k)));
    expect(states.filter((s) => s.entry)).toHaveLength(0); // dropped on read
  });

  it('bumps namespaces', async () => {
    const ns = uniqueName('ns');
    expect(await p.bumpNamespace(ns)).toBe(1);
    expect(await p.namespaceGeneration(ns)).toBe(1);
  });
});
