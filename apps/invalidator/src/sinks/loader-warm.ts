// Warm from the source (`warmFrom: { loaderUrl }`): after a chunk's guarded invalidation has
// tombstoned the key at the event's version and the chunk is committed, load the entity from
// the owning service and store it exactly as a reader would: `leaseGet` first (a miss gives the
// fill lease), then fetch, then `fill` with the lease. Best effort, off the partition's path:
// any failure leaves the key invalidated (never stale data), nothing waits for it.
//
// A loader URL is a team's input and is treated as hostile (loader-fetch.ts): checked by the URL
// rules (LOADER_ALLOWED_HOSTS lifts them for named hosts) before anything else, its host's
// addresses checked again when the socket connects, redirects never followed, the body cut at
// `maxBodyBytes`.
//
// Bounded: at most `concurrencyPerMapping` loads per mapping at once; at most `maxPendingPerShare`
// pending per share (the warm's team, else its URL's host) and `maxPending` in total, more are
// dropped (outcome dropped), so one slow team fills its own share and never another's;
// `timeoutMs` per attempt (body included), `retries` with exponential backoff for 5xx/429/network
// errors, a circuit breaker per (team, host).
//
// Why the reader's path and not the protocol's `warm`: a warm replaces a cached value and never
// creates one (libs/cache-protocol/README.md, rule 4), because an event payload
// may be a replay older than a value and floor that were since evicted. A loader warm is not
// such a payload: it reads the CURRENT entity, and it takes the lease BEFORE fetching, so every
// invalidation that comes after it voids the lease (the fill then answers lease-lost) and the
// fill is guarded by the key's floor as well. It may therefore create the value. It never
// competes with readers: when the key is cached (fresh or stale) or a reader already holds the
// lease, it does nothing (skipped-cached) and fetches nothing.
//
// Versions: the value is stored at the EVENT's version, never at the version the loader claims.
// The loader's version (header `X-Entity-Version`, else a top-level JSON field `version`) only
// says whether its answer is at least as new as the event: older = not written (skipped-older).
// A loader claiming a huge version therefore cannot lift the key above later events.
//
// Outcomes (LOADER_WARM_OUTCOMES, the label values of invalidator_loader_warms_total):
//   warmed          the loaded value was filled (at the event's version)
//   skipped-cached  the key holds a value (fresh or stale) or a reader holds its lease: nothing fetched
//   skipped-older   the source answered a version below the event's, or the fill found a newer
//                   floor or value, or its lease was voided by a newer invalidation meanwhile
//   refused         the URL, or every address its host resolves to, is internal and not allow-listed: nothing fetched
//   too-large       the answer is over maxBodyBytes (declared or read): cut, nothing written
//   dropped         the team's (or host's) share or the total of pending warms is full: nothing fetched
//   failed          a 4xx, a redirect, a bad body, no version, retries exhausted, Redis failed or refused (OOM)
//   circuit-open    the host's circuit is open: nothing fetched
//   timeout         the last attempt timed out
import { setTimeout as sleep } from 'node:timers/promises';
import type { FillOutcome, Lease, LeaseGetResult } from '@app/cache-protocol';
import { checkTargetUrl, EMPTY_ALLOW_LIST, HostAllowList } from '@app/registry-core/url/target-url';
import { Agent, fetch as undiciFetch } from 'undici';
import { HostCircuitBreakers, KeyedLimiter } from './circuit-breaker';
import { BodyTooLargeError, checkedAgent, readBounded, refusedAddress, Resolver } from './loader-fetch';

export type LoaderWarmOutcome =
  'warmed' | 'skipped-cached' | 'skipped-older' | 'refused' | 'too-large' | 'dropped' | 'failed' | 'circuit-open' | 'timeout';
export const LOADER_WARM_OUTCOMES: readonly LoaderWarmOutcome[] = [
  'warmed',
  'skipped-cached',
  'skipped-older',
  'refused',
  'too-large',
  'dropped',
  'failed',
  'circuit-open',
  'timeout',
];
export const ENTITY_VERSION_HEADER = 'x-entity-version';
/** TTL of a loaded value when the mapping gives none (as the protocol's defaultWarmTtlMs). */
export const DEFAULT_LOADER_WARM_TTL_MS = 3_600_000;
/** The lease outlives the whole retry budget by this much. */
const LEASE_MARGIN_MS = 1_000;

/**
 * A key warmed from its owning service after the commit (warmFrom.loaderUrl), tombstoned at
 * `version` first: what resolve.ts plans (EffectPlan.loads) and this sink runs.
 */
export interface LoaderWarm {
  key: string;
  loaderUrl: string;
  /** The event's (chunk's newest) version: the key is already tombstoned at it, and a load is stored at it. */
  version: number;
  ttlMs?: number;
  /** The mapping's tombstone TTL (the invalidation already left the floor; a fill adds none). */
  tombstoneTtlMs: number;
  mappingId: string;
  /** The mapping's owner team: its pending share and breakers are its own. Absent: the URL's host stands in. */
  team?: string;
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
  /** Pending warms in total; more are dropped. */
  maxPending: number;
  /** Pending warms of one team (or, without a team, one URL host); more are dropped. */
  maxPendingPerShare: number;
  breakerFailures: number;
  breakerOpenMs: number;
  /** Largest accepted body; larger = too-large. */
  maxBodyBytes: number;
  /** Hosts, IPs or CIDRs a loader URL may reach although they are internal (LOADER_ALLOWED_HOSTS). */
  allowList: HostAllowList;
  /** How host names are resolved before their addresses are checked (tests inject one). */
  resolve?: Resolver;
}

export const DEFAULT_LOADER_WARM_OPTIONS: LoaderWarmOptions = {
  timeoutMs: 2_000,
  retries: 2,
  backoffMs: 100,
  concurrencyPerMapping: 8,
  maxPending: 10_000,
  maxPendingPerShare: 1_000,
  breakerFailures: 5,
  breakerOpenMs: 10_000,
  maxBodyBytes: 1_048_576,
  allowList: EMPTY_ALLOW_LIST,
};

type Result = LoaderWarmOutcome | readonly [LoaderWarmOutcome, string];

class Retriable extends Error {}
class Timeout extends Error {}
/** The source answered, but not with something to store (4xx, redirect, too large): no retry, the host is fine. */
class Answered extends Error {
  constructor(
    readonly outcome: LoaderWarmOutcome,
    message: string,
  ) {
    super(message);
  }
}
class Refused extends Error {}

/** The version a loader response states: header first, then a JSON `version` field. */
export function versionOf(headers: { get(name: string): string | null }, body: string): number | undefined {
  const header = headers.get(ENTITY_VERSION_HEADER)?.trim();
  if (header !== undefined && /^\d+$/.test(header) && Number.isSafeInteger(Number(header))) return Number(header);
  try {
    const parsed = JSON.parse(body) as { version?: unknown };
    if (parsed && typeof parsed === 'object' && Number.isSafeInteger(parsed.version) && (parsed.version as number) >= 0)
      return parsed.version as number;
  } catch {
    /* not JSON */
  }
  return undefined;
}

/** The share a warm counts against: its team, else its URL's host. */
function shareOf(w: LoaderWarm): string {
  if (w.team) return `team:${w.team}`;
  try {
    return `host:${new URL(w.loaderUrl).host}`;
  } catch {
    return 'host:(invalid)';
  }
}

export class LoaderWarmer {
  private readonly breakers: HostCircuitBreakers;
  private readonly limiter: KeyedLimiter;
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly perShare = new Map<string, number>();
  private readonly options: LoaderWarmOptions;
  private readonly dispatcher: Agent;

  constructor(
    private readonly cache: LoaderCache,
    options: Partial<LoaderWarmOptions> = {},
    private readonly onOutcome: (outcome: LoaderWarmOutcome, warm: LoaderWarm, detail?: string) => void = () => undefined,
  ) {
    this.options = { ...DEFAULT_LOADER_WARM_OPTIONS, ...options };
    this.breakers = new HostCircuitBreakers({ failureThreshold: this.options.breakerFailures, openMs: this.options.breakerOpenMs });
    this.limiter = new KeyedLimiter(this.options.concurrencyPerMapping);
    this.dispatcher = checkedAgent(this.options.allowList, this.options.resolve);
  }

  /** Starts the warms in the background (returns at once). Over a share's or the total bound they are dropped. */
  schedule(warms: readonly LoaderWarm[]): void {
    for (const w of warms) {
      const share = shareOf(w);
      const inShare = this.perShare.get(share) ?? 0;
      if (this.inFlight.size >= this.options.maxPending) {
        this.onOutcome('dropped', w, `dropped: ${this.options.maxPending} loader warms pending in total`);
        continue;
      }
      if (inShare >= this.options.maxPendingPerShare) {
        this.onOutcome('dropped', w, `dropped: ${inShare} loader warms of ${share} pending`);
        continue;
      }
      this.perShare.set(share, inShare + 1);
      const p = this.warmOne(w).finally(() => {
        this.inFlight.delete(p);
        const left = (this.perShare.get(share) ?? 1) - 1;
        if (left > 0) this.perShare.set(share, left);
        else this.perShare.delete(share);
      });
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

  /** Closes the HTTP connections kept alive (after drain). */
  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  /** One warm, all attempts; never throws. */
  async warmOne(w: LoaderWarm): Promise<LoaderWarmOutcome> {
    const outcome: Result = await this.limiter
      .run(w.mappingId, () => this.attempt(w))
      .catch((error: Error) => ['failed', error.message] as const);
    const [result, detail] = typeof outcome === 'string' ? [outcome, undefined] : outcome;
    this.onOutcome(result, w, detail);
    return result;
  }

  /** How long the loader's lease must live: every attempt, every backoff, and a margin. */
  get leaseTtlMs(): number {
    const { timeoutMs, retries, backoffMs } = this.options;
    return timeoutMs * (retries + 1) + backoffMs * (2 ** retries - 1) + LEASE_MARGIN_MS;
  }

  private async attempt(w: LoaderWarm): Promise<Result> {
    let url: URL;
    try {
      url = checkTargetUrl(w.loaderUrl, this.options.allowList).url;
    } catch (error) {
      return ['refused', (error as Error).message] as const;
    }
    const breaker = w.team ? `${w.team} ${url.host}` : url.host;
    if (this.breakers.isOpen(breaker)) return ['circuit-open', `circuit open for ${url.host}`] as const;
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
      const result = await this.loadAndFill(w, url, breaker, lease);
      filled = result.filled;
      return result.outcome;
    } finally {
      if (!filled) await this.release(lease);
    }
  }

  private async loadAndFill(w: LoaderWarm, url: URL, breaker: string, lease: Lease): Promise<{ filled: boolean; outcome: Result }> {
    let lastTimeout = false;
    let lastError = '';
    for (let attempt = 0; attempt <= this.options.retries; attempt += 1) {
      if (attempt > 0) await sleep(this.options.backoffMs * 2 ** (attempt - 1));
      if (!this.breakers.tryAcquire(breaker)) return { filled: false, outcome: ['circuit-open', `circuit open for ${url.host}`] };
      let loaded: { body: string; headers: { get(name: string): string | null } };
      // Every call let through ends in exactly one verdict (success, failure, release): a
      // half-open trial always ends, whatever happened to it.
      let verdict: 'success' | 'failure' | 'release' = 'release';
      try {
        loaded = await this.fetchOnce(url);
        verdict = 'success';
      } catch (error) {
        lastTimeout = error instanceof Timeout;
        lastError = (error as Error).message;
        if (error instanceof Retriable || error instanceof Timeout) {
          verdict = 'failure';
          continue;
        }
        if (error instanceof Refused) return { filled: false, outcome: ['refused', lastError] };
        // 4xx, redirects, too large, bad bodies: the source answered; retrying will not help, the host is fine.
        verdict = 'success';
        return { filled: false, outcome: [error instanceof Answered ? error.outcome : 'failed', lastError] };
      } finally {
        this.breakers[verdict](breaker);
      }
      const { body, headers } = loaded;
      const claimed = versionOf(headers, body);
      if (claimed === undefined)
        return { filled: false, outcome: ['failed', `no version in the response (header X-Entity-Version or JSON field "version")`] };
      if (claimed < w.version) return { filled: false, outcome: ['skipped-older', `source answered v${claimed}, event is v${w.version}`] };
      // Stored at the event's version: what the loader claims above it is not trusted.
      // fill releases the lease whatever it answers.
      const written = await this.cache.fill(lease, w.version, body, { ttlMs: w.ttlMs ?? DEFAULT_LOADER_WARM_TTL_MS });
      if (written === 'filled') return { filled: true, outcome: 'warmed' };
      if (written === 'older-than-tombstone' || written === 'older-than-value')
        return { filled: true, outcome: ['skipped-older', `fill answered ${written} (v${w.version})`] };
      if (written === 'lease-lost')
        return {
          filled: true,
          outcome: ['skipped-older', 'lease lost: the key was invalidated again (or its lease taken over) while loading'],
        };
      return { filled: true, outcome: ['failed', `fill answered ${written}`] };
    }
    return { filled: false, outcome: lastTimeout ? ['timeout', lastError] : ['failed', lastError] };
  }

  /** Gives the lease back so readers need not wait for its TTL; best effort. */
  private async release(lease: Lease): Promise<void> {
    await this.cache.releaseLease(lease).catch(() => undefined);
  }

  private async fetchOnce(url: URL): Promise<{ body: string; headers: { get(name: string): string | null } }> {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.options.timeoutMs);
    try {
      let response;
      try {
        response = await undiciFetch(url, {
          signal: controller.signal,
          headers: { accept: 'application/json' },
          redirect: 'manual',
          dispatcher: this.dispatcher,
        });
      } catch (error) {
        if (timedOut) throw new Timeout(`timed out after ${this.options.timeoutMs} ms`);
        const refused = refusedAddress(error);
        if (refused) throw new Refused(refused.message);
        const cause = (error as Error).cause instanceof Error ? `: ${((error as Error).cause as Error).message}` : '';
        throw new Retriable(`fetch failed${cause || `: ${(error as Error).message}`}`);
      }
      const status = response.status;
      if (status !== 200) {
        await response.body?.cancel().catch(() => undefined);
        if (status >= 500 || status === 429) throw new Retriable(`HTTP ${status}`);
        if (status >= 300 && status < 400) throw new Answered('failed', `HTTP ${status}: redirects are not followed`);
        throw new Answered('failed', `HTTP ${status}`);
      }
      let body: Buffer;
      try {
        body = await readBounded(response, this.options.maxBodyBytes);
      } catch (error) {
        if (error instanceof BodyTooLargeError) throw new Answered('too-large', error.message);
        if (timedOut) throw new Timeout(`timed out after ${this.options.timeoutMs} ms (reading the body)`);
        throw new Retriable(`reading the body failed: ${(error as Error).message}`);
      }
      return { body: body.toString('utf8'), headers: response.headers };
    } finally {
      clearTimeout(timer);
    }
  }
}
