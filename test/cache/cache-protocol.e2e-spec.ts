// The cache protocol's script contracts, against the real redis-server of the stack: what each
// operation does to a key, that doing it twice is doing it once, and that nothing ever moves a
// key back to an older version.
import type Redis from 'ioredis';
import {
  applyKeyEffectsScript,
  CacheProtocol,
  encodeEnvelope,
  fillScript,
  invalidateKeysScript,
  KeyEffect,
  Lease,
  legacyLeaseKey,
  legacyTombstoneKey,
  releaseLeaseScript,
  tagMembersKey,
  tagStateKey,
} from '@app/cache-protocol';
import { eventually, redis, uniqueName } from '../support/stack-env';

describe('cache protocol scripts (standalone redis-server)', () => {
  let r: Redis;
  let p: CacheProtocol;

  beforeAll(() => {
    r = redis();
    p = new CacheProtocol(r, { maxValueBytes: 4096, tagScanCount: 50 });
  });
  afterAll(() => r.disconnect());

  const lease = { leaseTtlMs: 5_000 };
  async function fillFresh(
    key: string,
    version: number,
    payload: string,
    options: { ttlMs?: number; staleWhileRevalidateMs?: number; tags?: string[] } = {},
  ) {
    const got = await p.leaseGet(key, lease);
    if (got.kind !== 'miss') throw new Error(`expected a miss on ${key}, got ${got.kind}`);
    const tags = options.tags ? await p.readTagEpochs(options.tags) : undefined;
    return p.fill(got.lease, version, payload, {
      ttlMs: options.ttlMs ?? 60_000,
      staleWhileRevalidateMs: options.staleWhileRevalidateMs,
      tags,
    });
  }

  /** Fills `key` at `version` fresh for 20 ms, waits until it reads stale and returns the refresh lease `token` then holds. */
  async function refreshLeaseOfStale(key: string, version: number, payload: string, token: string): Promise<Lease> {
    expect(await fillFresh(key, version, payload, { ttlMs: 20, staleWhileRevalidateMs: 60_000 })).toBe('filled');
    let refresh: Lease | undefined;
    await eventually(
      'the value turns stale',
      async () => {
        const got = await p.leaseGet(key, { ...lease, token });
        if (got.kind === 'stale') refresh = got.lease;
        return got.kind === 'stale';
      },
      5_000,
      10,
    );
    if (!refresh) throw new Error('expected the refresh lease');
    return refresh;
  }

  describe('invalidate', () => {
    it('deletes an older value, leaves a tombstone with the version, and a repeat changes nothing', async () => {
      const key = uniqueName('product');
      expect(await fillFresh(key, 3, 'v3')).toBe('filled');
      expect(await p.invalidate(key, 5, 30_000)).toBe('deleted');
      const after = await p.inspect(key);
      expect(after).toMatchObject({ tombstoneVersion: 5 });
      expect(after.entry).toBeUndefined();
      expect(await p.invalidate(key, 5, 30_000)).toBe('skipped-older');
      expect(await p.invalidate(key, 4, 30_000)).toBe('skipped-older');
      expect((await p.inspect(key)).tombstoneVersion).toBe(5);
    });

    it('keeps a value at least as new (an older or duplicate event changes nothing)', async () => {
      const key = uniqueName('product');
      await fillFresh(key, 7, 'v7');
      expect(await p.invalidate(key, 7, 30_000)).toBe('skipped-older');
      expect(await p.invalidate(key, 2, 30_000)).toBe('skipped-older');
      expect((await p.inspect(key)).entry).toMatchObject({ version: 7, payload: 'v7' });
    });

    it('tombstones an empty key so a later fill of older data cannot land', async () => {
      const key = uniqueName('product');
      expect(await p.invalidate(key, 9, 30_000)).toBe('tombstoned');
      const got = await p.leaseGet(key, lease);
      expect(got).toMatchObject({ kind: 'miss', tombstoneVersion: 9 });
      if (got.kind !== 'miss') return;
      expect(await p.fill(got.lease, 8, 'v8', { ttlMs: 60_000 })).toBe('older-than-tombstone');
      const again = await p.leaseGet(key, lease);
      if (again.kind !== 'miss') throw new Error('lease should be free again');
      expect(await p.fill(again.lease, 9, 'v9', { ttlMs: 60_000 })).toBe('filled');
    });

    it('with action delete removes the value and voids the lease but leaves no tombstone', async () => {
      const key = uniqueName('product');
      await fillFresh(key, 1, 'v1');
      expect(await p.applyKeyEffects([{ key, version: 2, action: 'delete', tombstoneTtlMs: 0 }])).toEqual(['deleted']);
      expect(await p.inspect(key)).toEqual({});
    });

    it('version 0 (unversioned) always deletes', async () => {
      const key = uniqueName('product');
      await fillFresh(key, 50, 'v50');
      expect(await p.invalidate(key, 0, 30_000)).toBe('deleted');
      expect((await p.inspect(key)).entry).toBeUndefined();
    });
  });

  describe('warm', () => {
    it('rewrites a cached value only when newer than it and not older than the tombstone', async () => {
      const key = uniqueName('product');
      expect(await fillFresh(key, 3, 'v3')).toBe('filled');
      expect(await p.warm(key, 4, 'v4', 60_000)).toBe('warmed');
      expect(await p.warm(key, 4, 'v4-again', 60_000)).toBe('skipped-older');
      expect(await p.warm(key, 3, 'v3', 60_000)).toBe('skipped-older');
      expect((await p.inspect(key)).entry).toMatchObject({ version: 4, payload: 'v4' });
      expect(await p.invalidate(key, 6, 30_000)).toBe('deleted');
      expect(await p.warm(key, 5, 'v5', 60_000)).toBe('skipped-older');
      // nothing cached now: the warm of v6 leaves its floor only, and a reader fills v6
      expect(await p.warm(key, 6, 'v6', 60_000)).toBe('skipped-older'); // the floor already stands at 6
      expect(await fillFresh(key, 6, 'v6-filled')).toBe('filled');
      expect(await p.warm(key, 7, 'v7', 60_000)).toBe('warmed');
      const state = await p.inspect(key);
      expect(state.entry).toMatchObject({ version: 7, payload: 'v7' });
      expect(state.valueTtlMs).toBeGreaterThan(50_000);
    });

    // The rule: a warm replaces a cached value, it never creates one (memcached `replace`).
    it('a warm of an uncached key leaves only its floor (tombstoned); a reader then fills at least that version', async () => {
      const key = uniqueName('product');
      const reader = await p.leaseGet(key, lease);
      if (reader.kind !== 'miss') throw new Error('expected a miss');
      expect(await p.warm(key, 5, 'v5', 60_000, { tombstoneTtlMs: 30_000 })).toBe('tombstoned');
      const s1 = await p.inspect(key);
      expect(s1.entry).toBeUndefined();
      expect(s1.tombstoneVersion).toBe(5);
      expect(s1.tombstoneTtlMs).toBeGreaterThan(85_000); // floor = hard TTL + tombstoneTtlMs
      expect(s1.leaseToken).toBeUndefined(); // it voided the reader's lease too
      expect(await p.fill(reader.lease, 5, 'loaded before the warm', { ttlMs: 60_000 })).toBe('lease-lost');
      // a repeat (redelivery) changes nothing
      expect(await p.warm(key, 5, 'v5', 60_000)).toBe('skipped-older');
      expect(await p.applyKeyEffects([{ key, version: 5, action: 'warm', tombstoneTtlMs: 30_000, value: 'v5', ttlMs: 60_000 }])).toEqual([
        'skipped-older',
      ]);
      // the next reader loads from the source: older data cannot land, the warm's version or newer does
      const next = await p.leaseGet(key, lease);
      expect(next).toMatchObject({ kind: 'miss', tombstoneVersion: 5 });
      if (next.kind !== 'miss') return;
      expect(await p.fill(next.lease, 4, 'v4', { ttlMs: 60_000 })).toBe('older-than-tombstone');
      expect(await fillFresh(key, 5, 'v5 from the source')).toBe('filled');
      expect(await p.leaseGet(key, lease)).toMatchObject({ kind: 'hit', entry: { version: 5, payload: 'v5 from the source' } });
      // the batch script follows the same rule
      const other = uniqueName('product');
      expect(
        await p.applyKeyEffects([{ key: other, version: 3, action: 'warm', tombstoneTtlMs: 30_000, value: 'v3', ttlMs: 60_000 }]),
      ).toEqual(['tombstoned']);
      expect(await p.inspect(other)).toMatchObject({ tombstoneVersion: 3 });
      expect((await p.inspect(other)).entry).toBeUndefined();
    });

    // The consistency checker's case (long mode, allkeys-lru): v109 and its floor evicted, then a
    // replay of event v17 warmed the empty key and it was served at v17.
    it('a replayed older warm does not land once the newer value AND its floor were evicted (single and batch)', async () => {
      const key = uniqueName('item-view');
      expect(await fillFresh(key, 100, 'v100')).toBe('filled');
      expect(await p.warm(key, 109, 'v109', 60_000)).toBe('warmed');
      await r.del(key); // as allkeys-lru eviction would: value, floor and lease live in one key
      expect(await p.inspect(key)).toEqual({});
      expect(await p.warm(key, 17, 'v17 (replayed)', 60_000)).toBe('tombstoned');
      expect(
        await p.applyKeyEffects([{ key, version: 16, action: 'warm', tombstoneTtlMs: 60_000, value: 'v16 (replayed)', ttlMs: 60_000 }]),
      ).toEqual(['skipped-older']);
      expect(
        await p.applyKeyEffects([{ key, version: 18, action: 'warm', tombstoneTtlMs: 60_000, value: 'v18 (replayed)', ttlMs: 60_000 }]),
      ).toEqual(['tombstoned']);
      expect((await p.inspect(key)).entry).toBeUndefined();
      // a reader fills from the source of truth (v109), above the replays' floor
      expect(await fillFresh(key, 109, 'v109 from the source')).toBe('filled');
      expect(await p.leaseGet(key, lease)).toMatchObject({ kind: 'hit', entry: { version: 109 } });
    });

    it('an unversioned warm (version 0) cannot prove it is newer: it invalidates instead', async () => {
      const key = uniqueName('product');
      expect(await fillFresh(key, 2, 'v2')).toBe('filled');
      expect(await p.warm(key, 0, 'unversioned', 60_000)).toBe('deleted');
      expect((await p.inspect(key)).entry).toBeUndefined();
    });
  });

  describe('leaseGet and fill', () => {
    it('hands out one lease per key; others wait; the holder gets its lease back when asking again', async () => {
      const key = uniqueName('page');
      const first = await p.leaseGet(key, { ...lease, token: 'reader-a' });
      expect(first.kind).toBe('miss');
      expect(await p.leaseGet(key, { ...lease, token: 'reader-b' })).toMatchObject({ kind: 'wait' });
      expect(await p.leaseGet(key, { ...lease, token: 'reader-a' })).toMatchObject({ kind: 'miss' });
      expect(await p.fill({ key, token: 'reader-b' }, 1, 'x', { ttlMs: 60_000 })).toBe('lease-lost');
      expect(await p.fill({ key, token: 'reader-a' }, 1, 'x', { ttlMs: 60_000 })).toBe('filled');
      expect(await p.leaseGet(key, { ...lease, token: 'reader-b' })).toMatchObject({ kind: 'hit', entry: { version: 1, payload: 'x' } });
      expect((await p.inspect(key)).leaseToken).toBeUndefined();
    });

    it('an invalidation voids the lease: the fill of what was loaded before it never lands', async () => {
      const key = uniqueName('product');
      const got = await p.leaseGet(key, lease);
      if (got.kind !== 'miss') throw new Error('expected a miss');
      expect(await p.invalidate(key, 10, 30_000)).toBe('tombstoned');
      expect(await p.fill(got.lease, 10, 'loaded-before', { ttlMs: 60_000 })).toBe('lease-lost');
      expect((await p.inspect(key)).entry).toBeUndefined();
    });

    it('aggregate keys (version 0): any invalidation voids the lease, even one "older" than the tombstone', async () => {
      const key = uniqueName('category-page');
      expect(await p.invalidate(key, 9, 30_000)).toBe('tombstoned'); // product 1 at version 9
      const got = await p.leaseGet(key, lease);
      if (got.kind !== 'miss') throw new Error('expected a miss');
      // Product 2 at version 3: its version does not compare with product 1's, yet the page it appears on is stale.
      expect(await p.invalidate(key, 3, 30_000)).toBe('skipped-older');
      expect(await p.fill(got.lease, 0, 'page loaded before product 2 changed', { ttlMs: 60_000 })).toBe('lease-lost');
      expect(await fillFresh(key, 0, 'page')).toBe('filled'); // version 0 ignores the tombstone: the lease guards it
      expect(await p.invalidate(key, 1, 30_000)).toBe('deleted');
    });

    it('a newer value that landed meanwhile (warm) wins over an older fill (the warm voided its lease)', async () => {
      const key = uniqueName('product');
      // a stale value being refreshed: the refresher holds the lease while a warm rewrites the value
      const refresh = await refreshLeaseOfStale(key, 3, 'v3', 'refresher');
      expect(await p.warm(key, 5, 'v5', 60_000)).toBe('warmed');
      expect(await p.fill(refresh, 4, 'v4', { ttlMs: 60_000 })).toBe('lease-lost');
      expect((await p.inspect(key)).entry?.payload).toBe('v5');
    });

    it('serves a value past its fresh time as stale, with one refresh lease', async () => {
      const key = uniqueName('product');
      expect(await fillFresh(key, 1, 'v1', { ttlMs: 30, staleWhileRevalidateMs: 60_000 })).toBe('filled');
      await eventually(
        'the value turns stale',
        async () => (await p.leaseGet(key, { ...lease, token: 'probe' })).kind === 'stale',
        5_000,
        10,
      );
      // The probe above took the refresh lease; everyone else is served stale without it.
      expect(await p.leaseGet(key, { ...lease, token: 'other' })).toMatchObject({ kind: 'stale', entry: { payload: 'v1' } });
      const other = await p.leaseGet(key, { ...lease, token: 'other' });
      expect(other.kind === 'stale' && other.lease).toBeFalsy();
      const holder = await p.leaseGet(key, { ...lease, token: 'probe' });
      if (holder.kind !== 'stale' || !holder.lease) throw new Error('the probe should hold the refresh lease');
      expect(await p.fill(holder.lease, 2, 'v2', { ttlMs: 60_000 })).toBe('filled');
      expect(await p.leaseGet(key, lease)).toMatchObject({ kind: 'hit', entry: { payload: 'v2' } });
    });

    it('releases a lease early only for its holder', async () => {
      const key = uniqueName('product');
      const got = await p.leaseGet(key, lease);
      if (got.kind !== 'miss') throw new Error('expected a miss');
      expect(await p.releaseLease({ key, token: 'not-mine' })).toBe(false);
      expect(await p.releaseLease(got.lease)).toBe(true);
      expect((await p.leaseGet(key, lease)).kind).toBe('miss');
    });

    it('reads a value not written by the protocol as a miss, and invalidation deletes it', async () => {
      const key = uniqueName('legacy');
      await r.set(key, 'raw value');
      expect(await p.invalidate(key, 1, 30_000)).toBe('deleted');
      await r.set(key, 'raw value');
      expect((await p.leaseGet(key, lease)).kind).toBe('miss'); // taking the lease replaces it
      expect((await r.get(key))?.startsWith('4|')).toBe(true);
      await r.del(key);
      await r.hset(key, 'field', 'x');
      expect(await p.invalidate(key, 2, 30_000)).toBe('deleted');
      expect(await p.inspect(key)).toMatchObject({ tombstoneVersion: 2 });
      expect((await p.inspect(key)).entry).toBeUndefined();
    });
  });

  // A warm (or a skipped invalidation) left no floor and no voided lease, so an
  // older fill or warm landed once the newer value expired or was evicted.
  describe('floors: after a warm or invalidation of v nothing older lands, whatever expires', () => {
    // the value's hard TTL passed (the key itself lives on while its floor does)
    const valueGone = async (key: string) =>
      eventually(`${key} expired`, async () => (await p.inspect(key)).entry === undefined, 5_000, 10);

    it("a slow reader's fill of v8 does not land after a short-lived warm of v9 expired", async () => {
      const key = uniqueName('product');
      // v7 is cached and stale; a slow reader holds its refresh lease while v9 is warmed over it
      const refresh = await refreshLeaseOfStale(key, 7, 'v7', 'slow-reader');
      expect(await p.warm(key, 9, 'v9', 50)).toBe('warmed');
      await valueGone(key);
      expect(await p.fill(refresh, 8, 'v8', { ttlMs: 3_600_000 })).not.toBe('filled');
      expect((await p.inspect(key)).entry).toBeUndefined();
      // and a fresh reader cannot fill v8 either (the floor outlives the value)
      const again = await p.leaseGet(key, lease);
      if (again.kind !== 'miss') throw new Error('expected a miss');
      expect(again.tombstoneVersion).toBe(9);
      expect(await p.fill(again.lease, 8, 'v8', { ttlMs: 3_600_000 })).toBe('older-than-tombstone');
    });

    it('a refresh lease does not survive a redelivered (skipped-older) invalidation', async () => {
      const key = uniqueName('product');
      const refresh = await refreshLeaseOfStale(key, 9, 'v9', 'refresher');
      expect(await p.invalidate(key, 9, 30_000)).toBe('skipped-older'); // redelivered event 9
      await r.del(key); // the value is evicted (or expires)
      expect(await p.fill(refresh, 8, 'v8 from a lagging replica', { ttlMs: 3_600_000 })).not.toBe('filled');
      expect((await p.inspect(key)).entry).toBeUndefined();
    });

    it('a replayed older warm does not land after the warmed value is gone (single and batch)', async () => {
      const key = uniqueName('product');
      expect(await fillFresh(key, 5, 'v5')).toBe('filled');
      expect(await p.warm(key, 9, 'v9', 50, { tombstoneTtlMs: 60_000 })).toBe('warmed');
      await valueGone(key);
      expect(await p.warm(key, 8, 'v8', 3_600_000)).toBe('skipped-older');
      expect(await p.applyKeyEffects([{ key, version: 8, action: 'warm', tombstoneTtlMs: 60_000, value: 'v8', ttlMs: 3_600_000 }])).toEqual(
        ['skipped-older'],
      );
      expect((await p.inspect(key)).entry).toBeUndefined();
    });

    it('a skipped-older warm or invalidation still leaves its floor', async () => {
      const key = uniqueName('product');
      expect(await fillFresh(key, 9, 'v9', { ttlMs: 50 })).toBe('filled');
      expect(await p.applyKeyEffects([{ key, version: 9, action: 'warm', tombstoneTtlMs: 60_000, value: 'v9', ttlMs: 60_000 }])).toEqual([
        'skipped-older',
      ]);
      await valueGone(key);
      expect(await p.warm(key, 8, 'v8', 60_000)).toBe('skipped-older');
      const other = uniqueName('product');
      expect(await fillFresh(other, 9, 'v9', { ttlMs: 50 })).toBe('filled');
      expect(await p.invalidate(other, 9, 60_000)).toBe('skipped-older');
      await valueGone(other);
      expect(await p.warm(other, 8, 'v8', 60_000)).toBe('skipped-older');
      expect(await p.inspect(other)).toMatchObject({ tombstoneVersion: 9 });
    });

    it('every warm voids the lease, even one skipped as older', async () => {
      const key = uniqueName('product');
      const got = await p.leaseGet(key, lease);
      if (got.kind !== 'miss') throw new Error('expected a miss');
      expect(await p.invalidate(key, 9, 60_000)).toBe('tombstoned');
      const again = await p.leaseGet(key, lease);
      if (again.kind !== 'miss') throw new Error('expected a miss');
      expect(await p.warm(key, 7, 'v7', 60_000)).toBe('skipped-older');
      expect((await p.inspect(key)).leaseToken).toBeUndefined();
      expect(await p.fill(again.lease, 9, 'v9', { ttlMs: 60_000 })).toBe('lease-lost');
    });

    it('the floor of a warm outlives the value by tombstoneTtlMs, and no later write shortens it', async () => {
      const key = uniqueName('product');
      expect(await fillFresh(key, 5, 'v5')).toBe('filled');
      expect(await p.warm(key, 9, 'v9', 10_000, { tombstoneTtlMs: 50_000 })).toBe('warmed');
      const s = await p.inspect(key);
      expect(s.tombstoneVersion).toBe(9);
      expect(s.tombstoneTtlMs).toBeGreaterThan(55_000);
      expect(await p.invalidate(key, 10, 1_000)).toBe('deleted');
      const t = await p.inspect(key);
      expect(t.tombstoneVersion).toBe(10);
      expect(t.tombstoneTtlMs).toBeGreaterThan(55_000);
    });
  });

  describe('applyKeyEffects', () => {
    it('applies many keys in few calls, result[i] is the outcome of effects[i], duplicates included', async () => {
      const keys = Array.from({ length: 300 }, () => uniqueName('bulk'));
      const cached = uniqueName('bulk');
      await Promise.all([...keys.slice(0, 100), cached].map((k) => fillFresh(k, 5, 'v5')));
      const effects: KeyEffect[] = [
        ...keys.map((key): KeyEffect => ({ key, version: 6, action: 'tombstone', tombstoneTtlMs: 30_000 })),
        { key: keys[0], version: 6, action: 'tombstone', tombstoneTtlMs: 30_000 },
        { key: cached, version: 7, action: 'warm', tombstoneTtlMs: 30_000, value: 'v7', ttlMs: 60_000 },
        // keys[1]'s value was just deleted by its tombstone above: the warm leaves its floor only
        { key: keys[1], version: 7, action: 'warm', tombstoneTtlMs: 30_000, value: 'v7', ttlMs: 60_000 },
      ];
      const outcomes = await p.applyKeyEffects(effects);
      expect(outcomes.slice(0, 100).every((o) => o === 'deleted')).toBe(true);
      expect(outcomes.slice(100, 300).every((o) => o === 'tombstoned')).toBe(true);
      expect(outcomes.slice(300)).toEqual(['skipped-older', 'warmed', 'tombstoned']);
      // Re-running the whole batch (a redelivery after a crash) changes nothing.
      expect(new Set(await p.applyKeyEffects(effects))).toEqual(new Set(['skipped-older']));
      expect((await p.inspect(cached)).entry?.payload).toBe('v7');
      expect(await p.inspect(keys[1])).toMatchObject({ tombstoneVersion: 7 });
      expect((await p.inspect(keys[1])).entry).toBeUndefined();
    });

    it('refuses a bad effect with its code and index before touching Redis', async () => {
      const good = uniqueName('good');
      const effects: KeyEffect[] = [
        { key: good, version: 1, action: 'tombstone', tombstoneTtlMs: 30_000 },
        { key: 'bad key', version: 1, action: 'tombstone', tombstoneTtlMs: 30_000 },
      ];
      await expect(p.applyKeyEffects(effects)).rejects.toMatchObject({ code: 'KEY_BAD_CHARACTER', index: 1, retriable: false });
      expect(await p.inspect(good)).toEqual({});
      await expect(
        p.applyKeyEffects([{ key: good, version: 1, action: 'warm', tombstoneTtlMs: 1, value: 'x'.repeat(4097) }]),
      ).rejects.toMatchObject({ code: 'VALUE_TOO_LARGE' });
      expect(p.checkKeyEffect(effects[1])?.code).toBe('KEY_BAD_CHARACTER');
    });
  });

  describe('tags', () => {
    it('invalidates every member of a big tag in bounded SSCAN steps', async () => {
      const tag = uniqueName('tag');
      const keys = Array.from({ length: 1200 }, () => uniqueName('member'));
      await Promise.all(keys.map((k) => fillFresh(k, 2, 'v2', { tags: [tag] })));
      expect(await r.scard(tagMembersKey(tag))).toBe(1200);
      const sscan = jest.spyOn(r, 'sscan');
      try {
        expect(await p.invalidateTags([{ tag, version: 1, tombstoneTtlMs: 30_000 }])).toEqual({ keysInvalidated: 1200 });
        expect(sscan.mock.calls.length).toBeGreaterThanOrEqual(1200 / 50 / 2); // never one huge read
      } finally {
        sscan.mockRestore();
      }
      const states = await Promise.all(keys.map((k) => p.inspect(k)));
      expect(states.filter((s) => s.entry).length).toBe(0);
      expect(states.every((s) => s.tombstoneVersion === 2)).toBe(true); // guards against an older warm landing
      // Running it again is harmless: nothing left to invalidate.
      expect(await p.invalidateTags([{ tag, version: 1, tombstoneTtlMs: 30_000 }])).toEqual({ keysInvalidated: 0 });
    });

    it('a fill whose tag was invalidated after it read the epoch does not land', async () => {
      const tag = uniqueName('tag');
      const key = uniqueName('page');
      const got = await p.leaseGet(key, lease);
      if (got.kind !== 'miss') throw new Error('expected a miss');
      const epochs = await p.readTagEpochs([tag]);
      await p.invalidateTags([{ tag, version: 1, tombstoneTtlMs: 30_000 }]);
      expect(await p.fill(got.lease, 0, 'loaded before the tag changed', { ttlMs: 60_000, tags: epochs })).toBe('tag-invalidated');
      expect(await p.inspect(key)).toEqual({});
    });

    it("a tagged value records its tags' epochs: a lost member set or tag state never lets it be served after the tag changed", async () => {
      const tag = uniqueName('tag');
      const filled = uniqueName('page');
      const warmed = uniqueName('product');
      expect(await fillFresh(filled, 0, 'page', { tags: [tag] })).toBe('filled');
      expect(await fillFresh(warmed, 2, 'v2')).toBe('filled'); // a warm rewrites a cached value
      expect(
        await p.applyKeyEffects([
          { key: warmed, version: 3, action: 'warm', tombstoneTtlMs: 60_000, value: 'v3', ttlMs: 60_000, tags: [tag] },
        ]),
      ).toEqual(['warmed']);
      const epoch = (await p.readTagEpochs([tag]))[0].epoch;
      expect((await p.inspect(filled)).entry?.tags).toEqual([{ stateKey: tagStateKey(tag), epoch }]);
      expect((await p.leaseGet(warmed, lease)).kind).toBe('hit');
      await r.del(tagMembersKey(tag)); // as if evicted
      expect(await p.invalidateTags([{ tag, version: 1, tombstoneTtlMs: 30_000 }])).toEqual({ keysInvalidated: 0 });
      expect((await p.leaseGet(filled, lease)).kind).toBe('miss');
      expect((await p.leaseGet(warmed, lease)).kind).toBe('miss');

      // the tag's state lost (expired or evicted): values recorded under it read as misses
      const again = uniqueName('page');
      expect(await fillFresh(again, 0, 'page', { tags: [tag] })).toBe('filled');
      await r.del(tagStateKey(tag));
      expect((await p.leaseGet(again, lease)).kind).toBe('miss');
    });

    it('closes many tags in one call; a hot tag with nobody joined needs no scan; epochs stay exact', async () => {
      const tags = Array.from({ length: 150 }, () => uniqueName('tag'));
      const members = await Promise.all(
        tags.slice(0, 50).map(async (tag) => {
          const key = uniqueName('member');
          expect(await fillFresh(key, 3, 'v3', { tags: [tag] })).toBe('filled');
          return key;
        }),
      );
      // an epoch near 2^53: Lua must write the next one back digit for digit
      const big = 9_007_199_254_740_000;
      await r.hset(tagStateKey(tags[149]), 'e', String(big), 'c', String(big - 1));
      expect(await p.invalidateTags(tags.map((tag) => ({ tag, version: 1, tombstoneTtlMs: 30_000 })))).toEqual({ keysInvalidated: 50 });
      expect(await r.hget(tagStateKey(tags[149]), 'e')).toBe(String(big + 1));
      expect(await r.hget(tagStateKey(tags[149]), 'c')).toBe(String(big));
      for (const key of members) expect(await p.inspect(key)).toMatchObject({ tombstoneVersion: 3 });
      // again: every tag is hot now (nothing joined, everything scanned): no SSCAN at all
      const sscan = jest.spyOn(r, 'sscan');
      try {
        expect(await p.invalidateTags(tags.map((tag) => ({ tag, version: 2, tombstoneTtlMs: 30_000 })))).toEqual({ keysInvalidated: 0 });
        expect(sscan).not.toHaveBeenCalled();
      } finally {
        sscan.mockRestore();
      }
      // and a fill that read an epoch before that second close does not land
      const late = uniqueName('page');
      const got = await p.leaseGet(late, lease);
      if (got.kind !== 'miss') throw new Error('expected a miss');
      const epochs = await p.readTagEpochs([tags[0]]);
      await p.invalidateTags([{ tag: tags[0], version: 3, tombstoneTtlMs: 30_000 }]);
      expect(await p.fill(got.lease, 0, 'stale', { ttlMs: 60_000, tags: epochs })).toBe('tag-invalidated');
    });

    it('warm effects join their tags', async () => {
      const tag = uniqueName('tag');
      const key = uniqueName('product');
      await p.applyKeyEffects([{ key, version: 3, action: 'warm', tombstoneTtlMs: 1, value: 'v3', ttlMs: 60_000, tags: [tag] }]);
      expect(await p.invalidateTags([{ tag, version: 1, tombstoneTtlMs: 30_000 }])).toEqual({ keysInvalidated: 1 });
      expect(await p.inspect(key)).toMatchObject({ tombstoneVersion: 3 });
    });
  });

  describe('namespaces', () => {
    it('a generation bump turns everything filled under the old generation into misses', async () => {
      const ns = uniqueName('ns');
      const key = `${ns}:product:1`;
      const generation = await p.namespaceGeneration(ns);
      const got = await p.leaseGet(key, { ...lease, minNamespaceGeneration: generation });
      if (got.kind !== 'miss') throw new Error('expected a miss');
      await p.fill(got.lease, 1, 'v1', { ttlMs: 60_000, namespaceGeneration: generation });
      expect((await p.leaseGet(key, { ...lease, minNamespaceGeneration: generation })).kind).toBe('hit');
      const bumped = await p.bumpNamespace(ns);
      expect(bumped).toBe(generation + 1);
      expect((await p.leaseGet(key, { ...lease, minNamespaceGeneration: bumped })).kind).toBe('miss');
      expect((await p.inspect(key)).entry).toBeUndefined();
    });
  });

  it('refuses a client with keyPrefix (companions would land in other slots)', () => {
    const prefixed = { options: { keyPrefix: 'app:' }, defineCommand: () => undefined } as unknown as Redis;
    expect(() => new CacheProtocol(prefixed)).toThrow(expect.objectContaining({ code: 'KEY_PREFIX_UNSUPPORTED' }));
  });

  it('keeps the lease and floor of a key in the key itself, whatever the shape of its hash tag', async () => {
    const id = uniqueName('shape');
    const keys = [`${id}`, `{${id}}`, `${id}:{t}:x`, `${id}}{t}`, `${id}:{a}{b}`, `{${id}}x{y}`, `${id}{t}}`];
    for (const key of keys) {
      const got = await p.leaseGet(key, lease);
      if (got.kind !== 'miss') throw new Error(`expected a miss on ${key}`);
      expect((await p.inspect(key)).leaseToken).toBe(got.lease.token);
    }
    expect(
      await p.applyKeyEffects(keys.map((key): KeyEffect => ({ key, version: 9, action: 'tombstone', tombstoneTtlMs: 30_000 }))),
    ).toEqual(keys.map(() => 'tombstoned'));
    for (const key of keys) {
      const seen = await p.inspect(key);
      expect([key, seen.tombstoneVersion, seen.leaseToken]).toEqual([key, 9, undefined]);
      expect(await r.exists(legacyTombstoneKey(key), legacyLeaseKey(key))).toBe(0); // no companion keys any more
    }
  });

  it('the batch scripts refuse a malformed packed item (a zero TTL would otherwise expire a floor)', async () => {
    const key = uniqueName('packed');
    await p.invalidate(key, 5, 60_000);
    for (const head of ['t5:0', 't5', 'd5:9', 'p5', 'x1', 'w5:1:1:0:0']) {
      await expect(invalidateKeysScript.run(r, [key], [head])).rejects.toThrow(/malformed batch item/);
    }
    await expect(applyKeyEffectsScript.run(r, [key], ['w6:0:1:0:0', '', 'v'])).rejects.toThrow(/malformed warm item/);
    expect(await p.inspect(key)).toMatchObject({ tombstoneVersion: 5 });
  });

  it('stores the whole state of a key in the key, in format 4 as docs/protocol-format.md says', async () => {
    const key = uniqueName('layout');
    await p.invalidate(key, 4, 30_000);
    const raw = (await r.get(key)) ?? '';
    expect(raw).toMatch(/^4\|0000000000000004\|\d{16}\|0{16}\|\.{24}\|$/);
    expect(raw).toHaveLength(78);
    const ttl = await r.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(30_000);
    expect(await fillFresh(key, 4, 'v4')).toBe('filled');
    expect(await r.get(key)).toMatch(/^4\|0000000000000004\|\d{16}\|0{16}\|\.{24}\|0000000000000004\|\d{16}\|\d+\|0\|0\|\|\nv4$/);
    expect(await r.exists(legacyTombstoneKey(key), legacyLeaseKey(key))).toBe(0);
  });
});

describe('single-key state: expiry, eviction and values of an earlier format', () => {
  let r: Redis;
  let p: CacheProtocol;

  beforeAll(() => {
    r = redis();
    p = new CacheProtocol(r);
  });
  afterAll(() => r.disconnect());

  const lease = { leaseTtlMs: 5_000 };
  const missLease = async (key: string): Promise<Lease> => {
    const got = await p.leaseGet(key, lease);
    if (got.kind !== 'miss') throw new Error(`expected a miss on ${key}, got ${got.kind}`);
    return got.lease;
  };

  it('a value past its hard TTL is not served, and the floor behind it still refuses older fills', async () => {
    const key = uniqueName('short');
    await p.invalidate(key, 7, 60_000);
    expect(await p.fill(await missLease(key), 7, 'v7', { ttlMs: 50 })).toBe('filled');
    await eventually('the value expired', async () => (await p.inspect(key)).entry === undefined, 5_000, 10);
    const got = await p.leaseGet(key, lease);
    expect(got).toMatchObject({ kind: 'miss', tombstoneVersion: 7 });
    if (got.kind !== 'miss') return;
    expect(await p.fill(got.lease, 6, 'v6 (a lagging replica)', { ttlMs: 60_000 })).toBe('older-than-tombstone');
    expect((await r.get(key))?.length).toBe(78); // the dead value was dropped when the lease was taken
  });

  it('the key evicted while a reader loads: its lease went with it, so the older load never lands', async () => {
    const key = uniqueName('evicted');
    const held = await missLease(key);
    await r.del(key); // allkeys-lru eviction (or expiry) of the one key
    expect(await p.fill(held, 3, 'v3 (loaded before the eviction)', { ttlMs: 60_000 })).toBe('lease-lost');
    expect(await p.inspect(key)).toEqual({});
  });

  it('an unknown lease token shape is refused before Redis (it must fit the 24-byte field of the key)', async () => {
    for (const token of ['', 'a|b', 'x'.repeat(25), 'dot.ted']) {
      await expect(p.leaseGet(uniqueName('token'), { ...lease, token })).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
    }
  });

  it('a hand-built lease with an empty token fills nothing and releases nothing (a key with no lease has an empty token field)', async () => {
    const key = uniqueName('no-lease');
    await p.invalidate(key, 9, 60_000); // a floor, no lease
    const forged = { key, token: '' };
    await expect(p.fill(forged, 9, 'v9 without a lease', { ttlMs: 60_000 })).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
    await expect(p.releaseLease(forged)).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
    // and the scripts refuse it too, for a caller that skips the library's check
    expect(await fillScript.run(r, key, '', 9, 60_000, 0, 0, '', 'v9 without a lease', undefined, false)).toBe('lease-lost');
    expect(await releaseLeaseScript.run(r, forged)).toBe(false);
    expect((await p.inspect(key)).entry).toBeUndefined();
  });

  it('a foreign value whose version is too long for the 16-digit field is replaced, not a stuck key', async () => {
    const key = uniqueName('long-version');
    await r.set(key, '1|12345678901234567|1|0|0|x', 'PX', 60_000);
    expect(await p.applyKeyEffects([{ key, version: 3, action: 'tombstone', tombstoneTtlMs: 60_000 }])).toEqual(['deleted']);
    await r.set(key, '1|12345678901234567|1|0|0|x', 'PX', 60_000);
    expect((await p.leaseGet(key, lease)).kind).toBe('miss');
  });

  describe('during a rollout (values and floors of the earlier three-key layout)', () => {
    /** Caches `payload` at `version` as an earlier version of the library did (format 1, no state in the key). */
    const setEarlierFormat = (key: string, version: number, payload: string) =>
      r.set(key, encodeEnvelope({ version, writtenAt: Date.now(), freshForMs: 0, namespaceGeneration: 0, payload }), 'PX', 60_000);

    it('serves a fresh earlier-format value, and an invalidation replaces it with a floor', async () => {
      const key = uniqueName('legacy');
      await setEarlierFormat(key, 3, 'v3 old');
      expect(await p.leaseGet(key, lease)).toMatchObject({ kind: 'hit', entry: { version: 3, payload: 'v3 old' } });
      expect(await p.applyKeyEffects([{ key, version: 4, action: 'tombstone', tombstoneTtlMs: 60_000 }])).toEqual(['deleted']);
      expect(await p.inspect(key)).toMatchObject({ tombstoneVersion: 4 });
      expect((await p.inspect(key)).entry).toBeUndefined();
    });

    it('a warm replaces an older earlier-format value and skips a newer one (dropping it: no rewrite in place)', async () => {
      const older = uniqueName('legacy-warm');
      await setEarlierFormat(older, 3, 'v3');
      expect(await p.warm(older, 5, 'v5', 60_000)).toBe('warmed');
      expect((await p.inspect(older)).entry).toMatchObject({ version: 5, payload: 'v5' });
      const newer = uniqueName('legacy-warm');
      await setEarlierFormat(newer, 9, 'v9');
      expect(await p.warm(newer, 5, 'v5 (older)', 60_000)).toBe('skipped-older');
      expect(await p.inspect(newer)).toMatchObject({ tombstoneVersion: 5 });
      expect((await p.inspect(newer)).entry).toBeUndefined();
    });

    it('honours a floor an earlier invalidator left in ~t{K} on a miss and at fill, unless legacyFloors is off', async () => {
      const key = uniqueName('legacy-floor');
      await r.set(legacyTombstoneKey(key), '8', 'PX', 60_000);
      const got = await p.leaseGet(key, lease);
      expect(got).toMatchObject({ kind: 'miss', tombstoneVersion: 8 });
      if (got.kind !== 'miss') return;
      expect(await p.fill(got.lease, 7, 'v7 (older than the old floor)', { ttlMs: 60_000 })).toBe('older-than-tombstone');
      expect(await p.fill(await missLease(key), 8, 'v8', { ttlMs: 60_000 })).toBe('filled');
      const off = new CacheProtocol(r, { legacyFloors: false });
      const other = uniqueName('legacy-floor');
      await r.set(legacyTombstoneKey(other), '8', 'PX', 60_000);
      const plain = await off.leaseGet(other, lease);
      expect(plain).toMatchObject({ kind: 'miss', tombstoneVersion: 0 });
      if (plain.kind !== 'miss') return;
      expect(await off.fill(plain.lease, 7, 'v7', { ttlMs: 60_000 })).toBe('filled');
    });
  });
});
