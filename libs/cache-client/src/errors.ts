// Errors getOrLoad throws. Never one because the cache is unavailable: those reads are
// answered by the loader and counted (cache_client_redis_unavailable_total).

export type CacheClientErrorCode =
  /** The loader did not settle within loaderTimeoutMs. */
  | 'LOADER_TIMEOUT'
  /** The loader resolved to something other than { value, version } with an integer version >= 0. */
  | 'LOADER_RESULT_INVALID'
  /** getOrLoad or client options out of range (e.g. ttlMs <= 0, jitterRatio outside 0..1). */
  | 'OPTIONS_INVALID';

export class CacheClientError extends Error {
  constructor(
    readonly code: CacheClientErrorCode,
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'CacheClientError';
  }
}
