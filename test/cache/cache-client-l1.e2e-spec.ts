// The cache client's L1 and the invalidation bus against the real redis-server (no invalidator
// here: a BusPublisher plays it; the full chain with reader processes is l1-bus.e2e-spec.ts),
// early refresh (XFetch) on a hot key, and hit counts per key family.
import { setTimeout as sleep } from 'node:timers/promises';
import Redis from 'ioredis';
import { Registry } from 'prom-client';
import { CacheClient, CacheClientOptions } from '@app/cache-client';
import { CacheProtocol } from '@app/cache-protocol';
import { BusPublisher } from '@app/cache-protocol/bus';
import { eventually, redis, uniqueName } from '../support/stack-env';

async function counterValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = await registry.getSingleMetric(name)?.get();
  return (metric?.values ?? [])
    .filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))
    .reduce((sum, v) => sum + v.value, 0);
}

describe('cache client: L1 and the invalidation bus', () => {
  const owned: Array<{ disconnect(): void }> = [];
  const clients: CacheClient[] = [];
  let protocol: CacheProtocol;
  let streamKey: string;
  let publisher: BusPublisher;

  function conn(): Redis {
    const c = redis();
    owned.push(c);
    return c;
  }

  async function client(options: Partial<CacheClientOptions> = {}, registry = new Registry()): Promise<CacheClient> {
    const c = new CacheClient(conn(), {
      registry,
      l1: { maxEntries: 1000, maxStalenessMs: 400 },
      bus: { streamKey, connection: conn() },
      ...options,
    });
    clients.push(c);
    await c.busReady();
    return c;
  }

  beforeAll(() => {
    protocol = new CacheProtocol(conn());
  });
  beforeEach(() => {
    streamKey = `~bus{${uniqueName('e2e')}}`;
    publisher = new BusPublisher(conn(), { streamKey, source: 'test-invalidator' });
  });
  afterEach(async () => {
    publisher.stopHeartbeat();
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  afterAll(() => owned.forEach((c) => c.disconnect()));

  it('serves from L1 after a Redis hit; a bus announcement of the key drops it at once', async () => {
    const registry = new Registry();
    const reader = await client({}, registry);
    const key = uniqueName('product:1');
    let version = 1;
    const loader = async () => ({ value: { v: version }, version });
    expect(await reader.getOrLoad(key, loader, { ttlMs: 60_000 })).toEqual({ v: 1 });
    expect(await reader.getOrLoad(key, loader, { ttlMs: 60_000 })).toEqual({ v: 1 });
    expect(await counterValue(registry, 'cache_client_family_reads_total', { result: 'l1-hit' })).toBe(1);
    version = 2;
    await protocol.applyKeyEffects([{ key, version: 2, action: 'tombstone', tombstoneTtlMs: 60_000 }]);
    expect(await reader.getOrLoad(key, loader, { ttlMs: 60_000 })).toEqual({ v: 1 }); // L1, within its bound: the bus has not spoken yet
    expect(await publisher.announce({ keys: [[key, 2, 'i']] })).toBe('ok');
    await eventually('L1 dropped the key', async () => (await reader.getOrLoad(key, loader, { ttlMs: 60_000 })).v === 2, 2000, 5);
  });

  it("tag invalidations and namespace bumps on the bus clear L1; another instance's fill drops an older copy", async () => {
    const a = await client({ namespaces: ['ns:'] });
    const b = await client({ namespaces: ['ns:'] });
    const page = uniqueName('page:1');
    const nsKey = `ns:${uniqueName('item')}`;
    const entity = uniqueName('product:7');
    let n = 1;
    const loader = async () => ({ value: n, version: 0 });
    await a.getOrLoad(page, loader, { ttlMs: 60_000, tags: ['category:9'] });
    await a.getOrLoad(nsKey, loader, { ttlMs: 60_000 });
    n = 2;
    await protocol.invalidateTags([{ tag: 'category:9', version: 1, tombstoneTtlMs: 60_000 }]);
    await protocol.bumpNamespace('ns:');
    expect(await a.getOrLoad(page, loader, { ttlMs: 60_000, tags: ['category:9'] })).toBe(1); // L1 still
    await publisher.announce({ tags: ['category:9'], namespaces: [['ns:', 1]] });
    await eventually(
      'tag and namespace dropped from L1',
      async () =>
        (await a.getOrLoad(page, loader, { ttlMs: 60_000, tags: ['category:9'] })) === 2 &&
        (await a.getOrLoad(nsKey, loader, { ttlMs: 60_000 })) === 2,
      2000,
      5,
    );

    // instance a holds v1 in L1; b fills v3 after a tombstone; a hears b's fill and drops its copy
    let v = 1;
    const versioned = async () => ({ value: v, version: v });
    expect(await a.getOrLoad(entity, versioned, { ttlMs: 60_000 })).toBe(1);
    await protocol.applyKeyEffects([{ key: entity, version: 3, action: 'tombstone', tombstoneTtlMs: 60_000 }]);
    v = 3;
    expect(await b.getOrLoad(entity, versioned, { ttlMs: 60_000 })).toBe(3);
    await eventually(
      'a dropped its older copy after b announced its fill',
      async () => (await a.getOrLoad(entity, versioned, { ttlMs: 60_000 })) === 3,
      2000,
      5,
    );

    // a local invalidation by one instance reaches the others
    v = 4;
    expect(await b.getOrLoad(entity, versioned, { ttlMs: 60_000 })).toBe(3); // b's L1
    await a.invalidate(entity, 4);
    await eventually(
      'b dropped its copy after a invalidated the key',
      async () => (await b.getOrLoad(entity, versioned, { ttlMs: 60_000 })) === 4,
      2000,
      5,
    );
  });

  it('with heartbeats L1 serves past maxStalenessMs since the Redis read; a silent bus stops it within maxStalenessMs', async () => {
    const registry = new Registry();
    const reader = await client({}, registry);
    void publisher.startHeartbeat(50);
    const key = uniqueName('product:2');
    let loads = 0;
    const loader = async () => ({ value: ++loads, version: 1 });
    await reader.getOrLoad(key, loader, { ttlMs: 60_000 });
    await sleep(700); // > maxStalenessMs (400), heartbeats keep confirming
    const before = await counterValue(registry, 'cache_client_hits_total');
    await reader.getOrLoad(key, loader, { ttlMs: 60_000 });
    expect(await counterValue(registry, 'cache_client_hits_total')).toBe(before); // answered by L1
    reader.pauseBus(true);
    const pausedAt = Date.now();
    let lastL1 = pausedAt;
    for (;;) {
      const hitsBefore = await counterValue(registry, 'cache_client_hits_total');
      const t = Date.now();
      await reader.getOrLoad(key, loader, { ttlMs: 60_000 });
      if ((await counterValue(registry, 'cache_client_hits_total')) > hitsBefore) break; // went to Redis
      lastL1 = t;
      expect(t - pausedAt).toBeLessThanOrEqual(400 + 50);
      await sleep(5);
    }
    console.log(`silent bus: L1 served for ${lastL1 - pausedAt} ms after the bus went silent (maxStalenessMs 400)`);
    reader.pauseBus(false);
  });

  it('a killed bus connection drops L1 (suspect), and malformed messages are counted and ignored', async () => {
    const registry = new Registry();
    const reader = await client({ name: 'killed' }, registry);
    const key = uniqueName('product:3');
    await reader.getOrLoad(key, async () => ({ value: 1, version: 1 }), { ttlMs: 60_000 });
    expect(reader.l1Stats().entries).toBe(1);
    await conn().xadd(streamKey, '*', 'm', '{"v":1,"k":"inv","s":"x","at":1,"keys":[["a","b","c"]]}');
    await conn().xadd(streamKey, '*', 'other', 'field');
    await eventually(
      'malformed counted',
      async () => (await counterValue(registry, 'cache_client_bus_messages_total', { outcome: 'malformed' })) === 2,
      3000,
    );
    expect(reader.l1Stats().entries).toBe(1);
    const admin = conn();
    const list = (await admin.client('LIST')) as string;
    const line = list.split('\n').find((l) => l.includes('name=cache-bus:'));
    const id = /id=(\d+)/.exec(line ?? '')?.[1];
    expect(id).toBeDefined();
    await admin.client('KILL', 'ID', id!);
    await eventually('suspect after the kill', async () => (await counterValue(registry, 'cache_client_bus_suspect_total')) >= 1, 5000);
    expect(reader.l1Stats().entries).toBe(0);
  });

  it('Redis down: L1 answers within its staleness bound, then the loader does', async () => {
    const connection = redis();
    const reader = new CacheClient(connection, { registry: new Registry(), l1: { maxEntries: 10, maxStalenessMs: 300 } });
    clients.push(reader);
    const key = uniqueName('product:4');
    let loads = 0;
    const loader = async () => ({ value: ++loads, version: 1 });
    expect(await reader.getOrLoad(key, loader, { ttlMs: 60_000 })).toBe(1);
    connection.disconnect();
    const downAt = Date.now();
    expect(await reader.getOrLoad(key, loader, { ttlMs: 60_000 })).toBe(1); // L1
    await sleep(320 - (Date.now() - downAt));
    expect(await reader.getOrLoad(key, loader, { ttlMs: 60_000 })).toBe(2); // past the bound: the loader
  });
});

describe('cache client: early refresh (XFetch)', () => {
  it.each([0, 1000])(
    'a hot key read across many expiries (staleWhileRevalidateMs %d): no miss after the first, the loader runs about once per TTL, ahead of expiry',
    async (staleWhileRevalidateMs) => {
      const registry = new Registry();
      const connections = [redis(), redis(), redis()];
      const readers = connections.map((c) => new CacheClient(c, { registry, coalesce: false, earlyRefresh: { beta: 1 } }));
      const key = uniqueName('hot:product');
      const ttlMs = 300;
      let loads = 0;
      const loader = async () => {
        loads += 1;
        await sleep(30);
        return { value: { loads }, version: 0 };
      };
      const options = { ttlMs, jitterRatio: 0, waitMs: 2000, staleWhileRevalidateMs };
      await readers[0].getOrLoad(key, loader, options);
      const started = Date.now();
      let reads = 0;
      let slowest = 0;
      await Promise.all(
        readers.map(async (r) => {
          while (Date.now() - started < 3000) {
            const t = performance.now();
            await r.getOrLoad(key, loader, options);
            slowest = Math.max(slowest, performance.now() - t);
            reads += 1;
            await sleep(1);
          }
        }),
      );
      await Promise.all(readers.map((r) => r.close()));
      connections.forEach((c) => c.disconnect());
      const expiries = Math.round(3000 / ttlMs);
      const misses = await counterValue(registry, 'cache_client_misses_total');
      const early = await counterValue(registry, 'cache_client_early_refreshes_total');
      console.log(
        `early refresh (swr ${staleWhileRevalidateMs}): ${reads} reads over ${expiries} expiries, loader ${loads}x, early refreshes ${early}, misses ${misses} (the cold one), slowest read ${slowest.toFixed(1)} ms`,
      );
      expect(misses).toBe(1);
      expect(early).toBeGreaterThanOrEqual(expiries / 2); // refreshed ahead of expiry, not on a miss or a stale read
      expect(loads - 1).toBeGreaterThanOrEqual(expiries / 2);
      expect(loads - 1).toBeLessThanOrEqual(expiries * 2);
    },
  );
});
