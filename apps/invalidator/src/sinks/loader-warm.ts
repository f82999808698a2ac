// Warm from the source (`warmFrom: { loaderUrl }`): after a chunk's guarded invalidation has
// tombstoned the key at the event's version and the chunk is committed, load the entity from
// the owning service and store it exactly as a reader would: `leaseGet` first (a miss gives the
// fill lease), then fetch, then `fill` with the lease. Best effort, off the partition's path:
// any failure leaves the key invalidated (never stale data), nothing waits for it. Bounded: at
// most `concurrencyPerMapping` loads per mapping at once, at most `maxPending` queued in total
// (more are dropped: outcome failed), `timeoutMs` per attempt, `retries` with exponential
// backoff for 5xx/network errors, a circuit breaker per host.
//
// Why the reader's path and not the protocol's `warm`: a warm replaces a cached value and never
// creates one (libs/cache-protocol README, rule "warms never create"), because an event payload
// may be a replay older than a value and floor that were since evicted. A loader warm is not
// such a payload: it reads the CURRENT entity, and it takes the lease BEFORE fetching, so every
// invalidation that comes after it voids the lease (the fill then answers lease-lost) and the
// fill is guarded by the key's floor as well. It may therefore create the value. It never
// competes with readers: when the key is cached (fresh or stale) or a reader already holds the
// lease, it does nothing (skipped-cached) and fetches nothing.
//
// The version comes from the response: header `X-Entity-Version`, else a top-level JSON field
// `version`. A response older than the event (the source is behind) is not written
// (skipped-older); the fill refuses anything below the key's floor anyway.
//
// Outcomes (LOADER_WARM_OUTCOMES, the label values of invalidator_loader_warms_total):
//   warmed          the loaded value was filled
//   skipped-cached  the key holds a value (fresh or stale) or a reader holds its lease: nothing fetched
//   skipped-older   the source answered a version below the event's, or the fill found a newer
//                   floor or value, or its lease was voided by a newer invalidation meanwhile
//   failed          a 4xx, a bad body, no version, retries exhausted, Redis failed or refused (OOM), dropped (maxPending)
//   circuit-open    the host's circuit is open: nothing fetched
//   timeout         the last attempt timed out
import type { FillOutcome, Lease, LeaseGetResult } from '@app/cache-protocol';
import { HostCircuitBreakers, KeyedLimiter, sleep } from './circuit-breaker';

export type LoaderWarmOutcome = 'warmed' | 'skipped-cached' | 'skipped-older' | 'failed' | 'circuit-open' | 'timeout';
export const LOADER_WARM_OUTCOMES: readonly LoaderWarmOutcome[] = ['warmed', 'skipped-cached', 'skipped-older', 'failed', 'circuit-open', 'timeout'];
export const ENTITY_VERSION_HEADER = 'x-entity-version';
/** TTL of a loaded value when the mapping gives none (as the protocol's defaultWarmTtlMs). */
export const DEFAULT_LOADER_WARM_TTL_MS = 3_600_000;
/** The lease outlives the whole retry budget by this much. */
const LEASE_MARGIN_MS = 1_000;

export interface LoaderWarm {
  key: string;
  loaderUrl: string;
  /** The event's (chunk's newest) version: the key is already tombstoned at it. */
  version: number;
  ttlMs?: number;
  /** The mapping's tombstone TTL (the invalidation already left the floor; a fill adds none). */
  tombstoneTtlMs: number;
  mappingId: string;
}

/** The part of CacheProtocol used: the reader's path (leaseGet, then fill with the lease). */
export interface LoaderCache {
  leaseGet(key: string, options: { leaseTtlMs: number }): Promise<LeaseGetResult>;
  fill(lease: Lease, version: number, value: string, options: { ttlMs: number }): Promise<FillOutcome>;
  releaseLease(lease: Lease): Promise<boolean>;
}

export interface LoaderWarmOptions {
  timeoutMs: number;
  retries: number;
  backoffMs: number;
  concurrencyPerMapping: number;
  maxPending: number;
  breakerFailures: number;
  breakerOpenMs: number;
  /** Largest accepted body; larger = failed. */
  maxBodyBytes: number;
}

export const DEFAULT_LOADER_WARM_OPTIONS: LoaderWarmOptions = {
  timeoutMs: 2_000,
  retries: 2,
  backoffMs: 100,
  concurrencyPerMapping: 8,
  maxPending: 10_000,
  breakerFailures: 5,
  breakerOpenMs: 10_000,
  maxBodyBytes: 1_048_576,
};

type Fetch = typeof fetch;

class Retriable extends Error {}
class Timeout extends Error {}

/** The version a loader response states: header first, then a JSON `version` field. */
export function versionOf(headers: Headers, body: string): number | undefined {
  const header = headers.get(ENTITY_VERSION_HEADER);
  if (header !== null && /^\d+$/.test(header.trim())) return Number(header.trim());
  try {
    const parsed = JSON.parse(body) as { version?: unknown };
    if (parsed && typeof parsed === 'object' && Number.isSafeInteger(parsed.version) && (parsed.version as number) >= 0) return parsed.version as number;
  } catch {
    /* not JSON */
  }
  return undefined;
}

export class LoaderWarmer {
  private readonly breakers: HostCircuitBreakers;
  private readonly limiter: KeyedLimiter;
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly options: LoaderWarmOptions;

  constructor(
    private readonly cache: LoaderCache,
    options: Partial<LoaderWarmOptions> = {},
    private readonly onOutcome: (outcome: LoaderWarmOutcome, warm: LoaderWarm, detail?: string) => void = () => undefined,
    private readonly fetchFn: Fetch = fetch,
  ) {
    this.options = { ...DEFAULT_LOADER_WARM_OPTIONS, ...options };
    this.breakers = new HostCircuitBreakers({ failureThreshold: this.options.breakerFailures, openMs: this.options.breakerOpenMs });
    this.limiter = new KeyedLimiter(this.options.concurrencyPerMapping);
  }

  /** Starts the warms in the background (returns at once). Over `maxPending` they are dropped (failed). */
  schedule(warms: readonly LoaderWarm[]): void {
    for (const w of warms) {
      if (this.limiter.pending() >= this.options.maxPending) {
        this.onOutcome('failed', w, 'dropped: too many loader warms pending');
        continue;
      }
      const p = this.warmOne(w).finally(() => this.inFlight.delete(p));
      this.inFlight.add(p);
    }
  }

  /** Waits for everything scheduled so far (tests, shutdown). */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  get pending(): number {
    return this.inFlight.size;
  }

  /** One warm, all attempts; never throws. */
  async warmOne(w: LoaderWarm): Promise<LoaderWarmOutcome> {
    const outcome = await this.limiter.run(w.mappingId, () => this.attempt(w)).catch((error: Error) => ['failed', error.message] as const);
    const [result, detail] = Array.isArray(outcome) ? outcome : [outcome, undefined];
    this.onOutcome(result as LoaderWarmOutcome, w, detail as string | undefined);
    return result as LoaderWarmOutcome;
  }

  /** How long the loader's lease must live: every attempt, every backoff, and a margin. */
  get leaseTtlMs(): number {
    const { timeoutMs, retries, backoffMs } = this.options;
    return timeoutMs * (retries + 1) + backoffMs * (2 ** retries - 1) + LEASE_MARGIN_MS;
  }

  private async attempt(w: LoaderWarm): Promise<LoaderWarmOutcome | readonly [LoaderWarmOutcome, string]> {
    const host = new URL(w.loaderUrl).host;
    if (this.breakers.isOpen(host)) return ['circuit-open', `circuit open for ${host}`] as const;
    // The lease first, as a reader: an invalidation after this point voids it, so what is
    // fetched below can only land if nothing newer was applied meanwhile.
    const got = await this.cache.leaseGet(w.key, { leaseTtlMs: this.leaseTtlMs });
    if (got.kind !== 'miss') {
      if (got.kind !== 'wait' && got.lease) await this.release(got.lease);
      return ['skipped-cached', got.kind === 'wait' ? 'a reader holds the lease' : `the key is cached (${got.kind})`] as const;
    }
    const lease = got.lease;
    let filled = false;
    try {
      const result = await this.loadAndFill(w, host, lease);
      filled = result.filled;
      return result.outcome;
    } finally {
      if (!filled) await this.release(lease);
    }
  }

  private async loadAndFill(w: LoaderWarm, host: string, lease: Lease): Promise<{ filled: boolean; outcome: LoaderWarmOutcome | readonly [LoaderWarmOutcome, string] }> {
    let lastTimeout = false;
    let lastError = '';
    for (let attempt = 0; attempt <= this.options.retries; attempt += 1) {
      if (attempt > 0) await sleep(this.options.backoffMs * 2 ** (attempt - 1));
      if (!this.breakers.tryAcquire(host)) return { filled: false, outcome: ['circuit-open', `circuit open for ${host}`] };
      let loaded: { body: string; headers: Headers };
      try {
        loaded = await this.fetchOnce(w.loaderUrl);
      } catch (error) {
        lastTimeout = error instanceof Timeout;
        lastError = (error as Error).message;
        if (error instanceof Retriable || error instanceof Timeout) {
          this.breakers.failure(host);
          continue;
        }
        // 4xx and bad bodies: the source answered; retrying will not help, the host is fine.
        return { filled: false, outcome: ['failed', lastError] };
      }
      this.breakers.success(host);
      const { body, headers } = loaded;
      const version = versionOf(headers, body);
      if (version === undefined) return { filled: false, outcome: ['failed', `no version in the response (header X-Entity-Version or JSON field "version")`] };
      if (version < w.version) return { filled: false, outcome: ['skipped-older', `source answered v${version}, event is v${w.version}`] };
      // fill releases the lease whatever it answers.
      const written = await this.cache.fill(lease, version, body, { ttlMs: w.ttlMs ?? DEFAULT_LOADER_WARM_TTL_MS });
      if (written === 'filled') return { filled: true, outcome: 'warmed' };
      if (written === 'older-than-tombstone' || written === 'older-than-value') return { filled: true, outcome: ['skipped-older', `fill answered ${written} (v${version})`] };
      if (written === 'lease-lost') return { filled: true, outcome: ['skipped-older', 'lease lost: the key was invalidated again (or its lease taken over) while loading'] };
      return { filled: true, outcome: ['failed', `fill answered ${written}`] };
    }
    return { filled: false, outcome: lastTimeout ? ['timeout', lastError] : ['failed', lastError] };
  }

  /** Gives the lease back so readers need not wait for its TTL; best effort. */
  private async release(lease: Lease): Promise<void> {
    await this.cache.releaseLease(lease).catch(() => undefined);
  }

  private async fetchOnce(url: string): Promise<{ body: string; headers: Headers }> {
    let response: Response;
    const signal = AbortSignal.timeout(this.options.timeoutMs);
    try {
      response = await this.fetchFn(url, { signal, headers: { accept: 'application/json' }, redirect: 'error' });
    } catch (error) {
      if (signal.aborted) throw new Timeout(`timed out after ${this.options.timeoutMs} ms`);
      throw new Retriable(`fetch failed: ${(error as Error).message}`);
    }
    let body: string;
    try {
      body = await response.text();
    } catch (error) {
      if (signal.aborted) throw new Timeout(`timed out after ${this.options.timeoutMs} ms (reading the body)`);
      throw new Retriable(`reading the body failed: ${(error as Error).message}`);
    }
    if (response.status >= 500 || response.status === 429) throw new Retriable(`HTTP ${response.status}`);
    if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
    if (Buffer.byteLength(body) > this.options.maxBodyBytes) throw new Error(`body over ${this.options.maxBodyBytes} bytes`);
    return { body, headers: response.headers };
  }
}
