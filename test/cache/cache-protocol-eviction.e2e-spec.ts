// Tags survive eviction. Under maxmemory with allkeys-lru, pages that are read
// stay hot while their tag's member set (never touched by hits) and epoch record go cold and are
// evicted; invalidateTags must still make every page reached through the tag a miss. Runs
// against its own redis-server (loopback, free port) with a small maxmemory; eviction is real
// (junk is written until Redis has evicted the tag's records), not simulated with DEL.
import type Redis from 'ioredis';
import { CacheProtocol, tagMembersKey, tagStateKey } from '@app/cache-protocol';
import { OwnRedis, startOwnRedis } from '../support/own-redis';
import { eventually, uniqueName } from '../support/stack-env';

const PAGES = 200;
const JUNK = 'j'.repeat(4 * 1024);

describe('tags under real eviction (own redis-server, allkeys-lru)', () => {
  let own: OwnRedis;
  let r: Redis;
  let p: CacheProtocol;
  let junk = 0;

  beforeAll(async () => {
    own = await startOwnRedis('cp-evict');
    r = own.redis;
    p = new CacheProtocol(r);
  });

  afterAll(async () => {
    await own?.stop();
  });

  beforeEach(async () => {
    await r.config('SET', 'maxmemory', '0');
    await r.flushall();
  });

  async function fillPages(tag: string): Promise<string[]> {
    const pages = Array.from({ length: PAGES }, (_, i) => `${uniqueName('page')}:${i}`);
    await Promise.all(
      pages.map(async (key) => {
        const got = await p.leaseGet(key, { leaseTtlMs: 5_000 });
        if (got.kind !== 'miss') throw new Error(`expected a miss on ${key}`);
        const epochs = await p.readTagEpochs([tag]);
        expect(await p.fill(got.lease, 0, `page of ${tag}`, { ttlMs: 600_000, tags: epochs })).toBe('filled');
      }),
    );
    return pages;
  }

  /**
   * Caps memory just above what is used, then writes junk while reading every page (hits keep
   * the pages hot; nothing reads the tag's records) until `gone` keys have all been evicted.
   */
  async function evictUntil(pages: string[], gone: string[]): Promise<void> {
    // Redis' LRU clock ticks in seconds: let the tag's records age before the pages are read again.
    await eventually(
      'the tag records are idle for 2 s',
      async () => (await Promise.all(gone.map((k) => r.object('IDLETIME', k)))).every((t) => Number(t) >= 2),
      10_000,
      200,
    );
    const used = Number(/used_memory:(\d+)/.exec(await r.info('memory'))?.[1]);
    await r.config('SET', 'maxmemory-policy', 'allkeys-lru');
    await r.config('SET', 'maxmemory-samples', '64'); // closer to true LRU: the cold records go first
    await r.config('SET', 'maxmemory', String(used + 256 * 1024));
    for (let round = 0; round < 2_000; round += 1) {
      await Promise.all(pages.map((k) => p.leaseGet(k, { leaseTtlMs: 5_000 })));
      const batch = r.pipeline();
      for (let i = 0; i < 8; i += 1) batch.set(`junk:${junk++}`, JUNK);
      await batch.exec();
      if ((await Promise.all(gone.map((k) => r.exists(k)))).every((n) => n === 0)) break;
    }
    for (const k of gone) expect([k, await r.exists(k)]).toEqual([k, 0]);
    expect(Number(/evicted_keys:(\d+)/.exec(await r.info('stats'))?.[1])).toBeGreaterThan(0);
    await r.config('SET', 'maxmemory', '0'); // stop evicting: what is left is what readers get
  }

  async function servedPages(pages: string[]): Promise<string[]> {
    const served: string[] = [];
    for (const k of pages) {
      const got = await p.leaseGet(k, { leaseTtlMs: 5_000 });
      if (got.kind === 'hit' || got.kind === 'stale') served.push(k);
      if (got.kind === 'miss') await p.releaseLease(got.lease);
    }
    return served;
  }

  it('the member set is evicted, invalidateTags still turns every page of the tag into a miss', async () => {
    const tag = uniqueName('category');
    const pages = await fillPages(tag);
    await evictUntil(pages, [tagMembersKey(tag)]);
    const surviving = (await Promise.all(pages.map((k) => r.exists(k)))).filter((n) => n === 1).length;
    expect(surviving).toBeGreaterThan(PAGES / 10); // hot pages survived the member set: stale unless something else guards them
    await p.invalidateTags([{ tag, version: 1, tombstoneTtlMs: 60_000 }]);
    expect(await servedPages(pages)).toEqual([]);
  });

  it('the epoch record and the member set are evicted: no page of the tag is served after invalidateTags', async () => {
    const tag = uniqueName('category');
    const pages = await fillPages(tag);
    await evictUntil(pages, [tagMembersKey(tag), tagStateKey(tag)]);
    await p.invalidateTags([{ tag, version: 1, tombstoneTtlMs: 60_000 }]);
    expect(await servedPages(pages)).toEqual([]);
  });
});
