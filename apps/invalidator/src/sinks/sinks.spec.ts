// The purge sink as plain classes (no Nest): adapters against a local HTTP server that checks
// the request shape (the real Fastly and Cloudflare APIs are not reachable here). Loader warms:
// loader-warm.spec.ts; the circuit breaker: circuit-breaker.spec.ts.
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { CloudflareAdapter, FastlyAdapter, purgeAdapters, PurgeSink, VarnishXkeyAdapter } from './purge';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

async function server(
  handler: (req: Seen, res: ServerResponse) => void,
): Promise<{ url: string; seen: Seen[]; close: () => Promise<void> }> {
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

describe('purge adapters (request shape)', () => {
  it('Varnish: PURGE / with xkey-purge, PURGE <path> for URLs', async () => {
    const s = await server((_req, res) => res.end('ok'));
    try {
      await new VarnishXkeyAdapter(s.url).purge(
        { tags: ['product:1', 'page:x'], urls: ['https://shop.example/products/1?x=1'] },
        AbortSignal.timeout(1000),
      );
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
      await new FastlyAdapter('SVC1', 'tok', s.url).purge(
        { tags: ['a', 'b'], urls: ['https://shop.example/p/1'] },
        AbortSignal.timeout(1000),
      );
      expect(s.seen[0]).toMatchObject({
        method: 'POST',
        url: '/service/SVC1/purge',
        headers: { 'surrogate-key': 'a b', 'fastly-key': 'tok', 'fastly-soft-purge': '1' },
      });
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
      expect((JSON.parse(s.seen[0].body) as { tags: string[] }).tags).toHaveLength(30);
      expect(JSON.parse(s.seen[1].body)).toEqual({ tags: ['t30'] });
      expect(JSON.parse(s.seen[2].body)).toEqual({ files: ['https://shop.example/p/1'] });
    } finally {
      await s.close();
    }
  });

  it('PURGE_TARGETS parsing names the bad entry and needs tokens', () => {
    expect(
      purgeAdapters({ targets: 'varnish:http://127.0.0.1:6081, cloudflare:Z@https://cf.local/v4', cloudflareToken: 't' }).map(
        (a) => a.name,
      ),
    ).toEqual(['varnish:http://127.0.0.1:6081', 'cloudflare:Z']);
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
    const result = await new PurgeSink([down], { deadlineMs: 100, backoffMs: 10 }).purge([
      { tags: ['a'], urls: [] },
      { tags: [], urls: [] },
    ]);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(result.failed).toEqual([{ item: { tags: ['a'], urls: [] }, error: 'down: refused' }]);
  });
});
