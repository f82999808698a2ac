// What a purge adapter may send, and the checks every adapter makes before it sends anything.
// Tags and URLs come from teams' mappings (hostile input): an adapter builds its request path
// from percent-encoded segments (never by pasting a host or path that could hold `..` or `/`),
// checks the parsed request URL is exactly the shape it meant (so no input can turn a URL purge
// into a purge-all), and refuses tags that a cache would read as several keys or as none.

/** One event's (or mapping's) purge: what the pipeline hands the sink. */
export interface PurgeRequest {
  tags: string[];
  urls: string[];
  /** The team owning the mapping: its failures and retries are its own (falls back to the first URL's host). */
  team?: string;
}

/** What one request carries: tags or URLs, never both, never none. */
export type PurgePart = { tags: string[]; urls?: undefined } | { urls: string[]; tags?: undefined };

/** A purge that did not go through; `permanent` ones (refused, HTTP 4xx) are not retried. */
export class PurgeError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
  }
}

/** Thrown before anything is sent: the part is not one the adapter may send. */
export const refused = (what: string) => new PurgeError(`refused: ${what}`, true);

/** Longest tag sent (Fastly's surrogate-key limit; Cloudflare's is lower per tag but counts bytes of the header). */
export const MAX_TAG_LENGTH = 1024;

/**
 * Why a tag may not be sent (undefined: fine). One key per tag: printable ASCII without space or
 * comma (xkey splits its header on both, Fastly on spaces, Cloudflare's Cache-Tag on commas),
 * non-empty, not `*`.
 */
export function tagProblem(tag: unknown): string | undefined {
  if (typeof tag !== 'string' || tag.length === 0) return 'an empty tag would purge nothing or everything';
  if (tag.length > MAX_TAG_LENGTH) return `tag "${tag.slice(0, 40)}..." is longer than ${MAX_TAG_LENGTH} characters`;
  if (!/^[\x21-\x2b\x2d-\x7e]+$/.test(tag))
    return `tag ${JSON.stringify(tag)} has a space, comma, control or non-ASCII character (a cache would read it as several keys)`;
  if (tag === '*') return 'tag "*" is not a key';
  return undefined;
}

/** Host (with port) as an adapter may name it: DNS labels or an IP literal; never empty, dot-only or with an empty label. */
const HOST_RE = /^(?:[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*|\[[0-9a-f:.]+\])(?::[0-9]{1,5})?$/;

/** A purge URL parsed and checked for shape (not for whose host it is: the sink does that with checkTargetUrl). */
export function parsePurgeUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refused(`"${raw}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw refused(`"${raw}": scheme ${url.protocol} is not http or https`);
  if (url.username !== '' || url.password !== '') throw refused(`"${raw}": a purge URL must not carry userinfo`);
  if (!HOST_RE.test(url.host)) throw refused(`"${raw}": host "${url.host}" is not a host name or IP address`);
  return url;
}

/** A path segment is a dot segment when it is `.` or `..`, written plainly or percent-encoded. */
const DOT_SEGMENT = /^(?:\.|%2e){1,2}$/i;

/**
 * One path segment, percent-encoded: existing escapes stay, every character outside RFC 3986's
 * pchar is encoded (so the result never holds `/`, `?` or `#`). Refuses dot segments.
 */
export function encodeSegment(segment: string): string {
  if (DOT_SEGMENT.test(segment)) throw refused(`path segment "${segment}" would climb out of the purge path`);
  try {
    return segment.replace(/%(?![0-9a-fA-F]{2})|[^A-Za-z0-9\-._~!$&'()*+,;=:@%]/g, (c) => encodeURIComponent(c));
  } catch {
    throw refused(`path segment ${JSON.stringify(segment)} cannot be percent-encoded`); // a lone surrogate
  }
}

/** `/a/b` from segments, each encoded. */
export function encodePath(segments: readonly string[]): string {
  return segments.map((s) => `/${encodeSegment(s)}`).join('');
}

/** The segments of a parsed URL's path (WHATWG has already resolved dot segments; empty ones are kept). */
export function pathSegments(url: URL): string[] {
  return url.pathname.slice(1).split('/');
}

/**
 * Joins an operator-configured base URL and a built path, then checks the parsed result is that
 * path on that origin and matches `shape`: the last guard against any input reshaping the request.
 */
export function requestUrl(base: URL, path: string, shape: RegExp, search = ''): URL {
  const basePath = base.pathname.replace(/\/+$/, '');
  const target = new URL(`${base.origin}${basePath}${path}${search}`);
  const local = target.pathname.slice(basePath.length);
  if (target.origin !== base.origin || !target.pathname.startsWith(basePath) || local !== path || !shape.test(local)) {
    throw refused(`request path "${target.pathname}" is not the expected shape ${shape}`);
  }
  return target;
}

/** Throws PurgeError for a non-2xx answer: 4xx (but 408 and 429) is permanent, the rest is retried. */
export async function expectOk(response: Response, what: string): Promise<void> {
  const text = await response.text().catch(() => '');
  if (response.status >= 200 && response.status < 300) return;
  throw new PurgeError(`${what}: HTTP ${response.status} ${text.slice(0, 200)}`, isPermanentStatus(response.status));
}

export function isPermanentStatus(status: number): boolean {
  return status >= 400 && status < 500 && status !== 408 && status !== 429;
}

/** Checks a part before an adapter builds anything from it. */
export function checkPart(part: PurgePart, maxTags: number, maxUrls: number): { tags?: string[]; urls?: URL[] } {
  if (part.tags !== undefined) {
    if (part.tags.length === 0 || part.tags.length > maxTags)
      throw refused(`a tag purge carries 1 to ${maxTags} tags, not ${part.tags.length}`);
    for (const tag of part.tags) {
      const problem = tagProblem(tag);
      if (problem) throw refused(problem);
    }
    return { tags: part.tags };
  }
  if (part.urls.length === 0 || part.urls.length > maxUrls)
    throw refused(`a URL purge carries 1 to ${maxUrls} URLs, not ${part.urls.length}`);
  return { urls: part.urls.map(parsePurgeUrl) };
}

export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export type Fetch = typeof fetch;

/**
 * A CDN or HTTP cache: sends one request per part. Throws PurgeError (permanent when refused or
 * answered 4xx); any other error (network, timeout) counts as transient.
 */
export interface PurgeAdapter {
  readonly name: string;
  /** How many tags, and how many URLs, one request may carry. */
  readonly maxTagsPerRequest: number;
  readonly maxUrlsPerRequest: number;
  send(part: PurgePart, signal: AbortSignal): Promise<void>;
}

/** Every part of a request, one after the other (no retries: tools and tests; the sink plans its own). */
export async function purgeAll(adapter: PurgeAdapter, request: Pick<PurgeRequest, 'tags' | 'urls'>, signal: AbortSignal): Promise<void> {
  for (const tags of chunks(request.tags, adapter.maxTagsPerRequest)) await adapter.send({ tags }, signal);
  for (const urls of chunks(request.urls, adapter.maxUrlsPerRequest)) await adapter.send({ urls }, signal);
}
