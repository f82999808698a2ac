// The purge sink against a real HTTP cache: Varnish with the xkey vmod (started on demand by
// test/support/varnish.ts) in front of a small backend that tags its pages with `xkey`.
// After a price change the page through Varnish shows the new price once the sink purged the
// tag; with Varnish gone the sink hands the items back within its deadline (PURGE_FAILED).
import { createServer, Server } from 'node:http';
import { parseHostAllowList } from '@app/registry-core/url/target-url';
import { PurgeSink, VarnishXkeyAdapter } from '../../apps/invalidator/src/sinks/purge';
import { startTestVarnish, TestVarnish } from '../support/varnish';

describe('purge sink through Varnish (xkey)', () => {
  let backend: Server;
  let varnish: TestVarnish;
  let price = 10;
  let backendHits = 0;

  beforeAll(async () => {
    backend = createServer((req, res) => {
      backendHits += 1;
      res.setHeader('cache-control', 'public, max-age=300, stale-while-revalidate=30');
      res.setHeader('xkey', 'product:42 product:42:pages');
      res.end(`<p>${req.url} costs ${price}</p>`);
    });
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', () => r()));
    varnish = await startTestVarnish((backend.address() as { port: number }).port);
  }, 60_000);

  afterAll(async () => {
    await varnish?.stop();
    await new Promise((r) => backend.close(r));
  });

  const page = async (path: string) => {
    const res = await fetch(`${varnish.url}${path}`);
    return { body: await res.text(), cache: res.headers.get('x-cache') };
  };

  it('after a price change, the page through Varnish shows the new price once the tag is purged', async () => {
    expect(await page('/products/42')).toEqual({ body: '<p>/products/42 costs 10</p>', cache: 'MISS' });
    expect(await page('/products/42')).toEqual({ body: '<p>/products/42 costs 10</p>', cache: 'HIT' });
    price = 12;
    expect((await page('/products/42')).body).toContain('costs 10'); // still cached
    const counts: string[] = [];
    const sink = new PurgeSink([new VarnishXkeyAdapter(varnish.url)], { deadlineMs: 5_000 }, (_t, o) => counts.push(o));
    const result = await sink.purge([{ tags: ['product:42:pages'], urls: [] }]);
    expect(result.failed).toEqual([]);
    expect(counts).toEqual(['purged']);
    expect(await page('/products/42')).toEqual({ body: '<p>/products/42 costs 12</p>', cache: 'MISS' });
  });

  it('purges single URLs too', async () => {
    price = 13;
    await page('/products/42?v=1');
    const before = backendHits;
    // The pages live under the cache's own address (127.0.0.1): a purge URL may name it only when
    // the operator allow-lists it (PURGE_ALLOWED_HOSTS), like any internal host.
    const sink = new PurgeSink([new VarnishXkeyAdapter(varnish.url)], {
      allowedHosts: parseHostAllowList('127.0.0.1', 'PURGE_ALLOWED_HOSTS'),
    });
    expect((await sink.purge([{ tags: [], urls: [`http://shop.local/products/42?v=1`] }])).failed).toEqual([]);
    // The URL purge targets the host named in the URL: a different Host than the page was cached under is a no-op...
    await page('/products/42?v=1');
    expect(backendHits).toBe(before);
    // ...and with the cache's own host it is purged.
    expect((await sink.purge([{ tags: [], urls: [`${varnish.url}/products/42?v=1`] }])).failed).toEqual([]);
    expect((await page('/products/42?v=1')).cache).toBe('MISS');
  });

  it('the VCL refuses an xkey purge that is not a list of whole keys (empty, comma, tab) and a malformed x-purge-host', async () => {
    await page('/products/42?v=2');
    expect((await page('/products/42?v=2')).cache).toBe('HIT');
    const purge = async (headers: Record<string, string>, path = '/') =>
      (await fetch(`${varnish.url}${path}`, { method: 'PURGE', headers })).status;
    expect(await purge({ 'xkey-purge': '' })).toBe(400);
    expect(await purge({ 'xkey-purge': 'nothing,product:42' })).toBe(400);
    expect(await purge({ 'xkey-softpurge': 'nothing\tproduct:42' })).toBe(400);
    expect(await purge({ 'xkey-purge': 'nothing  product:42' })).toBe(400);
    expect(await purge({ 'x-purge-host': '..' }, '/products/42?v=2')).toBe(400);
    expect((await page('/products/42?v=2')).cache).toBe('HIT'); // none of them purged anything
    expect(await purge({ 'xkey-purge': 'nothing product:42' })).toBe(200);
    expect((await page('/products/42?v=2')).cache).toBe('MISS');
  });

  it('with the cache down, the items come back within the deadline (to be dead-lettered PURGE_FAILED)', async () => {
    const sink = new PurgeSink([new VarnishXkeyAdapter('http://127.0.0.1:9')], { deadlineMs: 500, backoffMs: 50, timeoutMs: 200 });
    const started = Date.now();
    const result = await sink.purge([{ tags: ['product:42'], urls: [] }]);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(result.failed).toHaveLength(1);
  });
});
