// What callers pass. GetOrLoadOptions and LoadResult are the storefront's contract: keep their shape.
import type { CacheProtocolOptions } from '@app/cache-protocol';
import type { Logger } from '@app/telemetry';
import type { Registry } from 'prom-client';

/** What a loader returns: the value and the version of the data it was built from. */
export interface LoadResult<T> {
  value: T;
  /** Entity version; 0 = aggregate/unversioned (guarded by the lease alone). */
  version: number;
}

export interface GetOrLoadOptions {
  /** How long a value stays fresh (jittered down by up to jitterRatio). */
  ttlMs: number;
  /** Tags the value joins at fill time (invalidateTags drops it with them). */
  tags?: string[];
  /** After ttlMs, serve the value stale this long while one reader refreshes it. Default 0. */
  staleWhileRevalidateMs?: number;
  /** How long to wait for another process's loader before loading without the cache. Default 1000. */
  waitMs?: number;
  /** The loader fails with LOADER_TIMEOUT after this long. Default 5000. */
  loaderTimeoutMs?: number;
  /** TTLs are shortened by a random 0..jitterRatio share, so keys filled together do not expire together. Default 0.1. */
  jitterRatio?: number;
}

export interface CacheClientOptions {
  /** Metric label `cache`, to tell several clients apart. Default "default". */
  name?: string;
  /** Value -> stored string. Default JSON.stringify. */
  serialize?: (value: unknown) => string;
  /** Stored string -> value. Default JSON.parse. */
  deserialize?: (payload: string) => unknown;
  /** Key prefixes that are namespaces: CacheProtocol.bumpNamespace(prefix) drops everything under one. Default none. */
  namespaces?: string[];
  /** Longest a Redis call may take before this read treats the cache as unavailable. Default 250. */
  redisTimeoutMs?: number;
  /** How much longer than loaderTimeoutMs a lease lives (covers the fill after a slow load). Default 1000. */
  leaseMarginMs?: number;
  /** First and longest pause between polls while another process loads. Defaults 5 and 50. */
  pollMinMs?: number;
  pollMaxMs?: number;
  /** Concurrent getOrLoad calls of one key in this process share one read. Default true. */
  coalesce?: boolean;
  /** Defaults for getOrLoad options a call leaves out. */
  defaults?: Partial<Omit<GetOrLoadOptions, 'ttlMs' | 'tags'>>;
  /** Options of the underlying CacheProtocol (maxValueBytes, maxKeyBytes, ...). */
  protocol?: CacheProtocolOptions;
  /** Where the counters go. Default the shared registry of @app/telemetry. */
  registry?: Registry;
  logger?: Logger;
  /** close() also closes the Redis connection (set by CacheClientModule when it created the connection). Default false. */
  closeRedisOnClose?: boolean;
}
