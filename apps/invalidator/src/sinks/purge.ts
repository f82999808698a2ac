// CDN / HTTP cache purge by surrogate key: after a chunk's Redis invalidation, the tags of its
// items (one per event and mapping with `purge`) and the URLs their `purge.urls` render are sent
// to every configured target. Never holds the partition past PURGE_DEADLINE_MS: whatever is not
// purged by then is handed back (the pipeline dead-letters those events with reason PURGE_FAILED
// so `npm run dlq -- replay --reason PURGE_FAILED` can retry them).
//
// Teams' items are hostile input. Before anything is sent, an item is refused as a whole (no
// request at all, so no operator token goes out for it) when one of its tags is not exactly one
// key (tagProblem) or one of its URLs fails checkTargetUrl (internal, dot-only or odd hosts;
// PURGE_ALLOWED_HOSTS lifts the rule for named hosts). Each adapter then builds its request path
// from encoded segments and checks its shape (purge-request.ts): no input makes a purge-all.
//
// Failures are per item and per team. Items are grouped by team (item.team, else the host of its
// first URL); each team's items form a lane of their own per target, run side by side with the
// other teams' lanes, with the whole deadline as that team's retry budget. Within a lane, tags
// and URLs are merged into as few requests as the target takes; a merged request that fails is
// split in halves (by item) until the failure is pinned on single items. A 4xx (but 408/429) or
// a refused part is permanent: its item fails at once, without retries. 5xx, 408, 429, network
// errors and timeouts are retried with exponential backoff until the deadline. Only items whose
// own request failed come back in `failed`; another team's failing or slow target neither fails
// nor re-sends them. The chunk still waits for the slowest lane, so a (target, team) whose lane
// ran into the deadline PURGE_BREAKER_FAILURES chunks in a row gets its circuit opened: its items
// fail at once, without a request, for PURGE_BREAKER_OPEN_MS.
//
// Targets (PURGE_TARGETS, comma separated):
//   varnish:http://127.0.0.1:6081              purge-varnish.ts
//   fastly:<serviceId>@https://api.fastly.com  purge-fastly.ts
//   cloudflare:<zoneId>@https://api.cloudflare.com/client/v4  purge-cloudflare.ts
// Tokens come from PURGE_FASTLY_TOKEN / PURGE_CLOUDFLARE_TOKEN, never from the target string.
import { setTimeout as sleep } from 'node:timers/promises';
import { checkTargetUrl, EMPTY_ALLOW_LIST, HostAllowList } from '@app/registry-core/url/target-url';
import { HostCircuitBreakers } from './circuit-breaker';
import { CloudflareAdapter } from './purge-cloudflare';
import { FastlyAdapter } from './purge-fastly';
import { chunks, Fetch, parsePurgeUrl, PurgeAdapter, PurgeError, PurgePart, PurgeRequest, tagProblem } from './purge-request';
import { VarnishXkeyAdapter } from './purge-varnish';

export { CloudflareAdapter, FastlyAdapter, VarnishXkeyAdapter };
export type { PurgeAdapter, PurgePart, PurgeRequest };

export interface PurgeTargetsConfig {
  /** e.g. "varnish:http://127.0.0.1:6081,fastly:SERVICE@https://api.fastly.com" */
  targets: string;
  fastlyToken?: string;
  cloudflareToken?: string;
  softPurge?: boolean;
}

/** Service and zone ids go into a request path: plain ids only. */
const ACCOUNT_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Parses PURGE_TARGETS; throws naming the bad entry. */
export function purgeAdapters(config: PurgeTargetsConfig, fetchFn: Fetch = fetch): PurgeAdapter[] {
  const entries = config.targets
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  return entries.map((entry) => {
    const colon = entry.indexOf(':');
    const kind = entry.slice(0, colon);
    const rest = entry.slice(colon + 1);
    const at = rest.indexOf('@');
    const checkUrl = (url: string) => {
      if (!/^https?:\/\/[^/]+/.test(url)) throw new Error(`PURGE_TARGETS: "${entry}": ${url} is not an http(s) URL`);
      return url.replace(/\/+$/, '');
    };
    const accountId = (id: string, what: string) => {
      if (!ACCOUNT_ID.test(id)) throw new Error(`PURGE_TARGETS: "${entry}": the ${what} must be letters, digits, "-" or "_"`);
      return id;
    };
    switch (kind) {
      case 'varnish':
        return new VarnishXkeyAdapter(checkUrl(rest), config.softPurge ?? false, fetchFn);
      case 'fastly':
        if (!config.fastlyToken) throw new Error(`PURGE_TARGETS: "${entry}" needs PURGE_FASTLY_TOKEN`);
        return new FastlyAdapter(
          accountId(at < 0 ? rest : rest.slice(0, at), 'service id'),
          config.fastlyToken,
          at < 0 ? undefined : checkUrl(rest.slice(at + 1)),
          config.softPurge ?? true,
          fetchFn,
        );
      case 'cloudflare':
        if (!config.cloudflareToken) throw new Error(`PURGE_TARGETS: "${entry}" needs PURGE_CLOUDFLARE_TOKEN`);
        return new CloudflareAdapter(
          accountId(at < 0 ? rest : rest.slice(0, at), 'zone id'),
          config.cloudflareToken,
          at < 0 ? undefined : checkUrl(rest.slice(at + 1)),
          fetchFn,
        );
      default:
        throw new Error(`PURGE_TARGETS: "${entry}": kind must be varnish, fastly or cloudflare`);
    }
  });
}

export interface PurgeSinkOptions {
  /** Total time one chunk's purge may take (all targets, all attempts; each team's retry budget). */
  deadlineMs: number;
  /** Per request. */
  timeoutMs: number;
  backoffMs: number;
  /** Hosts, IPs or CIDRs a purge URL may name although checkTargetUrl would refuse them (PURGE_ALLOWED_HOSTS). */
  allowedHosts: HostAllowList;
  /** Chunks in a row in which a team's purges on a target were still failing at the deadline before its circuit opens. */
  breakerFailures: number;
  /** How long an open team circuit fails that team's items at once (no requests, no wait), before one trial chunk. */
  breakerOpenMs: number;
}

export const DEFAULT_PURGE_OPTIONS: PurgeSinkOptions = {
  deadlineMs: 5_000,
  timeoutMs: 2_000,
  backoffMs: 100,
  allowedHosts: EMPTY_ALLOW_LIST,
  breakerFailures: 3,
  breakerOpenMs: 30_000,
};

/** purged: items a target took; retried: failed requests sent again; failed: items handed back; refused: items never sent. */
export type PurgeOutcome = 'purged' | 'retried' | 'failed' | 'refused';

export interface PurgeResult<T> {
  /** Items whose purge did not succeed on every target before the deadline, or were refused. */
  failed: { item: T; error: string }[];
  /** Requests sent. */
  attempts: number;
}

/** One request's worth of a lane: the part and the items it purges for. */
interface Work<T> {
  part: PurgePart;
  owners: T[];
  tries: number;
  notBefore: number;
  /** Why its last attempt failed (handed back when the deadline passes before the next). */
  lastError?: string;
}

/** The lane an item runs in: its team, else its first URL's host. */
export function teamOf(item: PurgeRequest): string {
  if (item.team) return `team:${item.team}`;
  const first = item.urls[0];
  if (first) {
    try {
      return `host:${new URL(first).hostname}`;
    } catch {
      /* refused before it gets here */
    }
  }
  return 'none';
}

/** Why an item may not be sent anywhere (undefined: fine). */
export function purgeItemProblem(item: PurgeRequest, allowedHosts: HostAllowList = EMPTY_ALLOW_LIST): string | undefined {
  for (const tag of item.tags) {
    const problem = tagProblem(tag);
    if (problem) return problem;
  }
  for (const url of item.urls) {
    try {
      checkTargetUrl(url, allowedHosts);
      parsePurgeUrl(url);
    } catch (error) {
      return (error as Error).message.replace(/^refused: /, '');
    }
  }
  return undefined;
}

/** Requests for a lane's items: tags and URLs deduplicated and merged up to the target's limits. */
function plan<T extends PurgeRequest>(adapter: PurgeAdapter, items: readonly T[]): Work<T>[] {
  const owners = (pick: (i: T) => string[]) => {
    const by = new Map<string, T[]>();
    for (const item of items) {
      for (const v of new Set(pick(item))) {
        const list = by.get(v);
        if (list) list.push(item);
        else by.set(v, [item]);
      }
    }
    return by;
  };
  const ownersOf = (by: Map<string, T[]>, values: string[]) => [...new Set(values.flatMap((v) => by.get(v) ?? []))];
  const tagOwners = owners((i) => i.tags);
  const urlOwners = owners((i) => i.urls);
  return [
    ...chunks([...tagOwners.keys()], adapter.maxTagsPerRequest).map((tags) => ({
      part: { tags },
      owners: ownersOf(tagOwners, tags),
      tries: 0,
      notBefore: 0,
    })),
    ...chunks([...urlOwners.keys()], adapter.maxUrlsPerRequest).map((urls) => ({
      part: { urls },
      owners: ownersOf(urlOwners, urls),
      tries: 0,
      notBefore: 0,
    })),
  ];
}

/** The part restricted to what `owners` asked for (a half of a failed merged request). */
function narrow<T extends PurgeRequest>(part: PurgePart, owners: readonly T[]): PurgePart {
  if (part.tags) return { tags: part.tags.filter((t) => owners.some((o) => o.tags.includes(t))) };
  return { urls: part.urls.filter((u) => owners.some((o) => o.urls.includes(u))) };
}

export class PurgeSink {
  private readonly options: PurgeSinkOptions;
  /** One circuit per (target, team): a team whose target keeps failing stops holding everyone's chunks. */
  private readonly breakers: HostCircuitBreakers;

  constructor(
    readonly adapters: readonly PurgeAdapter[],
    options: Partial<PurgeSinkOptions> = {},
    private readonly onOutcome: (target: string, outcome: PurgeOutcome, n: number) => void = () => undefined,
  ) {
    this.options = { ...DEFAULT_PURGE_OPTIONS, ...options };
    this.breakers = new HostCircuitBreakers({ failureThreshold: this.options.breakerFailures, openMs: this.options.breakerOpenMs });
  }

  get enabled(): boolean {
    return this.adapters.length > 0;
  }

  /** Each item is its own purge (tags and URLs), e.g. a PlannedPurge; failed items come back as they were given. */
  async purge<T extends PurgeRequest>(items: readonly T[]): Promise<PurgeResult<T>> {
    const deadline = Date.now() + this.options.deadlineMs;
    const failed = new Map<T, string>();
    const lanes = new Map<string, T[]>();
    if (this.adapters.length === 0) return { failed: [], attempts: 0 };
    let refused = 0;
    for (const item of new Set(items)) {
      const request: PurgeRequest = item;
      if (request.tags.length + request.urls.length === 0) continue;
      const problem = purgeItemProblem(request, this.options.allowedHosts);
      if (problem) {
        failed.set(item, `refused: ${problem}`);
        refused += 1;
        continue;
      }
      const team = teamOf(request);
      const lane = lanes.get(team);
      if (lane) lane.push(item);
      else lanes.set(team, [item]);
    }
    if (refused > 0) for (const adapter of this.adapters) this.onOutcome(adapter.name, 'refused', refused);
    const attempts = { n: 0 };
    await Promise.all(
      this.adapters.flatMap((adapter) => [...lanes].map(([team, lane]) => this.runLane(adapter, team, lane, deadline, failed, attempts))),
    );
    // In the order given, each item once.
    return {
      failed: [...new Set(items)].filter((item) => failed.has(item)).map((item) => ({ item, error: failed.get(item)! })),
      attempts: attempts.n,
    };
  }

  /** One team's items on one target, until they are all purged or failed, or the deadline passes. */
  private async runLane<T extends PurgeRequest>(
    adapter: PurgeAdapter,
    team: string,
    items: readonly T[],
    deadline: number,
    failed: Map<T, string>,
    attempts: { n: number },
  ): Promise<void> {
    const laneFailed = new Map<T, string>();
    const circuit = `${adapter.name} ${team}`;
    const open = !this.breakers.tryAcquire(circuit);
    const queue = open ? [] : plan(adapter, items);
    if (open) {
      const why = `circuit open: ${team}'s purges on this target failed until the deadline ${this.options.breakerFailures} chunk(s) in a row; not sent for ${this.options.breakerOpenMs} ms`;
      for (const item of items) laneFailed.set(item, why);
    }
    let timedOut = false;
    while (queue.length > 0) {
      const now = Date.now();
      if (now >= deadline) {
        for (const work of queue)
          for (const o of work.owners) if (!laneFailed.has(o)) laneFailed.set(o, work.lastError ?? 'deadline passed before it was sent');
        timedOut = true;
        break;
      }
      const ready = queue.findIndex((w) => w.notBefore <= now);
      if (ready < 0) {
        await sleep(Math.min(...queue.map((w) => w.notBefore), deadline) - now);
        continue;
      }
      const [work] = queue.splice(ready, 1);
      if (work.owners.every((o) => laneFailed.has(o))) continue;
      attempts.n += 1;
      try {
        await adapter.send(work.part, AbortSignal.timeout(Math.max(1, Math.min(this.options.timeoutMs, deadline - now))));
      } catch (caught) {
        const error = caught instanceof PurgeError ? caught : new PurgeError((caught as Error).message, false);
        const again = Date.now() + (error.permanent ? 0 : this.options.backoffMs * 2 ** work.tries);
        if (work.owners.length > 1) {
          // Pin the failure down: each half of the items gets its own request.
          const half = Math.ceil(work.owners.length / 2);
          for (const owners of [work.owners.slice(0, half), work.owners.slice(half)])
            queue.push({ part: narrow(work.part, owners), owners, tries: work.tries + 1, notBefore: again, lastError: error.message });
          this.onOutcome(adapter.name, 'retried', 1);
        } else if (error.permanent) {
          laneFailed.set(work.owners[0], error.message);
        } else {
          queue.push({ ...work, tries: work.tries + 1, notBefore: again, lastError: error.message });
          this.onOutcome(adapter.name, 'retried', 1);
        }
      }
    }
    // Only running into the deadline costs everyone time: that is what opens the circuit.
    if (!open) {
      if (timedOut) this.breakers.failure(circuit);
      else this.breakers.success(circuit);
    }
    const purged = items.length - laneFailed.size;
    if (purged > 0) this.onOutcome(adapter.name, 'purged', purged);
    if (laneFailed.size > 0) this.onOutcome(adapter.name, 'failed', laneFailed.size);
    for (const [item, error] of laneFailed) if (!failed.has(item)) failed.set(item, `${adapter.name}: ${error}`);
  }
}
