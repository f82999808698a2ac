// The read side's counters, on the shared registry (@app/telemetry) unless told otherwise.
// Created once per registry: many clients in one process share them, told apart by `cache`.
import { Counter, Registry } from 'prom-client';

export interface CacheClientMetrics {
  hits: Counter<'cache'>;
  misses: Counter<'cache'>;
  staleServed: Counter<'cache'>;
  fills: Counter<'cache'>;
  fillsRejected: Counter<'cache' | 'reason'>;
  redisUnavailable: Counter<'cache'>;
  loaderCalls: Counter<'cache'>;
  loaderErrors: Counter<'cache' | 'reason'>;
  waitTimeouts: Counter<'cache'>;
}

function counter<L extends string>(registry: Registry, name: string, help: string, labelNames: L[]): Counter<L> {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter<L>;
  return new Counter({ name, help, labelNames, registers: [registry] });
}

/** The counters of one client, label already bound (no label hashing per read). */
export interface BoundCacheClientMetrics {
  hits: { inc(): void };
  misses: { inc(): void };
  staleServed: { inc(): void };
  fills: { inc(): void };
  redisUnavailable: { inc(): void };
  loaderCalls: { inc(): void };
  waitTimeouts: { inc(): void };
  fillRejected(reason: string): void;
  loaderError(reason: string): void;
}

export function bindCacheClientMetrics(metrics: CacheClientMetrics, cache: string): BoundCacheClientMetrics {
  const label = { cache };
  return {
    hits: metrics.hits.labels(label),
    misses: metrics.misses.labels(label),
    staleServed: metrics.staleServed.labels(label),
    fills: metrics.fills.labels(label),
    redisUnavailable: metrics.redisUnavailable.labels(label),
    loaderCalls: metrics.loaderCalls.labels(label),
    waitTimeouts: metrics.waitTimeouts.labels(label),
    fillRejected: (reason) => metrics.fillsRejected.inc({ cache, reason }),
    loaderError: (reason) => metrics.loaderErrors.inc({ cache, reason }),
  };
}

export function cacheClientMetrics(registry: Registry): CacheClientMetrics {
  return {
    hits: counter(registry, 'cache_client_hits_total', 'Reads answered by a fresh cached value', ['cache']),
    misses: counter(registry, 'cache_client_misses_total', 'Reads that took the lease and ran the loader', ['cache']),
    staleServed: counter(registry, 'cache_client_stale_served_total', 'Reads answered by a stale value within its grace window', ['cache']),
    fills: counter(registry, 'cache_client_fills_total', 'Loaded values stored in the cache', ['cache']),
    fillsRejected: counter(registry, 'cache_client_fills_rejected_total', 'Loaded values the protocol refused (reason: lease-lost, older-than-tombstone, older-than-value, tag-invalidated, refused-oom, value-too-large)', ['cache', 'reason']),
    redisUnavailable: counter(registry, 'cache_client_redis_unavailable_total', 'Cache operations skipped because Redis was down, slow or failing; the loader answered', ['cache']),
    loaderCalls: counter(registry, 'cache_client_loader_calls_total', 'Loader invocations', ['cache']),
    loaderErrors: counter(registry, 'cache_client_loader_errors_total', 'Loader failures (reason: timeout, error, invalid-result)', ['cache', 'reason']),
    waitTimeouts: counter(registry, 'cache_client_wait_timeouts_total', 'Reads that waited waitMs for another loader and then loaded themselves', ['cache']),
  };
}
