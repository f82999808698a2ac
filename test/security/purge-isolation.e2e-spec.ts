// One team's failing purge target must not fail (or hold) another team's purges: failures are
// attributed per item (its own URLs and tag groups), a 4xx is permanent (tried once, not
// retried), a 5xx is retried within that team's own budget while the other teams' items, purged
// at the first attempt, are not sent again and do not come back in `failed` (to be dead-lettered
// PURGE_FAILED). Local servers stand in for the Fastly and Cloudflare APIs.
import { CloudflareAdapter, FastlyAdapter, PurgeSink } from '../../apps/invalidator/src/sinks/purge';
import { answerJson, RecordingServer, startRecordingServer } from '../support/recording-http-server';

const teamA = [
  { team: 'a', tags: ['a:product:1'], urls: ['https://a.example/products/1'] },
  { team: 'a', tags: ['a:product:2'], urls: [] },
];

function outcomes(): { list: string[]; record: (target: string, outcome: string, n: number) => void } {
  const list: string[] = [];
  return { list, record: (_t, o, n) => list.push(`${o}:${n}`) };
}

const requestsFor = (server: RecordingServer, path: string) => server.seen.filter((r) => r.path === path).length;

describe('purge isolation between teams', () => {
  let server: RecordingServer;

  afterEach(async () => {
    await server?.close();
  });

  it("a URL answering 404 fails only its team's item, tried exactly once; the other team's items are purged", async () => {
    server = await startRecordingServer('127.0.0.5', (req, res) =>
      req.path.startsWith('/purge/b.example/')
        ? answerJson(404, { msg: 'unknown host' })(req, res)
        : answerJson(200, { status: 'ok' })(req, res),
    );
    const b = { team: 'b', tags: ['b:product:9'], urls: ['https://b.example/gone'] };
    const seen = outcomes();
    const result = await new PurgeSink(
      [new FastlyAdapter('SVC1', 'tok', server.url)],
      { deadlineMs: 5_000, backoffMs: 20 },
      seen.record,
    ).purge([...teamA, b]);

    expect(result.failed).toEqual([{ item: b, error: expect.stringContaining('404') }]);
    expect(requestsFor(server, '/purge/b.example/gone')).toBe(1);
    expect(requestsFor(server, '/purge/a.example/products/1')).toBe(1);
    const keysSent = server.seen.flatMap((r) => String(r.headers['surrogate-key'] ?? '').split(' ')).filter(Boolean);
    expect(keysSent).toEqual(expect.arrayContaining(['a:product:1', 'a:product:2']));
    expect(seen.list).not.toContain('retried:1'); // a 4xx is permanent
  });

  it('a tag group refused with 4xx fails only the item whose tag it is', async () => {
    server = await startRecordingServer('127.0.0.5', (req, res) =>
      String(req.headers['surrogate-key'] ?? '').includes('b:forbidden')
        ? answerJson(403, { msg: 'no' })(req, res)
        : answerJson(200, { status: 'ok' })(req, res),
    );
    const b = { team: 'b', tags: ['b:forbidden'], urls: [] };
    const result = await new PurgeSink([new FastlyAdapter('SVC1', 'tok', server.url)], { deadlineMs: 5_000, backoffMs: 20 }).purge([
      ...teamA,
      b,
    ]);

    expect(result.failed).toEqual([{ item: b, error: expect.stringContaining('403') }]);
    const accepted = server.seen.filter((r) => !String(r.headers['surrogate-key'] ?? '').includes('b:forbidden'));
    expect(accepted.flatMap((r) => String(r.headers['surrogate-key'] ?? '').split(' '))).toEqual(
      expect.arrayContaining(['a:product:1', 'a:product:2']),
    );
  });

  it("a URL answering 503 until the deadline is retried for its team only; the other team's items are sent once and not failed", async () => {
    server = await startRecordingServer('127.0.0.5', (req, res) =>
      req.path.startsWith('/purge/b.example/') ? answerJson(503, { msg: 'busy' })(req, res) : answerJson(200, { status: 'ok' })(req, res),
    );
    const b = { team: 'b', tags: [], urls: ['https://b.example/slow'] };
    const result = await new PurgeSink([new FastlyAdapter('SVC1', 'tok', server.url)], {
      deadlineMs: 1_500,
      backoffMs: 20,
      timeoutMs: 500,
    }).purge([...teamA, b]);

    expect(result.failed).toEqual([{ item: b, error: expect.stringContaining('503') }]);
    expect(requestsFor(server, '/purge/b.example/slow')).toBeGreaterThan(1); // transient: retried
    expect(requestsFor(server, '/purge/a.example/products/1')).toBe(1); // purged at once, never held or re-sent
  });

  it('a team whose target fails until the deadline chunk after chunk stops holding the others: its circuit opens, its items fail without a request', async () => {
    server = await startRecordingServer('127.0.0.5', (req, res) =>
      req.path.startsWith('/purge/b.example/') ? answerJson(503, { msg: 'busy' })(req, res) : answerJson(200, { status: 'ok' })(req, res),
    );
    const b = { team: 'b', tags: [], urls: ['https://b.example/slow'] };
    const sink = new PurgeSink([new FastlyAdapter('SVC1', 'tok', server.url)], {
      deadlineMs: 600,
      backoffMs: 20,
      timeoutMs: 300,
      breakerFailures: 1,
      breakerOpenMs: 60_000,
    });

    expect((await sink.purge([...teamA, b])).failed).toEqual([{ item: b, error: expect.stringContaining('503') }]);
    const triedForB = requestsFor(server, '/purge/b.example/slow');
    const second = await sink.purge([...teamA, b]);
    expect(second.failed).toEqual([{ item: b, error: expect.stringContaining('circuit open') }]);
    expect(requestsFor(server, '/purge/b.example/slow')).toBe(triedForB); // nothing sent for b: nothing to wait for
    expect(requestsFor(server, '/purge/a.example/products/1')).toBe(2); // a purged in both chunks
  });

  it('without a team, the URL host stands for it', async () => {
    server = await startRecordingServer('127.0.0.5', (req, res) =>
      req.path.startsWith('/purge/b.example/') ? answerJson(404, {})(req, res) : answerJson(200, { status: 'ok' })(req, res),
    );
    const a = { tags: [], urls: ['https://a.example/products/3'] };
    const b = { tags: [], urls: ['https://b.example/gone'] };
    const result = await new PurgeSink([new FastlyAdapter('SVC1', 'tok', server.url)], { deadlineMs: 5_000, backoffMs: 20 }).purge([a, b]);
    expect(result.failed.map((f) => f.item)).toEqual([b]);
    expect(requestsFor(server, '/purge/b.example/gone')).toBe(1);
  });

  it('Cloudflare: a batch of files refused because of one team falls back to per-item requests', async () => {
    server = await startRecordingServer('127.0.0.6', (req, res) =>
      req.body.includes('b.example')
        ? answerJson(400, { success: false, errors: [{ message: 'not in zone' }] })(req, res)
        : answerJson(200, { success: true })(req, res),
    );
    const b = { team: 'b', tags: [], urls: ['https://b.example/elsewhere'] };
    const result = await new PurgeSink([new CloudflareAdapter('Z1', 'tok', server.url)], { deadlineMs: 5_000, backoffMs: 20 }).purge([
      ...teamA,
      b,
    ]);

    expect(result.failed).toEqual([{ item: b, error: expect.stringContaining('400') }]);
    const purgedFiles = server.seen
      .filter((r) => !r.body.includes('b.example'))
      .flatMap((r) => (JSON.parse(r.body) as { files?: string[] }).files ?? []);
    expect(purgedFiles).toContain('https://a.example/products/1');
  });
});
