// A team's purge items must not reach beyond what they name: a URL whose host is `..` (or
// `%2e%2e`) would make a naive adapter call `/service/<id>/purge_all` with the operator's
// token; a URL to an internal host is not the team's to purge; a tag with a space or a comma is
// two keys to Varnish's xkey and to Fastly. Local servers stand in for the Fastly and Cloudflare
// APIs (and for Varnish: the real one is test/sinks/purge-varnish.e2e-spec.ts) and record what
// they get: only the expected request shapes, only the legitimate item, and never the token for a
// refused item. Items are built at the sink level (the template side refuses them earlier).
import { CloudflareAdapter, FastlyAdapter, PurgeSink, VarnishXkeyAdapter } from '../../apps/invalidator/src/sinks/purge';
import { answerJson, RecordingServer, startRecordingServer } from '../support/recording-http-server';

const TOKEN = 'operator-secret-token';

const legit = { team: 'shop', tags: ['shop:product:1'], urls: ['https://shop.example/products/1'] };
const hostile = [
  { team: 'evil', tags: [], urls: ['http://../service/SVC1/purge_all'] },
  { team: 'evil', tags: [], urls: ['http://%2e%2e/service/SVC1/purge_all'] },
  { team: 'evil', tags: ['evil:ok'], urls: ['http://./purge_all'] },
  { team: 'evil', tags: [], urls: ['http://169.254.169.254/latest/meta-data/'] },
  { team: 'evil', tags: [], urls: ['http://10.1.2.3/admin'] },
  { team: 'evil', tags: [], urls: ['http://localhost/x'] },
  { team: 'evil', tags: ['evil:1 shop:product:2'], urls: [] },
  { team: 'evil', tags: ['evil:1,shop:product:3'], urls: [] },
  { team: 'evil', tags: ['evil:1\tshop:product:4'], urls: [] },
  { team: 'evil', tags: [''], urls: [] },
  { team: 'evil', tags: ['*'], urls: [] },
];

/** Every tag and URL the stand-in was asked to purge must be the legitimate item's. */
function expectOnlyLegit(result: { failed: { item: unknown; error: string }[] }): void {
  expect(result.failed.map((f) => f.item)).toEqual(hostile);
  for (const f of result.failed) expect(f.error).toMatch(/refused/);
}

describe('purge adapters: a hostile item cannot purge beyond itself', () => {
  let server: RecordingServer;

  afterEach(async () => {
    await server?.close();
  });

  it('Fastly: never purge_all, only /service/<id>/purge and /purge/<host>/<path>, no token for a refused item', async () => {
    server = await startRecordingServer('127.0.0.2', answerJson(200, { status: 'ok' }));
    const adapter = new FastlyAdapter('SVC1', TOKEN, server.url, true);
    const result = await new PurgeSink([adapter], { deadlineMs: 3_000, backoffMs: 20 }).purge([...hostile, legit]);

    expect(server.seen.filter((r) => r.path.includes('purge_all'))).toEqual([]);
    expect(server.seen.map((r) => `${r.method} ${r.path} ${String(r.headers['surrogate-key'] ?? '')}`).sort()).toEqual([
      'POST /purge/shop.example/products/1 ',
      'POST /service/SVC1/purge shop:product:1',
    ]);
    expect(server.seen.every((r) => r.headers['fastly-key'] === TOKEN)).toBe(true);
    expectOnlyLegit(result);
  });

  it('Fastly adapter on its own (no sink check before it): a dot-only host is refused before any request', async () => {
    server = await startRecordingServer('127.0.0.2', answerJson(200, { status: 'ok' }));
    const adapter = new FastlyAdapter('SVC1', TOKEN, server.url, true);
    for (const url of ['http://../service/SVC1/purge_all', 'http://%2e%2e/service/SVC1/purge_all', 'http://./purge_all']) {
      await expect(adapter.purge({ tags: [], urls: [url] }, AbortSignal.timeout(1_000))).rejects.toThrow();
    }
    await expect(adapter.purge({ tags: ['a b'], urls: [] }, AbortSignal.timeout(1_000))).rejects.toThrow();
    expect(server.seen).toEqual([]);
  });

  it('Cloudflare: never purge_everything, only {"tags"} or {"files"} of the legitimate item', async () => {
    server = await startRecordingServer('127.0.0.3', answerJson(200, { success: true }));
    const adapter = new CloudflareAdapter('ZONE1', TOKEN, server.url);
    const result = await new PurgeSink([adapter], { deadlineMs: 3_000, backoffMs: 20 }).purge([...hostile, legit]);

    expect(server.seen.some((r) => r.body.includes('purge_everything'))).toBe(false);
    expect(server.seen.every((r) => r.method === 'POST' && r.path === '/zones/ZONE1/purge_cache')).toBe(true);
    expect(server.seen.map((r) => JSON.parse(r.body) as unknown)).toEqual(
      expect.arrayContaining([{ tags: ['shop:product:1'] }, { files: ['https://shop.example/products/1'] }]),
    );
    expect(server.seen).toHaveLength(2);
    expectOnlyLegit(result);
  });

  it('Varnish: xkey-purge carries only whole, valid keys; URL purges only the named path with its host', async () => {
    server = await startRecordingServer('127.0.0.4', (_req, res) => res.end('ok'));
    const adapter = new VarnishXkeyAdapter(server.url);
    const result = await new PurgeSink([adapter], { deadlineMs: 3_000, backoffMs: 20 }).purge([...hostile, legit]);

    expect(server.seen.map((r) => [r.method, r.path, r.headers['xkey-purge'], r.headers['x-purge-host']])).toEqual(
      expect.arrayContaining([
        ['PURGE', '/', 'shop:product:1', undefined],
        ['PURGE', '/products/1', undefined, 'shop.example'],
      ]),
    );
    expect(server.seen).toHaveLength(2);
    expectOnlyLegit(result);
  });
});
