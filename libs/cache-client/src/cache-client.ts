// The read side: getOrLoad on top of the protocol's leaseGet/fill. One loader call per key at
// a time across all processes (the lease), others wait with a deadline or are served stale
// within the grace window, and the cache being down never fails a read: the loader answers.
import type Redis from 'ioredis';
import type { Cluster } from 'ioredis';
import {
  CacheProtocol,
  CacheProtocolError,
  EffectOutcome,
  Envelope,
  Lease,
  LeaseGetResult,
  newLeaseToken,
  TagEpoch,
  tagStateKey,
  validateKey,
} from '@app/cache-protocol';
import { BusMessage, BusPublisher, BusSubscriber, busVerifier } from '@app/cache-protocol/bus';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger, Logger, metricsRegistry } from '@app/telemetry';
import { CacheClientError } from './errors';
import { BoundCacheClientMetrics, bindCacheClientMetrics, cacheClientMetrics } from './metrics';
import { CacheClientOptions, GetOrLoadOptions, LoadResult } from './options';
import { FamilyNames, keyFamily } from './family';
import { L1, L1Entry } from './l1';
import { DeadlineExceeded, jitteredTtl, withDeadline } from './timing';

type Loader<T> = () => Promise<LoadResult<T>>;

/** How often an L1 client samples Redis's clock (TIME); stream ids correct it in between. */
const CLOCK_SYNC_MS = 1_000;

interface ReadSettings {
  ttlMs: number;
  tags: string[];
  staleWhileRevalidateMs: number;
  waitMs: number;
  loaderTimeoutMs: number;
  jitterRatio: number;
  family: string;
}

/** Where a Redis read began, for storing its result in L1 (see L1.begin). */
interface L1Read {
  since: number;
  sentAt: number;
}

/** Thrown inside a read when Redis cannot serve it; turned into a loader call, never surfaced. */
class CacheUnavailable extends Error {}

const DOWN_STATES = new Set(['reconnecting', 'close', 'end']);

/** Protocol errors that mean the caller's input is wrong (surfaced); any other failure means the cache is unavailable. */
const INPUT_ERRORS = new Set<string>([
  'KEY_EMPTY',
  'KEY_TOO_LONG',
  'KEY_BAD_CHARACTER',
  'KEY_BAD_HASH_TAG',
  'KEY_RESERVED_PREFIX',
  'VERSION_INVALID',
  'TTL_INVALID',
  'VALUE_MISSING',
  'VALUE_TOO_LARGE',
]);

export class CacheClient {
  readonly protocol: CacheProtocol;
  private readonly metrics: BoundCacheClientMetrics;
  private readonly log: Logger;
  private readonly inFlight = new Map<string, Promise<unknown>>();
  private readonly refreshes = new Set<Promise<void>>();
  private readonly namespaces: string[];
  private readonly knownGenerations = new Map<string, number>();
  private readonly serialize: (value: unknown) => string;
  private readonly deserialize: (payload: string) => unknown;
  private available = true;
  private readonly now: () => number;
  private readonly l1?: L1;
  private readonly families: FamilyNames;
  private readonly busSource: string;
  private readonly busPublisher?: BusPublisher;
  private readonly busSubscriber?: BusSubscriber;
  private readonly busListeners = new Set<(message: BusMessage, streamIdMs: number) => void>();
  private clockReady: Promise<void> = Promise.resolve();
  private clockTimer?: NodeJS.Timeout;
  private clockSampling = false;

  constructor(
    readonly redis: Redis | Cluster,
    private readonly options: CacheClientOptions = {},
  ) {
    this.protocol = new CacheProtocol(redis, options.protocol);
    this.now = options.now ?? Date.now;
    this.metrics = bindCacheClientMetrics(cacheClientMetrics(options.registry ?? metricsRegistry()), options.name ?? 'default');
    this.log = options.logger ?? createLogger('cache-client');
    this.namespaces = [...(options.namespaces ?? [])].sort((a, b) => b.length - a.length);
    this.serialize = options.serialize ?? ((v) => JSON.stringify(v));
    this.deserialize = options.deserialize ?? ((s): unknown => JSON.parse(s));
    for (const name of ['redisTimeoutMs', 'leaseMarginMs', 'pollMinMs', 'pollMaxMs', 'maxFamilies'] as const) {
      const v = options[name];
      if (v !== undefined && !(Number.isSafeInteger(v) && v > 0))
        throw new CacheClientError('OPTIONS_INVALID', `option ${name} must be a positive integer (ms), got ${v}`);
    }
    if (options.earlyRefresh && !(options.earlyRefresh.beta > 0 && Number.isFinite(options.earlyRefresh.beta)))
      throw new CacheClientError('OPTIONS_INVALID', 'earlyRefresh.beta must be a number > 0');
    if (options.bus && !options.l1) throw new CacheClientError('OPTIONS_INVALID', 'option bus needs l1 (the bus only drops L1 entries)');
    this.families = new FamilyNames(options.maxFamilies ?? 64);
    this.busSource = options.bus?.source ?? `client-${randomBytes(6).toString('hex')}`;
    if (options.l1) {
      try {
        this.l1 = new L1(
          {
            now: options.now,
            forgetSilentPublisherMs: options.bus?.forgetSilentPublisherMs,
            verifyPublisher: options.bus?.verifyKey !== undefined ? busVerifier(options.bus.verifyKey, 'bus.verifyKey') : undefined,
            ...options.l1,
          },
          {
            dropped: (reason, n) => {
              this.metrics.l1Dropped(reason, n);
              this.metrics.l1Size(this.l1?.size ?? 0, this.l1?.bytes ?? 0);
            },
            evicted: (n) => this.metrics.l1Evicted(n),
          },
        );
      } catch (error) {
        throw new CacheClientError('OPTIONS_INVALID', (error as Error).message);
      }
    }
    if (this.l1) {
      // L1 judges freshness on Redis's clock: sample it now and every CLOCK_SYNC_MS.
      this.clockReady = this.syncClock();
      this.clockTimer = setInterval(() => void this.syncClock(), CLOCK_SYNC_MS);
      this.clockTimer.unref();
    }
    if (options.bus && this.l1) {
      const l1 = this.l1;
      const bus = options.bus;
      if (bus.announceFills !== false) {
        this.busPublisher = new BusPublisher(redis, {
          streamKey: bus.streamKey,
          source: this.busSource,
          registry: options.registry ?? metricsRegistry(),
          onFailure: (kind, error) =>
            this.log.debug({ kind, err: error.message }, 'bus announce failed (the next heartbeat of this client is a reset)'),
        });
      }
      this.busSubscriber = new BusSubscriber(
        bus.connection ?? redis.duplicate(),
        {
          onMessage: (message, idMs) => {
            if (message.kind === 'inv' && message.source === this.busSource) {
              this.metrics.busMessage('own');
              return;
            }
            l1.apply(message, idMs);
            this.metrics.busMessage('applied');
            for (const listener of this.busListeners) listener(message, idMs);
          },
          onSuspect: (reason, error) => {
            l1.dropAll('suspect');
            this.metrics.busSuspect(reason);
            this.log.warn(
              { reason, err: error?.message },
              'invalidation bus suspect: L1 dropped, reads go to Redis until the bus confirms again',
            );
          },
          onMalformed: (error) => {
            this.metrics.busMessage('malformed');
            this.log.debug({ err: error.message }, 'malformed bus message ignored');
          },
        },
        { streamKey: bus.streamKey, blockMs: bus.blockMs, connectionName: `cache-bus:${this.busSource}` },
      );
      this.busSubscriber.start();
    }
  }

  /**
   * The cached value of `key`, or the loader's (stored for the next reader). Throws only for
   * bad input (CacheProtocolError KEY_*, CacheClientError OPTIONS_INVALID) and loader failures
   * (the loader's error, LOADER_TIMEOUT, LOADER_RESULT_INVALID); never because Redis is down.
   */
  getOrLoad<T>(key: string, loader: () => Promise<LoadResult<T>>, options: GetOrLoadOptions): Promise<T> {
    let settings: ReadSettings;
    try {
      validateKey(key, this.options.protocol?.maxKeyBytes);
      settings = this.settingsOf(key, options);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.l1) {
      const entry = this.l1.get(key);
      if (entry) {
        try {
          const value = this.deserialize(entry.payload) as T;
          this.metrics.familyRead(settings.family, 'l1-hit');
          return Promise.resolve(value);
        } catch {
          this.l1.forget(key);
        }
      }
    }
    if (this.options.coalesce === false) return this.read(key, loader, settings);
    const pending = this.inFlight.get(key);
    if (pending) return pending as Promise<T>;
    const read = this.read(key, loader, settings).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, read);
    return read;
  }

  /** Bus messages as this instance applies them (diagnostics, tests). Returns the unsubscribe function. */
  onBusMessage(listener: (message: BusMessage, streamIdMs: number) => void): () => void {
    this.busListeners.add(listener);
    return () => this.busListeners.delete(listener);
  }

  /** Resolves once the bus subscriber knows its starting position and L1 tried its first Redis clock sample (immediately without either). */
  async busReady(): Promise<void> {
    await Promise.all([this.busSubscriber?.ready, this.clockReady]);
  }

  /** Tests: stop reading the bus without noticing (a silent bus). */
  pauseBus(paused: boolean): void {
    this.busSubscriber?.pause(paused);
  }

  /** L1 entries and estimated bytes (0 without L1), and the bus publishers it trusts (their sources) and the heartbeats/byes it ignored for a missing or invalid signature. */
  l1Stats(): { entries: number; bytes: number; publishers: string[]; ignoredUnsigned: number } {
    return {
      entries: this.l1?.size ?? 0,
      bytes: this.l1?.bytes ?? 0,
      publishers: this.l1?.publishersHeard().map((p) => p.source) ?? [],
      ignoredUnsigned: this.l1?.ignoredUnsigned ?? 0,
    };
  }

  /**
   * Invalidates `key` at `version` in Redis (a tombstone, as the invalidator would) and, with a
   * bus, announces it so every instance drops its L1 copy; this one drops its own at once.
   */
  async invalidate(key: string, version: number, options: { tombstoneTtlMs?: number } = {}): Promise<EffectOutcome> {
    validateKey(key, this.options.protocol?.maxKeyBytes);
    const [outcome] = await this.protocol.applyKeyEffects([
      { key, version, action: 'tombstone', tombstoneTtlMs: options.tombstoneTtlMs ?? 86_400_000 },
    ]);
    this.l1?.forget(key);
    if (this.busPublisher) await this.busPublisher.announce({ keys: [[key, version, 'i']] });
    return outcome;
  }

  /** Drops this process's L1 copy of `key` (e.g. after the caller changed it). */
  forgetLocal(key: string): void {
    this.l1?.forget(key);
  }

  /** Waits for background refreshes; closes the connection when this client owns it. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.refreshes]);
    clearInterval(this.clockTimer);
    await this.busSubscriber?.stop();
    if (this.options.closeRedisOnClose) await this.redis.quit().catch(() => this.redis.disconnect());
  }

  private async read<T>(key: string, loader: Loader<T>, s: ReadSettings): Promise<T> {
    if (DOWN_STATES.has(this.redis.status)) return this.bypass(loader, s);
    // The first reads of a new client wait for its first Redis clock sample (one round trip, sent
    // at construction), so what they read can go into L1.
    if (this.l1 && !this.l1.clockKnown) await this.clockReady;
    const token = newLeaseToken();
    const deadline = Date.now() + s.waitMs;
    let pause = this.options.pollMinMs ?? 5;
    for (;;) {
      let got: LeaseGetResult;
      let generation: number;
      const l1Read = this.l1Read();
      try {
        [got, generation] = await this.leaseGet(key, token, s);
      } catch (error) {
        if (error instanceof CacheUnavailable) return this.bypass(loader, s);
        throw error;
      }
      this.markAvailable();
      switch (got.kind) {
        case 'hit':
          this.metrics.hits.inc();
          this.metrics.familyRead(s.family, 'hit');
          if (got.lease) {
            this.metrics.earlyRefreshes.inc();
            this.refreshInBackground(got.lease, loader, s, generation);
          } else if (l1Read) this.storeL1(key, got.entry, l1Read, s);
          return this.serve(got.entry, loader, s);
        case 'stale':
          this.metrics.staleServed.inc();
          this.metrics.familyRead(s.family, 'stale');
          if (got.lease) this.refreshInBackground(got.lease, loader, s, generation);
          return this.serve(got.entry, loader, s);
        case 'miss':
          this.metrics.misses.inc();
          this.metrics.familyRead(s.family, 'miss');
          return this.loadAndFill(got.lease, loader, s, generation, l1Read);
        case 'wait': {
          const left = deadline - Date.now();
          if (left <= 0) {
            this.metrics.waitTimeouts.inc();
            this.metrics.familyRead(s.family, 'bypass');
            return (await this.callLoader(loader, s)).value;
          }
          await sleep(Math.min(pause, left));
          pause = Math.min(pause * 1.5, this.options.pollMaxMs ?? 50);
        }
      }
    }
  }

  /** leaseGet plus, for keys under a namespace, its generation (read in parallel, before any loader runs). */
  private async leaseGet(key: string, token: string, s: ReadSettings): Promise<[LeaseGetResult, number]> {
    const namespace = this.namespaces.find((ns) => key.startsWith(ns));
    const leaseTtlMs = s.loaderTimeoutMs + (this.options.leaseMarginMs ?? 1000);
    const known = namespace ? (this.knownGenerations.get(namespace) ?? 0) : 0;
    const early = this.options.earlyRefresh ? -this.options.earlyRefresh.beta * Math.log(Math.random() || Number.MIN_VALUE) : 0;
    const leased = this.protocol.leaseGet(key, { token, leaseTtlMs, minNamespaceGeneration: known, earlyRefreshFactor: early });
    let got: LeaseGetResult;
    let generation = 0;
    try {
      if (namespace)
        [got, generation] = await this.cacheCall(Promise.all([leased, this.protocol.namespaceGeneration(namespace)]), 'leaseGet');
      else got = await this.cacheCall(leased, 'leaseGet');
    } catch (error) {
      this.releaseIfGrantedLate(leased);
      throw error;
    }
    if (!namespace || generation <= known) return [got, generation];
    this.knownGenerations.set(namespace, generation);
    this.l1?.bumpNamespace(namespace, generation);
    if (got.kind !== 'hit' && got.kind !== 'stale') return [got, generation];
    if (got.entry.namespaceGeneration >= generation) return [got, generation];
    // Filled before the namespace was bumped: ask again with the new generation, which drops it.
    const retried = this.protocol.leaseGet(key, { token, leaseTtlMs, minNamespaceGeneration: generation });
    try {
      return [await this.cacheCall(retried, 'leaseGet'), generation];
    } catch (error) {
      this.releaseIfGrantedLate(retried);
      throw error;
    }
  }

  /**
   * A leaseGet we gave up on (slow Redis) may still be granted: hand such a lease back at once,
   * or every other reader of the key would wait for it until its TTL.
   */
  private releaseIfGrantedLate(leased: Promise<LeaseGetResult>): void {
    leased.then(
      (late) => {
        const lease = late.kind === 'wait' ? undefined : late.lease;
        if (lease) void this.protocol.releaseLease(lease).catch(() => undefined);
      },
      () => undefined,
    );
  }

  private async loadAndFill<T>(lease: Lease, loader: Loader<T>, s: ReadSettings, generation: number, l1Read?: L1Read): Promise<T> {
    // Tag epochs are read before the loader runs: a tag invalidation after this point makes the fill fail.
    let epochs: TagEpoch[] | undefined;
    let cacheUsable = true;
    if (s.tags.length > 0) {
      try {
        epochs = await this.cacheCall(this.protocol.readTagEpochs(s.tags), 'readTagEpochs');
      } catch (error) {
        if (!(error instanceof CacheUnavailable)) throw error;
        cacheUsable = false;
      }
    }
    let result: LoadResult<T>;
    const loadStarted = performance.now();
    try {
      result = await this.callLoader(loader, s);
    } catch (error) {
      // Give the lease back so waiting readers try themselves instead of waiting for its TTL.
      if (cacheUsable) await this.cacheCall(this.protocol.releaseLease(lease), 'releaseLease').catch(() => undefined);
      throw error;
    }
    const loadMs = this.options.earlyRefresh ? performance.now() - loadStarted : undefined;
    if (cacheUsable) await this.fill(lease, result, s, epochs, generation, loadMs, l1Read);
    return result.value;
  }

  private async fill<T>(
    lease: Lease,
    result: LoadResult<T>,
    s: ReadSettings,
    tags: TagEpoch[] | undefined,
    generation: number,
    loadMs?: number,
    l1Read?: L1Read,
  ): Promise<void> {
    try {
      const payload = this.serialize(result.value);
      if (typeof payload !== 'string') {
        this.metrics.fillRejected('unserializable');
        await this.cacheCall(this.protocol.releaseLease(lease), 'releaseLease');
        return;
      }
      const ttlMs = jitteredTtl(s.ttlMs, s.jitterRatio);
      const sentAt = this.l1?.redisTimeOf(this.now());
      const outcome = await this.cacheCall(
        this.protocol.fill(lease, result.version, payload, {
          ttlMs,
          staleWhileRevalidateMs: s.staleWhileRevalidateMs,
          tags,
          namespaceGeneration: generation,
          loadMs,
        }),
        'fill',
      );
      if (outcome === 'filled') {
        this.metrics.fills.inc();
        this.metrics.familyFill(s.family);
        if (this.l1) {
          // Other instances drop older copies; this one keeps what it just stored.
          this.l1.forget(lease.key);
          if (l1Read && sentAt !== undefined) {
            const namespace = this.namespaces.find((ns) => lease.key.startsWith(ns));
            this.setL1(
              lease.key,
              {
                payload,
                version: result.version,
                tags: (tags ?? []).map((t) => ({ stateKey: tagStateKey(t.tag), epoch: t.epoch })),
                namespace,
                generation,
                confirmedAt: sentAt,
                freshUntil: sentAt + ttlMs,
              },
              this.l1.begin(),
            );
          }
          void this.busPublisher?.announce({ keys: [[lease.key, result.version, 'w']] });
        }
      } else this.metrics.fillRejected(outcome);
    } catch (error) {
      if (error instanceof CacheProtocolError && error.code === 'VALUE_TOO_LARGE') {
        this.metrics.fillRejected('value-too-large');
        this.log.warn({ key: lease.key, err: error.message }, 'value not cached: larger than maxValueBytes; readers keep loading it');
        await this.cacheCall(this.protocol.releaseLease(lease), 'releaseLease').catch(() => undefined);
        return;
      }
      if (!(error instanceof CacheUnavailable)) throw error;
    }
  }

  private refreshInBackground<T>(lease: Lease, loader: Loader<T>, s: ReadSettings, generation: number): void {
    const refresh = this.loadAndFill(lease, loader, s, generation).then(
      () => undefined,
      (error: unknown) =>
        this.log.debug(
          { key: lease.key, err: (error as Error).message },
          'background refresh failed; the stale value stays until its grace ends',
        ),
    );
    this.refreshes.add(refresh);
    void refresh.finally(() => this.refreshes.delete(refresh));
  }

  private async callLoader<T>(loader: Loader<T>, s: ReadSettings): Promise<LoadResult<T>> {
    this.metrics.loaderCalls.inc();
    let result: LoadResult<T>;
    try {
      result = await withDeadline(Promise.resolve().then(loader), s.loaderTimeoutMs, 'loader');
    } catch (error) {
      if (error instanceof DeadlineExceeded) {
        this.metrics.loaderError('timeout');
        throw new CacheClientError('LOADER_TIMEOUT', `loader did not finish within loaderTimeoutMs (${s.loaderTimeoutMs} ms)`, error);
      }
      this.metrics.loaderError('error');
      throw error;
    }
    if (!result || typeof result !== 'object' || !Number.isSafeInteger(result.version) || result.version < 0) {
      this.metrics.loaderError('invalid-result');
      throw new CacheClientError(
        'LOADER_RESULT_INVALID',
        'loader must resolve to { value, version } with an integer version >= 0 (0 = unversioned)',
      );
    }
    return result;
  }

  /** Where a Redis read begins, for L1 (undefined without L1 or before Redis's clock is known). */
  private l1Read(): L1Read | undefined {
    const sentAt = this.l1?.redisTimeOf(this.now());
    return this.l1 && sentAt !== undefined ? { since: this.l1.begin(), sentAt } : undefined;
  }

  /** One Redis TIME sample for L1 (errors ignored: the last sample and the stream ids stand). */
  private async syncClock(): Promise<void> {
    if (!this.l1 || this.clockSampling) return;
    this.clockSampling = true;
    try {
      const sentAt = this.now();
      const [seconds, micros] = await withDeadline(this.redis.time(), this.options.redisTimeoutMs ?? 250, 'redis TIME');
      this.l1.clockSample(sentAt, Number(seconds) * 1000 + Number(micros) / 1000, this.now());
    } catch {
      // Redis unavailable: reads notice it on their own
    } finally {
      this.clockSampling = false;
    }
  }

  /** A Redis hit (read sent at l1Read.sentAt, Redis time) into L1. */
  private storeL1(key: string, entry: Envelope, l1Read: L1Read, s: ReadSettings): void {
    const namespace = this.namespaces.find((ns) => key.startsWith(ns));
    this.setL1(
      key,
      {
        payload: entry.payload,
        version: entry.version,
        tags: entry.tags ?? [],
        namespace,
        generation: entry.namespaceGeneration,
        confirmedAt: l1Read.sentAt,
        // Never stale = it ends with its hard TTL, which the envelope does not carry: this read's
        // ttlMs shortened by the most jitter could have taken, so L1 never outlives Redis' copy.
        freshUntil: entry.writtenAt + (entry.freshForMs === 0 ? Math.floor(s.ttlMs * (1 - s.jitterRatio)) : entry.freshForMs),
      },
      l1Read.since,
    );
  }

  private setL1(key: string, entry: L1Entry, since: number): void {
    if (!this.l1) return;
    this.l1.set(key, entry, since);
    this.metrics.l1Size(this.l1.size, this.l1.bytes);
  }

  /** Redis down: the loader answers, counted, never an error for the caller. */
  private async bypass<T>(loader: Loader<T>, s: ReadSettings): Promise<T> {
    this.metrics.redisUnavailable.inc();
    this.metrics.familyRead(s.family, 'bypass');
    return (await this.callLoader(loader, s)).value;
  }

  /** A Redis call bounded by redisTimeoutMs; failures become CacheUnavailable (bad input stays an error). */
  private async cacheCall<T>(call: Promise<T>, what: string): Promise<T> {
    try {
      return await withDeadline(call, this.options.redisTimeoutMs ?? 250, `redis ${what}`);
    } catch (error) {
      if (error instanceof CacheProtocolError && INPUT_ERRORS.has(error.code)) throw error;
      this.markUnavailable(error as Error, what);
      throw new CacheUnavailable(what);
    }
  }

  private markUnavailable(error: Error, what: string): void {
    if (!this.available) return;
    this.available = false;
    this.log.warn({ err: error.message, op: what }, 'redis unavailable: reads are answered by their loaders until it is back');
  }

  private markAvailable(): void {
    if (this.available) return;
    this.available = true;
    this.log.info('redis available again: reads use the cache');
  }

  /** A cached value; one this client cannot deserialize (another writer's format) is answered by the loader. */
  private async serve<T>(entry: Envelope, loader: Loader<T>, s: ReadSettings): Promise<T> {
    let value: T;
    try {
      value = this.deserialize(entry.payload) as T;
    } catch (error) {
      this.log.warn(
        { err: (error as Error).message },
        'cached value cannot be deserialized: answered by the loader (it stays until invalidated or expired)',
      );
      return (await this.callLoader(loader, s)).value;
    }
    return value;
  }

  private settingsOf(key: string, o: GetOrLoadOptions): ReadSettings {
    const d = this.options.defaults ?? {};
    const s: ReadSettings = {
      ttlMs: o.ttlMs,
      tags: o.tags ?? [],
      staleWhileRevalidateMs: o.staleWhileRevalidateMs ?? d.staleWhileRevalidateMs ?? 0,
      waitMs: o.waitMs ?? d.waitMs ?? 1000,
      loaderTimeoutMs: o.loaderTimeoutMs ?? d.loaderTimeoutMs ?? 5000,
      jitterRatio: o.jitterRatio ?? d.jitterRatio ?? 0.1,
      family: this.families.label(o.family ?? keyFamily(key)),
    };
    if (!Number.isSafeInteger(s.ttlMs) || s.ttlMs <= 0)
      throw new CacheClientError('OPTIONS_INVALID', `ttlMs must be a positive integer, got ${o.ttlMs}`);
    if (!Number.isSafeInteger(s.staleWhileRevalidateMs) || s.staleWhileRevalidateMs < 0)
      throw new CacheClientError('OPTIONS_INVALID', 'staleWhileRevalidateMs must be an integer >= 0');
    if (!(s.waitMs >= 0)) throw new CacheClientError('OPTIONS_INVALID', 'waitMs must be >= 0');
    if (!Number.isSafeInteger(s.loaderTimeoutMs) || s.loaderTimeoutMs <= 0)
      throw new CacheClientError('OPTIONS_INVALID', 'loaderTimeoutMs must be a positive integer');
    if (!(s.jitterRatio >= 0 && s.jitterRatio < 1)) throw new CacheClientError('OPTIONS_INVALID', 'jitterRatio must be in [0, 1)');
    // Tags are checked before a lease is taken, so bad input never leaves a lease behind.
    s.tags.forEach((tag) => validateKey(tag, this.options.protocol?.maxKeyBytes, 'tag'));
    return s;
  }
}
