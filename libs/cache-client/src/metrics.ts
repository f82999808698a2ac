// The read side's counters, on the shared registry (@app/telemetry) unless told otherwise.
// Created once per registry: many clients in one process share them, told apart by `cache`.
import { Counter, Gauge, Registry } from 'prom-client';

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
  familyReads: Counter<'cache' | 'family' | 'result'>;
  familyFills: Counter<'cache' | 'family'>;
  earlyRefreshes: Counter<'cache'>;
  l1Entries: Gauge<'cache'>;
  l1Bytes: Gauge<'cache'>;
  l1Evictions: Counter<'cache'>;
  l1Dropped: Counter<'cache' | 'reason'>;
  busMessages: Counter<'cache' | 'outcome'>;
  busSuspect: Counter<'cache' | 'reason'>;
}

/** Read results per key family (cache_client_family_reads_total{result}). */
export type FamilyReadResult = 'l1-hit' | 'hit' | 'stale' | 'miss' | 'bypass';

function gauge<L extends string>(registry: Registry, name: string, help: string, labelNames: L[]): Gauge<L> {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Gauge<L>;
  return new Gauge({ name, help, labelNames, registers: [registry] });
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
  earlyRefreshes: { inc(): void };
  fillRejected(reason: string): void;
  loaderError(reason: string): void;
  /** One read's result under its family (label already capped by FamilyNames). */
  familyRead(family: string, result: FamilyReadResult): void;
  familyFill(family: string): void;
  l1Size(entries: number, bytes: number): void;
  l1Evicted(n: number): void;
  l1Dropped(reason: string, n: number): void;
  busMessage(outcome: 'applied' | 'own' | 'malformed'): void;
  busSuspect(reason: string): void;
}

export function bindCacheClientMetrics(metrics: CacheClientMetrics, cache: string): BoundCacheClientMetrics {
  const label = { cache };
  const reads = new Map<string, { inc(): void }>();
  const fills = new Map<string, { inc(): void }>();
  const l1Entries = metrics.l1Entries.labels(label);
  const l1Bytes = metrics.l1Bytes.labels(label);
  const l1Evictions = metrics.l1Evictions.labels(label);
  return {
    earlyRefreshes: metrics.earlyRefreshes.labels(label),
    familyRead: (family, result) => {
      const id = `${family}\u0000${result}`;
      let child = reads.get(id);
      if (!child) reads.set(id, (child = metrics.familyReads.labels({ cache, family, result })));
      child.inc();
    },
    familyFill: (family) => {
      let child = fills.get(family);
      if (!child) fills.set(family, (child = metrics.familyFills.labels({ cache, family })));
      child.inc();
    },
    l1Size: (entries, bytes) => {
      l1Entries.set(entries);
      l1Bytes.set(bytes);
    },
    l1Evicted: (n) => l1Evictions.inc(n),
    l1Dropped: (reason, n) => metrics.l1Dropped.inc({ cache, reason }, n),
    busMessage: (outcome) => metrics.busMessages.inc({ cache, outcome }),
    busSuspect: (reason) => metrics.busSuspect.inc({ cache, reason }),
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
    fillsRejected: counter(
      registry,
      'cache_client_fills_rejected_total',
      'Loaded values the protocol refused (reason: lease-lost, older-than-tombstone, older-than-value, tag-invalidated, refused-oom, value-too-large)',
      ['cache', 'reason'],
    ),
    redisUnavailable: counter(
      registry,
      'cache_client_redis_unavailable_total',
      'Cache operations skipped because Redis was down, slow or failing; the loader answered',
      ['cache'],
    ),
    loaderCalls: counter(registry, 'cache_client_loader_calls_total', 'Loader invocations', ['cache']),
    loaderErrors: counter(registry, 'cache_client_loader_errors_total', 'Loader failures (reason: timeout, error, invalid-result)', [
      'cache',
      'reason',
    ]),
    waitTimeouts: counter(
      registry,
      'cache_client_wait_timeouts_total',
      'Reads that waited waitMs for another loader and then loaded themselves',
      ['cache'],
    ),
    familyReads: counter(
      registry,
      'cache_client_family_reads_total',
      'Reads per key family (result: l1-hit, hit, stale, miss, bypass = Redis unavailable or wait timeout); at most maxFamilies families per client, the rest "other"',
      ['cache', 'family', 'result'],
    ),
    familyFills: counter(registry, 'cache_client_family_fills_total', 'Loaded values stored in Redis, per key family', ['cache', 'family']),
    earlyRefreshes: counter(
      registry,
      'cache_client_early_refreshes_total',
      'Fresh hits that took the refresh lease ahead of expiry (earlyRefresh, XFetch)',
      ['cache'],
    ),
    l1Entries: gauge(registry, 'cache_client_l1_entries', 'Entries in the in-process L1', ['cache']),
    l1Bytes: gauge(registry, 'cache_client_l1_bytes', 'Estimated bytes held by the in-process L1 (bounded by l1.maxBytes)', ['cache']),
    l1Evictions: counter(registry, 'cache_client_l1_evictions_total', 'L1 entries evicted by its size bound (LRU)', ['cache']),
    l1Dropped: counter(
      registry,
      'cache_client_l1_dropped_total',
      'L1 entries dropped (reason: bus-key, bus-tag, bus-namespace, suspect, reset, expired, local)',
      ['cache', 'reason'],
    ),
    busMessages: counter(
      registry,
      'cache_client_bus_messages_total',
      'Invalidation-bus messages read (outcome: applied, own = this instance announced it, malformed = counted and ignored)',
      ['cache', 'outcome'],
    ),
    busSuspect: counter(
      registry,
      'cache_client_bus_suspect_total',
      'Times the bus was suspect and the whole L1 was dropped (reason: read-failed, reconnected, trimmed)',
      ['cache', 'reason'],
    ),
  };
}
