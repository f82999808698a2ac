// Warm from the source (`warmFrom: { loaderUrl }`): after a chunk's guarded invalidation has
// tombstoned the key at the event's version and the chunk is committed, fetch the entity from
// the owning service and write it through the version-guarded warm. Best effort, off the
// partition's path: any failure leaves the key invalidated (never stale data), nothing waits
// for it. Bounded: at most `concurrencyPerMapping` fetches per mapping at once, at most
// `maxPending` queued in total (more are dropped: outcome failed), `timeoutMs` per attempt,
// `retries` with exponential backoff for 5xx/network errors, a circuit breaker per host.
//
// The version comes from the response: header `X-Entity-Version`, else a top-level JSON field
// `version`. A response older than the event (the source is behind) is not written
// (skipped-older); the warm script refuses anything below the key's floor anyway.
import { HostCircuitBreakers, KeyedLimiter, sleep } from './circuit-breaker';

export type LoaderWarmOutcome = 'warmed' | 'skipped-older' | 'failed' | 'circuit-open' | 'timeout';
export const LOADER_WARM_OUTCOMES: readonly LoaderWarmOutcome[] = ['warmed', 'skipped-older', 'failed', 'circuit-open', 'timeout'];
export const ENTITY_VERSION_HEADER = 'x-entity-version';

export interface LoaderWarm {
  key: string;
  loaderUrl: string;
  /** The event's (chunk's newest) version: the key is already tombstoned at it. */
  version: number;
  ttlMs?: number;
  tombstoneTtlMs: number;
  mappingId: string;
}

/** The part of CacheProtocol used (warm is version-guarded: never lands below the floor). */
export interface WarmWriter {
  warm(key: string, version: number, payload: string, ttlMs: number | undefined, options: { tombstoneTtlMs?: number }): Promise<string>;
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
    private readonly writer: WarmWriter,
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

  private async attempt(w: LoaderWarm): Promise<LoaderWarmOutcome | readonly [LoaderWarmOutcome, string]> {
    const host = new URL(w.loaderUrl).host;
    let lastTimeout = false;
    let lastError = '';
    for (let attempt = 0; attempt <= this.options.retries; attempt += 1) {
      if (attempt > 0) await sleep(this.options.backoffMs * 2 ** (attempt - 1));
      if (!this.breakers.tryAcquire(host)) return ['circuit-open', `circuit open for ${host}`] as const;
      try {
        const { body, headers } = await this.fetchOnce(w.loaderUrl);
        this.breakers.success(host);
        const version = versionOf(headers, body);
        if (version === undefined) return ['failed', `no version in the response (header X-Entity-Version or JSON field "version")`] as const;
        if (version < w.version) return ['skipped-older', `source answered v${version}, event is v${w.version}`] as const;
        const written = await this.writer.warm(w.key, version, body, w.ttlMs, { tombstoneTtlMs: w.tombstoneTtlMs });
        if (written === 'warmed') return 'warmed';
        if (written === 'skipped-older') return 'skipped-older';
        return ['failed', `warm answered ${written}`] as const;
      } catch (error) {
        lastTimeout = error instanceof Timeout;
        lastError = (error as Error).message;
        if (error instanceof Retriable || error instanceof Timeout) {
          this.breakers.failure(host);
          continue;
        }
        // 4xx and bad bodies: the source answered; retrying will not help, the host is fine.
        return ['failed', lastError] as const;
      }
    }
    return lastTimeout ? (['timeout', lastError] as const) : (['failed', lastError] as const);
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
