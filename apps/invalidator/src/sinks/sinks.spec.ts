// The invalidator's other sinks as plain classes (no Nest): loader warms (lease + fill on a fake cache), circuit breaker,
// purge adapters against a local HTTP server that checks the request shape (the real Fastly
// and Cloudflare APIs are not reachable here).
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { HostCircuitBreakers, KeyedLimiter } from './circuit-breaker';
import type { Envelope, FillOutcome, Lease, LeaseGetResult } from '@app/cache-protocol';
import { LoaderCache, LoaderWarm, LoaderWarmer, LoaderWarmOutcome, versionOf } from './loader-warm';
import { CloudflareAdapter, FastlyAdapter, purgeAdapters, PurgeSink, VarnishXkeyAdapter } from './purge';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

async function server(handler: (req: Seen, res: ServerResponse) => void): Promise<{ url: string; seen: Seen[]; close: () => Promise<void> }> {
  const seen: Seen[] = [];
  const srv: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const s = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      seen.push(s);
      handler(s, res);
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, seen, close: () => new Promise((r) => srv.close(() => r())) };
}

const warm = (url: string, over: Partial<LoaderWarm> = {}): LoaderWarm => ({ key: 'product:1', loaderUrl: url, version: 5, tombstoneTtlMs: 60_000, mappingId: 'm', ...over });

/**
 * A CacheProtocol stand-in with the reader's semantics the loader relies on: one lease per
 * key, a miss grants it, a fill lands only with the live lease and not below the floor.
 */
class FakeCache implements LoaderCache {
  readonly values = new Map<string, { version: number; payload: string; ttlMs: number }>();
  readonly leases = new Map<string, string>();
  readonly floors = new Map<string, number>();
  readonly calls: string[] = [];
  private next = 0;

  async leaseGet(key: string, options: { leaseTtlMs: number }): Promise<LeaseGetResult> {
    this.calls.push(`leaseGet ${key} ${options.leaseTtlMs}`);
    const v = this.values.get(key);
    if (v) return { kind: 'hit', entry: { version: v.version, writtenAt: 0, freshForMs: 0, namespaceGeneration: 0, payload: v.payload } satisfies Envelope };
    if (this.leases.has(key)) return { kind: 'wait', tombstoneVersion: this.floors.get(key) ?? 0 };
    const token = `t${++this.next}`;
    this.leases.set(key, token);
    return { kind: 'miss', lease: { key, token }, tombstoneVersion: this.floors.get(key) ?? 0 };
  }

  async fill(lease: Lease, version: number, payload: string, options: { ttlMs: number }): Promise<FillOutcome> {
    this.calls.push(`fill ${lease.key} v${version}`);
    if (this.leases.get(lease.key) !== lease.token) return 'lease-lost';
    this.leases.delete(lease.key);
    if (version < (this.floors.get(lease.key) ?? 0)) return 'older-than-tombstone';
    this.values.set(lease.key, { version, payload, ttlMs: options.ttlMs });
    return 'filled';
  }

  async releaseLease(lease: Lease): Promise<boolean> {
    this.calls.push(`release ${lease.key}`);
    if (this.leases.get(lease.key) !== lease.token) return false;
    this.leases.delete(lease.key);
    return true;
  }

  /** An invalidation: voids the lease, raises the floor, deletes an older value. */
  invalidate(key: string, version: number): void {
    this.leases.delete(key);
    this.floors.set(key, Math.max(this.floors.get(key) ?? 0, version));
    if ((this.values.get(key)?.version ?? 0) < version) this.values.delete(key);
  }

  written(): { key: string; version: number; payload: string }[] {
    return [...this.values].map(([key, v]) => ({ key, version: v.version, payload: v.payload }));
  }
}

describe('LoaderWarmer', () => {
  let cache: FakeCache;
  beforeEach(() => (cache = new FakeCache()));

  it('takes the version from X-Entity-Version, else from a JSON field', () => {
    expect(versionOf(new Headers({ 'X-Entity-Version': '7' }), '{}')).toBe(7);
    expect(versionOf(new Headers(), '{"version":9,"price":1}')).toBe(9);
    expect(versionOf(new Headers(), 'not json')).toBeUndefined();
  });

  it('fills a miss with the loaded version through the lease (taken before fetching); an older source is skipped; 404 fails without retry; the lease is given back', async () => {
    const s = await server((req, res) => {
      if (req.url === '/p/1') return res.writeHead(200, { 'x-entity-version': '6' }).end('{"price":2}');
      if (req.url === '/p/old') return res.writeHead(200).end('{"version":3}');
      res.writeHead(404).end();
    });
    const outcomes: LoaderWarmOutcome[] = [];
    const w = new LoaderWarmer(cache, { retries: 2, backoffMs: 1 }, (o) => outcomes.push(o));
    try {
      expect(await w.warmOne(warm(`${s.url}/p/1`, { ttlMs: 30_000 }))).toBe('warmed');
      expect(cache.written()).toEqual([{ key: 'product:1', version: 6, payload: '{"price":2}' }]);
      expect(cache.values.get('product:1')?.ttlMs).toBe(30_000);
      expect(cache.calls).toEqual([`leaseGet product:1 ${w.leaseTtlMs}`, 'fill product:1 v6']);
      // the lease covers every attempt and backoff: 3 x 2000 + 1 + 2 + margin
      expect(w.leaseTtlMs).toBe(3 * 2_000 + 3 + 1_000);
      expect(await w.warmOne(warm(`${s.url}/p/old`, { key: 'product:2' }))).toBe('skipped-older');
      expect(await w.warmOne(warm(`${s.url}/p/none`, { key: 'product:3' }))).toBe('failed');
      expect(s.seen.filter((r) => r.url === '/p/none')).toHaveLength(1);
      expect(outcomes).toEqual(['warmed', 'skipped-older', 'failed']);
      expect(cache.written().map((x) => x.key)).toEqual(['product:1']);
      // every lease that did not fill was handed back: readers need not wait for its TTL
      expect(cache.calls.filter((c) => c.startsWith('release'))).toEqual(['release product:2', 'release product:3']);
      expect(cache.leases.size).toBe(0);
    } finally {
      await s.close();
    }
  });

  it('never creates over readers: a cached key or a reader holding the lease is skipped-cached, nothing fetched', async () => {
    const s = await server((_req, res) => res.writeHead(200, { 'x-entity-version': '9' }).end('{"price":9}'));
    const w = new LoaderWarmer(cache, { retries: 0 });
    try {
      cache.values.set('product:1', { version: 5, payload: '{"price":5}', ttlMs: 1 });
      expect(await w.warmOne(warm(`${s.url}/p/1`))).toBe('skipped-cached');
      const reader = await cache.leaseGet('product:2', { leaseTtlMs: 1 });
      expect(reader.kind).toBe('miss');
      expect(await w.warmOne(warm(`${s.url}/p/2`, { key: 'product:2' }))).toBe('skipped-cached');
      expect(s.seen).toHaveLength(0);
      expect(cache.values.get('product:1')?.version).toBe(5);
      expect(cache.values.has('product:2')).toBe(false);
      expect(cache.leases.get('product:2')).toBe((reader as { lease: Lease }).lease.token); // the reader keeps its lease
    } finally {
      await s.close();
    }
  });

  it('a newer invalidation while loading voids the lease: the load does not land (skipped-older)', async () => {
    let release: () => void = () => undefined;
    const s = await server((_req, res) => {
      release = () => res.writeHead(200, { 'x-entity-version': '5' }).end('{"price":5}');
    });
    const w = new LoaderWarmer(cache, { retries: 0 });
    try {
      const pending = w.warmOne(warm(`${s.url}/p/1`));
      while (s.seen.length === 0) await new Promise((r) => setTimeout(r, 5));
      cache.invalidate('product:1', 6); // event v6 applied while v5 was being fetched
      release();
      expect(await pending).toBe('skipped-older');
      expect(cache.values.has('product:1')).toBe(false);
      // a floor above the loaded version refuses the fill too
      cache.invalidate('product:9', 8);
      const s2 = await server((_req, res) => res.writeHead(200, { 'x-entity-version': '7' }).end('{}'));
      try {
        expect(await w.warmOne(warm(`${s2.url}/p/9`, { key: 'product:9', version: 7 }))).toBe('skipped-older');
        expect(cache.values.has('product:9')).toBe(false);
      } finally {
        await s2.close();
      }
    } finally {
      await s.close();
    }
  });

  it('retries 5xx, times out slow sources, opens the circuit per host (then takes no lease)', async () => {
    const s = await server((req, res) => {
      if (req.url === '/slow') return void setTimeout(() => res.end('{"version":9}'), 500);
      res.writeHead(503).end();
    });
    const w = new LoaderWarmer(cache, { retries: 1, backoffMs: 1, timeoutMs: 100, breakerFailures: 4, breakerOpenMs: 60_000 });
    try {
      expect(await w.warmOne(warm(`${s.url}/down`))).toBe('failed');
      expect(s.seen).toHaveLength(2); // one retry
      expect(await w.warmOne(warm(`${s.url}/slow`))).toBe('timeout');
      // 4 consecutive failures on this host: the circuit is open, nothing is fetched.
      const before = s.seen.length;
      const calls = cache.calls.length;
      expect(await w.warmOne(warm(`${s.url}/down`))).toBe('circuit-open');
      expect(s.seen.length).toBe(before);
      expect(cache.calls.length).toBe(calls);
      expect(cache.written()).toEqual([]);
      expect(cache.leases.size).toBe(0);
    } finally {
      await s.close();
    }
  });

  it('schedule runs in the background with a bound per mapping', async () => {
    let running = 0;
    let peak = 0;
    const s = await server((_req, res) => {
      running += 1;
      peak = Math.max(peak, running);
      setTimeout(() => {
        running -= 1;
        res.end('{"version":5}');
      }, 20);
    });
    const w = new LoaderWarmer(cache, { concurrencyPerMapping: 2 });
    try {
      w.schedule(Array.from({ length: 6 }, (_, i) => warm(`${s.url}/p/${i}`, { key: `product:${i}` })));
      expect(w.pending).toBe(6);
      await w.drain();
      expect(cache.written()).toHaveLength(6);
      expect(peak).toBeLessThanOrEqual(2);
    } finally {
      await s.close();
    }
  });
});

describe('HostCircuitBreakers / KeyedLimiter', () => {
  it('opens after N failures, lets one trial through after openMs, closes on success', () => {
    let now = 0;
    const b = new HostCircuitBreakers({ failureThreshold: 2, openMs: 100, now: () => now });
    b.failure('h');
    expect(b.tryAcquire('h')).toBe(true);
    b.failure('h');
    expect(b.tryAcquire('h')).toBe(false);
    now = 150;
    expect(b.tryAcquire('h')).toBe(true);
    expect(b.tryAcquire('h')).toBe(false); // only one trial
    b.success('h');
    expect(b.tryAcquire('h')).toBe(true);
  });

  it('never runs more than the limit per key', async () => {
    const l = new KeyedLimiter(1);
    let running = 0;
    let peak = 0;
    const task = async () => {
      running += 1;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 5));
      running -= 1;
    };
    await Promise.all([l.run('a', task), l.run('a', task), l.run('a', task)]);
    expect(peak).toBe(1);
  });
});

describe('purge adapters (request shape)', () => {
  it('Varnish: PURGE / with xkey-purge, PURGE <path> for URLs', async () => {
    const s = await server((_req, res) => res.end('ok'));
    try {
      await new VarnishXkeyAdapter(s.url).purge({ tags: ['product:1', 'page:x'], urls: ['https://shop.example/products/1?x=1'] }, AbortSignal.timeout(1000));
      expect(s.seen.map((r) => [r.method, r.url, r.headers['xkey-purge'], r.headers['x-purge-host']])).toEqual([
        ['PURGE', '/', 'product:1 page:x', undefined],
        ['PURGE', '/products/1?x=1', undefined, 'shop.example'],
      ]);
    } finally {
      await s.close();
    }
  });

  it('Fastly: POST /service/<id>/purge with Surrogate-Key, Fastly-Key and Fastly-Soft-Purge', async () => {
    const s = await server((_req, res) => res.end('{"status":"ok"}'));
    try {
      await new FastlyAdapter('SVC1', 'tok', s.url).purge({ tags: ['a', 'b'], urls: ['https://shop.example/p/1'] }, AbortSignal.timeout(1000));
      expect(s.seen[0]).toMatchObject({ method: 'POST', url: '/service/SVC1/purge', headers: { 'surrogate-key': 'a b', 'fastly-key': 'tok', 'fastly-soft-purge': '1' } });
      expect(s.seen[1]).toMatchObject({ method: 'POST', url: '/purge/shop.example/p/1', headers: { 'fastly-key': 'tok' } });
    } finally {
      await s.close();
    }
  });

  it('Cloudflare: POST /zones/<id>/purge_cache {"tags"} and {"files"}, Bearer token, 30 per request', async () => {
    const s = await server((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"success":true}'));
    try {
      const tags = Array.from({ length: 31 }, (_, i) => `t${i}`);
      await new CloudflareAdapter('Z1', 'tok', s.url).purge({ tags, urls: ['https://shop.example/p/1'] }, AbortSignal.timeout(1000));
      expect(s.seen.map((r) => [r.method, r.url, r.headers.authorization])).toEqual([
        ['POST', '/zones/Z1/purge_cache', 'Bearer tok'],
        ['POST', '/zones/Z1/purge_cache', 'Bearer tok'],
        ['POST', '/zones/Z1/purge_cache', 'Bearer tok'],
      ]);
      expect(JSON.parse(s.seen[0].body).tags).toHaveLength(30);
      expect(JSON.parse(s.seen[1].body)).toEqual({ tags: ['t30'] });
      expect(JSON.parse(s.seen[2].body)).toEqual({ files: ['https://shop.example/p/1'] });
    } finally {
      await s.close();
    }
  });

  it('PURGE_TARGETS parsing names the bad entry and needs tokens', () => {
    expect(purgeAdapters({ targets: 'varnish:http://127.0.0.1:6081, cloudflare:Z@https://cf.local/v4', cloudflareToken: 't' }).map((a) => a.name)).toEqual(['varnish:http://127.0.0.1:6081', 'cloudflare:Z']);
    expect(() => purgeAdapters({ targets: 'fastly:SVC' })).toThrow('PURGE_FASTLY_TOKEN');
    expect(() => purgeAdapters({ targets: 'akamai:x' })).toThrow('"akamai:x"');
  });
});

describe('PurgeSink', () => {
  it('retries within the deadline, then hands back what was not purged', async () => {
    let calls = 0;
    const flaky = {
      name: 'flaky',
      maxTagsPerRequest: 64,
      maxUrlsPerRequest: 1,
      send: async () => {
        if (calls++ < 2) throw new Error('503');
      },
    };
    const counts: string[] = [];
    const sink = new PurgeSink([flaky], { deadlineMs: 1_000, backoffMs: 1 }, (_t, o) => counts.push(o));
    expect((await sink.purge([{ tags: ['a'], urls: [] }])).failed).toEqual([]);
    expect(counts).toEqual(['retried', 'retried', 'purged']);

    const down = {
      name: 'down',
      maxTagsPerRequest: 64,
      maxUrlsPerRequest: 1,
      send: async () => {
        throw new Error('refused');
      },
    };
    const started = Date.now();
    const result = await new PurgeSink([down], { deadlineMs: 100, backoffMs: 10 }).purge([{ tags: ['a'], urls: [] }, { tags: [], urls: [] }]);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(result.failed).toEqual([{ item: { tags: ['a'], urls: [] }, error: 'down: refused' }]);
  });
});
