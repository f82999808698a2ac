// HTTP caching of the storefront's pages, for a CDN or Varnish in front of it:
//   - surrogate keys: `xkey` (Varnish vmod xkey) and `Surrogate-Key` (Fastly; the same list) name
//     the tags a purge by surrogate key drops (a product page: `product:{id}`; a listing: its own
//     tag and every listed product's, capped). The invalidator's purge sink sends a mapping's
//     rendered tags, so `tags: ["product:{entityId}"]` with `purge: { tags: true }` purges the page.
//   - `Cache-Control: public, max-age=<browsers>, s-maxage=<shared caches>, stale-while-revalidate=<s>`:
//     shared caches keep a page long (purges end it early), browsers briefly.
//   - an ETag from the cached version (`W/"v7"` for a product; listings carry no version: a hash of
//     the body), and 304 for a matching `If-None-Match`.
//   - `X-Storefront-Cache: hit|miss`: did this request's read come from the cache (Redis) or did it
//     run the loader (the catalog)? Not `X-Cache`: Varnish's VCL sets that one (its own hit/miss).
import { createHash } from 'node:crypto';

export const STOREFRONT_CACHE_HEADER = 'x-storefront-cache';
/** Listings name at most this many product tags (headers stay small; a bigger listing lives out its s-maxage). */
export const MAX_SURROGATE_KEYS = 64;

export interface HttpCachePolicy {
  maxAgeSeconds: number;
  sharedMaxAgeSeconds: number;
  staleWhileRevalidateSeconds: number;
}

export function cacheControl(policy: HttpCachePolicy): string {
  return `public, max-age=${policy.maxAgeSeconds}, s-maxage=${policy.sharedMaxAgeSeconds}, stale-while-revalidate=${policy.staleWhileRevalidateSeconds}`;
}

/** A versioned entity's ETag: `W/"v<version>"` (weak: the representation may vary in encoding). */
export function versionEtag(version: number): string {
  return `W/"v${version}"`;
}

/** An unversioned (aggregate) body's ETag: a hash of what is sent. */
export function bodyEtag(body: string): string {
  return `W/"h${createHash('sha1').update(body).digest('base64url').slice(0, 22)}"`;
}

/** RFC 9110 13.1.2: weak comparison, a list of tags or `*`. */
export function ifNoneMatchMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  const opaque = (t: string) => t.trim().replace(/^W\//, '');
  const wanted = opaque(etag);
  return header.split(',').some((t) => opaque(t) === wanted);
}

/** Space-separated, de-duplicated, capped (xkey and Surrogate-Key use the same syntax). */
export function surrogateKeys(keys: readonly string[]): string {
  return [...new Set(keys)].slice(0, MAX_SURROGATE_KEYS).join(' ');
}

export interface CachedPage {
  body: unknown;
  /** The cached version (products); undefined = aggregate, ETag from the body. */
  version?: number;
  surrogateKeys: string[];
  cache: 'hit' | 'miss';
}

export interface PageHeaders {
  status: 200 | 304;
  headers: Record<string, string>;
  /** The JSON to send with a 200 (undefined for a 304). */
  json?: string;
}

/** Status, headers and body for a page given the request's If-None-Match. */
export function pageResponse(page: CachedPage, policy: HttpCachePolicy, ifNoneMatch: string | undefined): PageHeaders {
  const json = JSON.stringify(page.body);
  const etag = page.version !== undefined ? versionEtag(page.version) : bodyEtag(json);
  const keys = surrogateKeys(page.surrogateKeys);
  const headers: Record<string, string> = {
    etag,
    'cache-control': cacheControl(policy),
    xkey: keys,
    'surrogate-key': keys,
    [STOREFRONT_CACHE_HEADER]: page.cache,
  };
  if (ifNoneMatchMatches(ifNoneMatch, etag)) return { status: 304, headers };
  return { status: 200, headers: { ...headers, 'content-type': 'application/json; charset=utf-8' }, json };
}
