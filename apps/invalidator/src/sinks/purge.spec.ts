// The purge sink's pure parts: request paths built from encoded segments and checked for shape,
// tag rules, item refusal (checkTargetUrl with PURGE_ALLOWED_HOSTS), and failure attribution
// (per item, per team lane, 4xx permanent) with in-memory adapters.
import { parseHostAllowList } from '@app/registry-core/url/target-url';
import { FastlyAdapter, purgeAdapters, purgeItemProblem, PurgeSink, teamOf } from './purge';
import { encodePath, encodeSegment, pathSegments, PurgeAdapter, PurgeError, PurgePart, requestUrl, tagProblem } from './purge-request';

describe('purge request paths', () => {
  it('encodes each segment: existing escapes kept, anything outside pchar encoded, never a "/"', () => {
    expect(encodeSegment('shop.example:8080')).toBe('shop.example:8080');
    expect(encodeSegment('a%20b')).toBe('a%20b');
    expect(encodeSegment('a/b?c#d')).toBe('a%2Fb%3Fc%23d');
    expect(encodeSegment('%zz')).toBe('%25zz');
    expect(encodeSegment('[::1]')).toBe('%5B::1%5D');
    expect(encodePath(['purge', 'shop.example', 'p', '1'])).toBe('/purge/shop.example/p/1');
  });

  it('refuses dot segments, plain or percent-encoded', () => {
    for (const s of ['.', '..', '%2e', '%2E%2e', '.%2e']) expect(() => encodeSegment(s)).toThrow(/climb out/);
    expect(encodeSegment('...')).toBe('...');
    expect(() => encodeSegment('\ud800')).toThrow(/refused/);
  });

  it('keeps the WHATWG path segments of a purge URL (dot segments already resolved)', () => {
    expect(pathSegments(new URL('https://shop.example/a/../b/ü x'))).toEqual(['b', '%C3%BC%20x']);
    expect(pathSegments(new URL('https://shop.example/'))).toEqual(['']);
  });

  it('requestUrl: the parsed request must be the built path on the base origin, in the expected shape', () => {
    const base = new URL('https://api.example/v4');
    expect(requestUrl(base, '/zones/Z/purge_cache', /^\/zones\/[^/]+\/purge_cache$/).href).toBe(
      'https://api.example/v4/zones/Z/purge_cache',
    );
    expect(() => requestUrl(base, '/purge/../service/S/purge_all', /^\/purge\/.+$/)).toThrow(/refused/);
    expect(() => requestUrl(base, '/service/S/purge_all', /^\/service\/[^/]+\/purge$/)).toThrow(/refused/);
    expect(requestUrl(base, '/purge/h/p', /^\/purge\/.+$/, '?x=1').href).toBe('https://api.example/v4/purge/h/p?x=1');
  });
});

describe('purge tags and items', () => {
  it('one tag is one key: no space, comma, control or non-ASCII character, not empty, not "*"', () => {
    expect(tagProblem('product:1')).toBeUndefined();
    expect(tagProblem('tenant:acme:products')).toBeUndefined();
    for (const bad of ['', ' ', 'a b', 'a,b', 'a\tb', 'a\nb', 'ü', '*', 'x'.repeat(1025)]) expect(tagProblem(bad)).toBeDefined();
  });

  it('refuses an item with any bad tag or URL; PURGE_ALLOWED_HOSTS lets named internal hosts through', () => {
    expect(purgeItemProblem({ tags: ['a'], urls: ['https://shop.example/x'] })).toBeUndefined();
    expect(purgeItemProblem({ tags: ['a b'], urls: [] })).toMatch(/several keys/);
    expect(purgeItemProblem({ tags: [], urls: ['http://../service/S/purge_all'] })).toMatch(/empty or only dots/);
    expect(purgeItemProblem({ tags: [], urls: ['http://10.1.2.3/x'] })).toMatch(/private/);
    expect(
      purgeItemProblem({ tags: [], urls: ['http://10.1.2.3/x'] }, parseHostAllowList('10.1.2.3', 'PURGE_ALLOWED_HOSTS')),
    ).toBeUndefined();
    expect(purgeItemProblem({ tags: [], urls: ['http://user:pw@shop.example/x'] })).toMatch(/userinfo/);
  });

  it("an item's lane is its team, else its first URL's host", () => {
    expect(teamOf({ team: 'a', tags: [], urls: ['https://b.example/'] })).toBe('team:a');
    expect(teamOf({ tags: [], urls: ['https://B.example/x'] })).toBe('host:b.example');
    expect(teamOf({ tags: ['t'], urls: [] })).toBe('none');
  });

  it('PURGE_TARGETS: service and zone ids are plain ids (they go into the request path)', () => {
    expect(() => purgeAdapters({ targets: 'fastly:../x', fastlyToken: 't' })).toThrow(/service id/);
    expect(() => purgeAdapters({ targets: 'cloudflare:a/b@https://cf.local', cloudflareToken: 't' })).toThrow(/zone id/);
    expect(purgeAdapters({ targets: 'fastly:SVC_1-a', fastlyToken: 't' })[0].name).toBe('fastly:SVC_1-a');
  });

  it('the Fastly adapter refuses a dot-only host and a bad tag before calling fetch', async () => {
    const calls: string[] = [];
    const fetchFn = (async (url: URL) => {
      calls.push(String(url));
      return new Response('{}');
    }) as unknown as typeof fetch;
    const fastly = new FastlyAdapter('S', 'tok', 'https://api.fastly.test', true, fetchFn);
    await expect(fastly.send({ urls: ['http://../service/S/purge_all'] }, AbortSignal.timeout(1_000))).rejects.toThrow(/refused/);
    await expect(fastly.send({ tags: [''] }, AbortSignal.timeout(1_000))).rejects.toThrow(/refused/);
    await expect(fastly.send({ tags: [] }, AbortSignal.timeout(1_000))).rejects.toThrow(/refused/);
    await fastly.send({ urls: ['https://shop.example/a b/%zz'] }, AbortSignal.timeout(1_000));
    expect(calls).toEqual(['https://api.fastly.test/purge/shop.example/a%20b/%25zz']);
  });
});

/** An in-memory target: answers per part through `answer` (throw to fail), records what it got. */
function target(answer: (part: PurgePart) => void, maxTags = 64, maxUrls = 1): PurgeAdapter & { sent: PurgePart[] } {
  const sent: PurgePart[] = [];
  return {
    name: 'mem',
    maxTagsPerRequest: maxTags,
    maxUrlsPerRequest: maxUrls,
    sent,
    send: async (part) => {
      sent.push(part);
      answer(part);
    },
  };
}

const has = (part: PurgePart, value: string) => (part.tags ?? part.urls).includes(value);

describe('PurgeSink failure attribution', () => {
  it("a merged request refused with a 4xx is split until only the failing item fails; that item's part is not retried", async () => {
    const mem = target((part) => {
      if (has(part, 'a:bad')) throw new PurgeError('HTTP 400', true);
    });
    const items = [
      { team: 'a', tags: ['a:1'], urls: [] },
      { team: 'a', tags: ['a:2'], urls: [] },
      { team: 'a', tags: ['a:bad'], urls: [] },
      { team: 'a', tags: ['a:3'], urls: [] },
    ];
    const outcomes: string[] = [];
    const result = await new PurgeSink([mem], { deadlineMs: 5_000, backoffMs: 1 }, (_t, o, n) => outcomes.push(`${o}:${n}`)).purge(items);
    expect(result.failed).toEqual([{ item: items[2], error: 'mem: HTTP 400' }]);
    expect(mem.sent.filter((p) => p.tags?.length === 1 && p.tags[0] === 'a:bad')).toHaveLength(1);
    // Every other tag reached the target in a request that succeeded.
    const ok = mem.sent.filter((p) => !has(p, 'a:bad')).flatMap((p) => p.tags ?? []);
    expect(ok).toEqual(expect.arrayContaining(['a:1', 'a:2', 'a:3']));
    expect(outcomes).toEqual(expect.arrayContaining(['purged:3', 'failed:1']));
    expect(result.attempts).toBe(mem.sent.length);
  });

  it('retries transient failures (5xx, network) with backoff until they pass', async () => {
    let failures = 2;
    const mem = target(() => {
      if (failures-- > 0) throw new Error('fetch failed');
    });
    const result = await new PurgeSink([mem], { deadlineMs: 5_000, backoffMs: 1 }).purge([{ team: 'a', tags: ['a:1'], urls: [] }]);
    expect(result).toEqual({ failed: [], attempts: 3 });
  });

  it("each team is its own lane: a team's failure never fails or re-sends another team's item", async () => {
    const mem = target((part) => {
      if (has(part, 'https://b.example/x')) throw new PurgeError('HTTP 503', false);
    });
    const a = { team: 'a', tags: ['a:1'], urls: ['https://a.example/x'] };
    const b = { team: 'b', tags: ['b:1'], urls: ['https://b.example/x'] };
    const result = await new PurgeSink([mem], { deadlineMs: 200, backoffMs: 10 }).purge([a, b]);
    expect(result.failed).toEqual([{ item: b, error: 'mem: HTTP 503' }]);
    expect(mem.sent.filter((p) => has(p, 'a:1') || has(p, 'https://a.example/x'))).toHaveLength(2);
    expect(mem.sent.some((p) => has(p, 'a:1') && has(p, 'b:1'))).toBe(false);
  });

  it('a refused item is reported without any request; items without tags or URLs are ignored', async () => {
    const mem = target(() => undefined);
    const bad = { team: 'x', tags: ['ok'], urls: ['http://169.254.169.254/'] };
    const outcomes: string[] = [];
    const result = await new PurgeSink([mem], {}, (_t, o, n) => outcomes.push(`${o}:${n}`)).purge([bad, { tags: [], urls: [] }]);
    expect(result.failed).toEqual([{ item: bad, error: expect.stringMatching(/^refused: .*metadata/) }]);
    expect(mem.sent).toEqual([]);
    expect(outcomes).toEqual(['refused:1']);
  });
});
