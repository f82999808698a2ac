// What callers pass. GetOrLoadOptions and LoadResult are the storefront's contract: keep their shape.
import type { CacheProtocolOptions } from '@app/cache-protocol';
import type { Logger } from '@app/telemetry';
import type { Registry } from 'prom-client';
import type Redis from 'ioredis';
import type { Cluster } from 'ioredis';
import type { L1Options } from './l1';

export interface BusOptions {
  /** Stream key of the invalidation bus. Default `~bus{cache}` (the invalidator's BUS_STREAM_KEY default). */
  streamKey?: string;
  /** The connection the blocking XREAD uses (this client closes it). Default: a duplicate of the client's connection. */
  connection?: Redis | Cluster;
  /** XREAD BLOCK ms. Default 1000. */
  blockMs?: number;
  /** Announce this client's own fills so other instances drop older L1 copies. Default true. */
  announceFills?: boolean;
  /** Id of this instance in bus messages. Default random. */
  source?: string;
  /**
   * A publisher (invalidator instance) heard on the bus and then silent this long is forgotten,
   * and L1 is dropped once. Until then L1 entries are served only within l1.maxStalenessMs of
   * their own Redis read. Default 30000. See docs/clients.md "What bounds L1 staleness".
   */
  forgetSilentPublisherMs?: number;
  /**
   * The invalidators' Ed25519 public key (PEM, or base64 SPKI DER; the invalidator's
   * BUS_SIGNING_KEY is the private half). Set: heartbeats and byes without a valid signature are
   * ignored, so a process that can XADD to the bus cannot extend what the bus vouches for. Unset:
   * every heartbeat and bye is trusted. See docs/clients.md "What bounds L1 staleness".
   */
  verifyKey?: string;
}

export interface EarlyRefreshOptions {
  /**
   * XFetch's beta: a fresh value is refreshed ahead of expiry with probability rising as expiry
   * nears, scaled by how long its load took (stored with the value). 1 = the paper's
   * default; > 1 refreshes earlier. Must be > 0.
   */
  beta: number;
}

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
  /** Metric label for this key's family. Default derived from the key (keyFamily: product:42 -> product). */
  family?: string;
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
  /** In-process L1 in front of Redis (opt-in). See docs/clients.md, "L1 and the bus: what bounds staleness". */
  l1?: L1Options;
  /** Invalidation bus: L1 entries named by the invalidator (and other instances) are dropped. Only with l1. */
  bus?: BusOptions;
  /** Early refresh (XFetch) of hot keys through the refresh lease. Default off. */
  earlyRefresh?: EarlyRefreshOptions;
  /** Distinct key families reported in metrics; later ones are "other". Default 64. */
  maxFamilies?: number;
  /** This process's clock (ms), for L1 times. Default Date.now; tests inject a skewed one. */
  now?: () => number;
  /** close() also closes the Redis connection (set by CacheClientModule when it created the connection). Default false. */
  closeRedisOnClose?: boolean;
}
