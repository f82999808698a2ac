// Loader warms as plain classes (no Nest): lease + fill on a fake cache, real local HTTP servers
// on 127.0.0.x (allow-listed like an operator would), undici's fetch through the checked agent.
// Hostile answers and URLs: internal hosts refused (also when a NAME resolves to one: an
// injected resolver), bodies cut at the limit, versions from the event, fair shares, breaker
// trials that always end.
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Envelope, FillOutcome, Lease, LeaseGetResult } from '@app/cache-protocol';
import { parseHostAllowList } from '@app/registry-core/url/target-url';
import { LoaderCache, LoaderWarm, LoaderWarmer, LoaderWarmOptions, LoaderWarmOutcome, versionOf } from './loader-warm';

interface TestServer {
  url: string;
  seen: string[];
  close: () => Promise<void>;
}

async function server(handler: (req: IncomingMessage, res: ServerResponse) => void, ip = '127.0.0.1'): Promise<TestServer> {
  const seen: string[] = [];
  const srv = createServer((req, res) => {
    seen.push(req.url ?? '');
    handler(req, res);
  });
  await new Promise<void>((r) => srv.listen(0, ip, () => r()));
  const port = (srv.address() as AddressInfo).port;
  return {
    url: `http://${ip}:${port}`,
    seen,
    close: () => {
      srv.closeAllConnections(); // the loader keeps connections alive
      return new Promise((r) => srv.close(() => r()));
    },
  };
}

const warm = (url: string, over: Partial<LoaderWarm> = {}): LoaderWarm => ({
  key: 'product:1',
  loaderUrl: url,
  version: 5,
  tombstoneTtlMs: 60_000,
  mappingId: 'm',
  ...over,
});
/** The test servers' address, allow-listed as an operator would (LOADER_ALLOWED_HOSTS=127.0.0.1). */
const LOCAL: Partial<LoaderWarmOptions> = { allowList: parseHostAllowList('127.0.0.1', 'LOADER_ALLOWED_HOSTS') };

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
    if (v)
      return {
        kind: 'hit',
        entry: { version: v.version, writtenAt: 0, freshForMs: 0, namespaceGeneration: 0, payload: v.payload } satisfies Envelope,
      };
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

  it('fills a miss at the event version through the lease (taken before fetching); an older source is skipped; 404 fails without retry; the lease is given back', async () => {
    const s = await server((req, res) => {
      if (req.url === '/p/1') return res.writeHead(200, { 'x-entity-version': '6' }).end('{"price":2}');
      if (req.url === '/p/old') return res.writeHead(200).end('{"version":3}');
      res.writeHead(404).end();
    });
    const outcomes: LoaderWarmOutcome[] = [];
    const w = new LoaderWarmer(cache, { ...LOCAL, retries: 2, backoffMs: 1 }, (o) => outcomes.push(o));
    try {
      expect(await w.warmOne(warm(`${s.url}/p/1`, { ttlMs: 30_000 }))).toBe('warmed');
      expect(cache.written()).toEqual([{ key: 'product:1', version: 5, payload: '{"price":2}' }]);
      expect(cache.values.get('product:1')?.ttlMs).toBe(30_000);
      expect(cache.calls).toEqual([`leaseGet product:1 ${w.leaseTtlMs}`, 'fill product:1 v5']);
      // the lease covers every attempt and backoff: 3 x 2000 + 1 + 2 + margin
      expect(w.leaseTtlMs).toBe(3 * 2_000 + 3 + 1_000);
      expect(await w.warmOne(warm(`${s.url}/p/old`, { key: 'product:2' }))).toBe('skipped-older');
      expect(await w.warmOne(warm(`${s.url}/p/none`, { key: 'product:3' }))).toBe('failed');
      expect(s.seen.filter((url) => url === '/p/none')).toHaveLength(1);
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
    const w = new LoaderWarmer(cache, { ...LOCAL, retries: 0 });
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
    const w = new LoaderWarmer(cache, { ...LOCAL, retries: 0 });
    try {
      const pending = w.warmOne(warm(`${s.url}/p/1`));
      while (s.seen.length === 0) await sleep(5);
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
    const w = new LoaderWarmer(cache, { ...LOCAL, retries: 1, backoffMs: 1, timeoutMs: 100, breakerFailures: 4, breakerOpenMs: 60_000 });
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
    const w = new LoaderWarmer(cache, { ...LOCAL, concurrencyPerMapping: 2 });
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

describe('LoaderWarmer and hostile input', () => {
  let cache: FakeCache;
  beforeEach(() => (cache = new FakeCache()));

  it('refuses internal URLs before anything (no lease, no fetch): loopback not allow-listed, metadata, localhost, other schemes', async () => {
    const s = await server((_req, res) => res.writeHead(200, { 'x-entity-version': '5' }).end('{}'), '127.0.0.2');
    const outcomes: [LoaderWarmOutcome, string | undefined][] = [];
    const w = new LoaderWarmer(cache, { ...LOCAL, retries: 0 }, (o, _w, d) => outcomes.push([o, d]));
    try {
      for (const url of [
        `${s.url}/p/1`,
        'http://169.254.169.254/latest/meta-data/',
        'http://localhost:1/p',
        'http://[::1]:1/p',
        'http://10.0.0.1/p',
        'file:///etc/passwd',
        'http://user:pw@catalog.example/p',
      ]) {
        expect([url, await w.warmOne(warm(url))]).toEqual([url, 'refused']);
      }
      expect(s.seen).toEqual([]);
      expect(cache.calls).toEqual([]);
      expect(outcomes[1][1]).toContain('metadata');
    } finally {
      await s.close();
    }
  });

  it('a host NAME is checked at connect time on every address it resolves to (DNS rebinding): internal = refused, allow-listed = connected to the checked address', async () => {
    const s = await server((_req, res) => res.writeHead(200, { 'x-entity-version': '5' }).end('{"ok":true}'));
    const port = new URL(s.url).port;
    const answers: Record<string, string[]> = {
      'loopback.example': ['127.0.0.1'],
      'private.example': ['10.0.0.1'],
      'mixed.example': ['10.0.0.1', '127.0.0.1'],
    };
    const resolve = async (host: string) => (answers[host] ?? []).map((address) => ({ address, family: 4 }));
    const strict = new LoaderWarmer(cache, { retries: 0, resolve });
    const local = new LoaderWarmer(cache, { ...LOCAL, retries: 0, resolve });
    try {
      expect(await strict.warmOne(warm(`http://loopback.example:${port}/p`))).toBe('refused');
      expect(await strict.warmOne(warm(`http://private.example:${port}/p`, { key: 'product:2' }))).toBe('refused');
      expect(s.seen).toEqual([]);
      expect(cache.leases.size).toBe(0); // leases given back
      // 127.0.0.1 allow-listed: the name reaches the server, through the checked address only
      expect(await local.warmOne(warm(`http://mixed.example:${port}/p`, { key: 'product:3' }))).toBe('warmed');
      expect(s.seen).toEqual(['/p']);
    } finally {
      await Promise.all([strict.close(), local.close()]);
      await s.close();
    }
  });

  it('never follows a redirect (failed, the target never called)', async () => {
    const target = await server((_req, res) => res.writeHead(200, { 'x-entity-version': '5' }).end('{}'));
    const s = await server((_req, res) => res.writeHead(302, { location: `${target.url}/inside` }).end());
    const w = new LoaderWarmer(cache, { ...LOCAL, retries: 2, backoffMs: 1 });
    try {
      expect(await w.warmOne(warm(`${s.url}/p`))).toBe('failed');
      expect(s.seen).toHaveLength(1); // not retried
      expect(target.seen).toEqual([]);
    } finally {
      await Promise.all([s.close(), target.close()]);
    }
  });

  it('cuts answers at maxBodyBytes: a larger Content-Length or a longer stream is too-large, nothing written; at the limit is fine', async () => {
    const limit = 4_096;
    const s = await server((req, res) => {
      if (req.url === '/declared')
        return res.writeHead(200, { 'x-entity-version': '5', 'content-length': String(limit + 1) }).end('x'.repeat(limit + 1));
      if (req.url === '/streamed') {
        res.writeHead(200, { 'x-entity-version': '5' });
        for (let i = 0; i < 10; i += 1) res.write('x'.repeat(1_000));
        return res.end();
      }
      res.writeHead(200, { 'x-entity-version': '5' }).end('y'.repeat(limit));
    });
    const w = new LoaderWarmer(cache, { ...LOCAL, retries: 2, maxBodyBytes: limit });
    try {
      expect(await w.warmOne(warm(`${s.url}/declared`))).toBe('too-large');
      expect(await w.warmOne(warm(`${s.url}/streamed`, { key: 'product:2' }))).toBe('too-large');
      expect(s.seen).toEqual(['/declared', '/streamed']); // not retried
      expect(cache.written()).toEqual([]);
      expect(await w.warmOne(warm(`${s.url}/exact`, { key: 'product:3' }))).toBe('warmed');
      expect(cache.values.get('product:3')?.payload).toHaveLength(limit);
    } finally {
      await s.close();
    }
  });

  it('stores at the event version whatever the loader claims above it; an older answer is skipped; a claimed version that is not a safe integer is no version', async () => {
    const s = await server((req, res) => {
      if (req.url === '/max') return res.writeHead(200, { 'x-entity-version': String(Number.MAX_SAFE_INTEGER) }).end('{}');
      if (req.url === '/huge') return res.writeHead(200, { 'x-entity-version': '99999999999999999999' }).end('{}');
      res.writeHead(200).end('{"version":4}');
    });
    const w = new LoaderWarmer(cache, { ...LOCAL, retries: 0 });
    try {
      expect(await w.warmOne(warm(`${s.url}/max`, { version: 2 }))).toBe('warmed');
      expect(cache.values.get('product:1')?.version).toBe(2);
      // a later invalidation at v3 removes it (the key is not frozen)
      cache.invalidate('product:1', 3);
      expect(cache.values.has('product:1')).toBe(false);
      expect(await w.warmOne(warm(`${s.url}/old`, { key: 'product:2', version: 5 }))).toBe('skipped-older');
      expect(await w.warmOne(warm(`${s.url}/huge`, { key: 'product:3' }))).toBe('failed');
      expect(versionOf(new Headers({ 'x-entity-version': '99999999999999999999' }), '{}')).toBeUndefined();
    } finally {
      await s.close();
    }
  });

  it('pending warms are bounded per team (else per host): a slow team fills its own share, another team still warms', async () => {
    const held: ServerResponse[] = [];
    const slow = await server((_req, res) => void held.push(res));
    const fast = await server((_req, res) => res.writeHead(200, { 'x-entity-version': '5' }).end('{}'), '127.0.0.3');
    const outcomes: [LoaderWarmOutcome, string][] = [];
    const allow = parseHostAllowList('127.0.0.1,127.0.0.3', 'LOADER_ALLOWED_HOSTS');
    const w = new LoaderWarmer(
      cache,
      { allowList: allow, retries: 0, concurrencyPerMapping: 1, maxPending: 10, maxPendingPerShare: 3 },
      (o, x) => outcomes.push([o, x.team ?? x.key]),
    );
    try {
      w.schedule(Array.from({ length: 8 }, (_, i) => warm(`${slow.url}/a/${i}`, { key: `a:${i}`, team: 'team-a', mappingId: 'a' })));
      // the same slow host under another team name is another share; without a team, the host is the share
      w.schedule([
        warm(`${fast.url}/b/1`, { key: 'b:1', team: 'team-b', mappingId: 'b' }),
        warm(`${fast.url}/b/2`, { key: 'b:2', team: 'team-b', mappingId: 'b' }),
      ]);
      w.schedule(Array.from({ length: 4 }, (_, i) => warm(`${fast.url}/h/${i}`, { key: `h:${i}`, mappingId: 'h' })));
      expect(outcomes.filter(([o]) => o === 'dropped')).toEqual([...Array<string[]>(5).fill(['dropped', 'team-a']), ['dropped', 'h:3']]);
      while (cache.values.size < 5) await sleep(5);
      expect([...cache.values.keys()].sort()).toEqual(['b:1', 'b:2', 'h:0', 'h:1', 'h:2']);
      // the total bound still holds: 3 of team-a pending, 7 more fill it
      w.schedule(
        Array.from({ length: 9 }, (_, i) => warm(`${slow.url}/c/${i}`, { key: `c:${i}`, team: `team-c${i}`, mappingId: `c${i}` })),
      );
      expect(w.pending).toBe(10);
      expect(outcomes.filter(([o]) => o === 'dropped')).toHaveLength(8);
    } finally {
      held.forEach((res) => res.writeHead(503).end());
      await w.drain();
      await Promise.all([slow.close(), fast.close(), w.close()]);
    }
  });

  it('a half-open trial ends whatever its answer: a 4xx closes the circuit, a 5xx opens it again', async () => {
    let mode: '503' | '404' | 'ok' = '503';
    const s = await server((_req, res) => {
      if (mode === '503') return res.writeHead(503).end();
      if (mode === '404') return res.writeHead(404).end();
      res.writeHead(200, { 'x-entity-version': '5' }).end('{}');
    });
    const w = new LoaderWarmer(cache, { ...LOCAL, retries: 0, breakerFailures: 2, breakerOpenMs: 30 });
    const open = async () => {
      expect(await w.warmOne(warm(`${s.url}/p`, { key: 'k:503a' }))).toBe('failed');
      expect(await w.warmOne(warm(`${s.url}/p`, { key: 'k:503b' }))).toBe('failed');
      expect(await w.warmOne(warm(`${s.url}/p`, { key: 'k:open' }))).toBe('circuit-open');
      await sleep(40); // past breakerOpenMs: half-open
    };
    try {
      await open();
      mode = '404';
      expect(await w.warmOne(warm(`${s.url}/p`, { key: 'k:trial' }))).toBe('failed');
      mode = 'ok';
      for (let i = 0; i < 5; i += 1) expect(await w.warmOne(warm(`${s.url}/p`, { key: `k:after-${i}` }))).toBe('warmed');
      // a 5xx trial opens it again
      mode = '503';
      await open();
      expect(await w.warmOne(warm(`${s.url}/p`, { key: 'k:trial-503' }))).toBe('failed');
      expect(await w.warmOne(warm(`${s.url}/p`, { key: 'k:open-again' }))).toBe('circuit-open');
    } finally {
      await Promise.all([s.close(), w.close()]);
    }
  });

  it('a half-open trial whose address is refused ends without a verdict: the next call is the trial', async () => {
    let mode: '503' | 'ok' = '503';
    // Connection: close, so every call looks the name up again (a kept-alive socket stays on the address checked when it connected).
    const s = await server((_req, res) =>
      mode === '503'
        ? res.writeHead(503, { connection: 'close' }).end()
        : res.writeHead(200, { 'x-entity-version': '5', connection: 'close' }).end('{}'),
    );
    let address = '127.0.0.1';
    const w = new LoaderWarmer(cache, {
      ...LOCAL,
      retries: 0,
      breakerFailures: 2,
      breakerOpenMs: 30,
      resolve: async () => [{ address, family: 4 }],
    });
    const url = `http://rebind.example:${new URL(s.url).port}/p`;
    try {
      expect(await w.warmOne(warm(url, { key: 'k:1' }))).toBe('failed');
      expect(await w.warmOne(warm(url, { key: 'k:2' }))).toBe('failed');
      expect(await w.warmOne(warm(url, { key: 'k:3' }))).toBe('circuit-open');
      await sleep(40);
      address = '10.0.0.1';
      expect(await w.warmOne(warm(url, { key: 'k:trial-refused' }))).toBe('refused');
      address = '127.0.0.1';
      mode = 'ok';
      expect(await w.warmOne(warm(url, { key: 'k:trial-ok' }))).toBe('warmed');
      expect(await w.warmOne(warm(url, { key: 'k:closed' }))).toBe('warmed');
    } finally {
      await Promise.all([s.close(), w.close()]);
    }
  });
});

// Red team: answers a hostile loader can give once its host is allowed (compressed bombs, slow
// drips, interim responses). The limit must hold on what is decoded, the timeout on the whole
// body, and nothing may hang a warm's share.
describe('LoaderWarmer vs hostile answers (red team)', () => {
  let cache: FakeCache;
  beforeEach(() => (cache = new FakeCache()));

  it('a gzip (and a gzip-in-gzip) bomb is cut at maxBodyBytes of DECODED bytes: too-large, nothing written', async () => {
    const inflated = Buffer.alloc(32 * 1_048_576, 0x20); // 32 MiB of spaces: ~32 KiB gzipped
    const once = gzipSync(inflated);
    const twice = gzipSync(once);
    const s = await server((req, res) => {
      const [body, encoding] = req.url === '/twice' ? [twice, 'gzip, gzip'] : [once, 'gzip'];
      // no Content-Length: only the decoded stream can tell the size
      res.writeHead(200, { 'x-entity-version': '5', 'content-encoding': encoding, 'transfer-encoding': 'chunked' });
      res.end(body);
    });
    const w = new LoaderWarmer(cache, { ...LOCAL, retries: 0, maxBodyBytes: 1_048_576, timeoutMs: 10_000 });
    try {
      expect(once.length).toBeLessThan(1_048_576);
      expect(await w.warmOne(warm(`${s.url}/once`))).toBe('too-large');
      expect(await w.warmOne(warm(`${s.url}/twice`, { key: 'product:2' }))).toBe('too-large');
      expect(cache.written()).toEqual([]);
    } finally {
      await Promise.all([s.close(), w.close()]);
    }
  });

  it('a body dripped one byte at a time ends in timeout (the per-attempt timeout covers the body), and the lease is given back', async () => {
    const timers: NodeJS.Timeout[] = [];
    const s = await server((_req, res) => {
      res.writeHead(200, { 'x-entity-version': '5', 'content-type': 'application/json' });
      res.write('{');
      timers.push(setInterval(() => res.write(' '), 20));
    });
    const w = new LoaderWarmer(cache, { ...LOCAL, retries: 1, backoffMs: 1, timeoutMs: 300 });
    try {
      expect(await w.warmOne(warm(`${s.url}/drip`))).toBe('timeout');
      expect(s.seen).toEqual(['/drip', '/drip']);
      expect(cache.written()).toEqual([]);
      expect(cache.leases.size).toBe(0);
    } finally {
      timers.forEach(clearInterval);
      await Promise.all([s.close(), w.close()]);
    }
  });

  it('interim 1xx answers before the real one change nothing: the 200 after them is what is stored', async () => {
    const s = await server((_req, res) => {
      res.writeEarlyHints({ link: '</x>; rel=preload' });
      res.writeHead(200, { 'x-entity-version': '5' }).end('{"price":3}');
    });
    const w = new LoaderWarmer(cache, { ...LOCAL, retries: 0 });
    try {
      expect(await w.warmOne(warm(`${s.url}/p`))).toBe('warmed');
      expect(cache.written()).toEqual([{ key: 'product:1', version: 5, payload: '{"price":3}' }]);
    } finally {
      await Promise.all([s.close(), w.close()]);
    }
  });
});
