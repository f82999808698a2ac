// CDN / HTTP cache purge by surrogate key: after a chunk's Redis invalidation, the tags of its
// events (mappings with `purge`) and the URLs their `purge.urls` render are sent to every
// configured target. Retried with backoff within a deadline; never holds the partition past it:
// whatever is not purged by then is handed back (the pipeline dead-letters those events with
// reason PURGE_FAILED so `npm run dlq -- replay --reason PURGE_FAILED` can retry them).
//
// Targets (PURGE_TARGETS, comma separated):
//   varnish:http://127.0.0.1:6081            PURGE / with `xkey-purge: <tags>` (soft: `xkey-softpurge`), PURGE <url path> for URLs
//   fastly:<serviceId>@https://api.fastly.com  POST /service/<id>/purge with `Surrogate-Key`, `Fastly-Key`, optional `Fastly-Soft-Purge: 1`
//   cloudflare:<zoneId>@https://api.cloudflare.com/client/v4  POST /zones/<id>/purge_cache {"tags": [...]} / {"files": [...]}, Bearer token
// Tokens come from PURGE_FASTLY_TOKEN / PURGE_CLOUDFLARE_TOKEN, never from the target string.
import { sleep } from './circuit-breaker';

export interface PurgeRequest {
  tags: string[];
  urls: string[];
}

export interface PurgeAdapter {
  readonly name: string;
  /** Throws on failure (the sink retries). */
  purge(request: PurgeRequest, signal: AbortSignal): Promise<void>;
}

type Fetch = typeof fetch;

async function expectOk(response: Response, what: string): Promise<void> {
  const text = await response.text().catch(() => '');
  if (response.status < 200 || response.status >= 300) throw new Error(`${what}: HTTP ${response.status} ${text.slice(0, 200)}`);
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Varnish with vmod xkey (the VCL of scripts/stack/varnish.ts). */
export class VarnishXkeyAdapter implements PurgeAdapter {
  readonly name: string;
  constructor(
    private readonly baseUrl: string,
    private readonly soft = false,
    private readonly fetchFn: Fetch = fetch,
  ) {
    this.name = `varnish:${baseUrl}`;
  }

  async purge(request: PurgeRequest, signal: AbortSignal): Promise<void> {
    // xkey takes a space-separated list in one header; keep headers small.
    for (const group of chunks(request.tags, 64)) {
      const header = this.soft ? 'xkey-softpurge' : 'xkey-purge';
      await expectOk(await this.fetchFn(`${this.baseUrl}/`, { method: 'PURGE', headers: { [header]: group.join(' ') }, signal }), `${this.name} xkey purge`);
    }
    for (const url of request.urls) {
      const u = new URL(url);
      await expectOk(await this.fetchFn(`${this.baseUrl}${u.pathname}${u.search}`, { method: 'PURGE', headers: { 'x-purge-host': u.host }, signal }), `${this.name} PURGE ${u.pathname}`);
    }
  }
}

/** Fastly: surrogate keys (up to 256 per request) and single URLs. Not reachable from CI: tested against a local server checking the request shape. */
export class FastlyAdapter implements PurgeAdapter {
  readonly name: string;
  constructor(
    private readonly serviceId: string,
    private readonly token: string,
    private readonly apiUrl = 'https://api.fastly.com',
    private readonly soft = true,
    private readonly fetchFn: Fetch = fetch,
  ) {
    this.name = `fastly:${serviceId}`;
  }

  async purge(request: PurgeRequest, signal: AbortSignal): Promise<void> {
    const headers = (extra: Record<string, string>) => ({ 'Fastly-Key': this.token, accept: 'application/json', ...(this.soft ? { 'Fastly-Soft-Purge': '1' } : {}), ...extra });
    for (const group of chunks(request.tags, 256)) {
      await expectOk(
        await this.fetchFn(`${this.apiUrl}/service/${encodeURIComponent(this.serviceId)}/purge`, { method: 'POST', headers: headers({ 'Surrogate-Key': group.join(' ') }), signal }),
        `${this.name} surrogate-key purge`,
      );
    }
    for (const url of request.urls) {
      const u = new URL(url);
      await expectOk(await this.fetchFn(`${this.apiUrl}/purge/${u.host}${u.pathname}${u.search}`, { method: 'POST', headers: headers({}), signal }), `${this.name} URL purge`);
    }
  }
}

/** Cloudflare: cache tags and files (30 per request), purge_cache. Not reachable from CI (local server in the test). */
export class CloudflareAdapter implements PurgeAdapter {
  readonly name: string;
  constructor(
    private readonly zoneId: string,
    private readonly token: string,
    private readonly apiUrl = 'https://api.cloudflare.com/client/v4',
    private readonly fetchFn: Fetch = fetch,
  ) {
    this.name = `cloudflare:${zoneId}`;
  }

  async purge(request: PurgeRequest, signal: AbortSignal): Promise<void> {
    const send = async (body: unknown) => {
      const response = await this.fetchFn(`${this.apiUrl}/zones/${encodeURIComponent(this.zoneId)}/purge_cache`, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal,
      });
      const text = await response.text().catch(() => '');
      let success = false;
      try {
        success = (JSON.parse(text) as { success?: boolean }).success === true;
      } catch {
        /* not JSON */
      }
      if (response.status !== 200 || !success) throw new Error(`${this.name} purge_cache: HTTP ${response.status} ${text.slice(0, 200)}`);
    };
    for (const group of chunks(request.tags, 30)) await send({ tags: group });
    for (const group of chunks(request.urls, 30)) await send({ files: group });
  }
}

export interface PurgeTargetsConfig {
  /** e.g. "varnish:http://127.0.0.1:6081,fastly:SERVICE@https://api.fastly.com" */
  targets: string;
  fastlyToken?: string;
  cloudflareToken?: string;
  softPurge?: boolean;
}

/** Parses PURGE_TARGETS; throws naming the bad entry. */
export function purgeAdapters(config: PurgeTargetsConfig, fetchFn: Fetch = fetch): PurgeAdapter[] {
  const entries = config.targets.split(',').map((t) => t.trim()).filter(Boolean);
  return entries.map((entry) => {
    const colon = entry.indexOf(':');
    const kind = entry.slice(0, colon);
    const rest = entry.slice(colon + 1);
    const at = rest.indexOf('@');
    const checkUrl = (url: string) => {
      if (!/^https?:\/\/[^/]+/.test(url)) throw new Error(`PURGE_TARGETS: "${entry}": ${url} is not an http(s) URL`);
      return url.replace(/\/+$/, '');
    };
    switch (kind) {
      case 'varnish':
        return new VarnishXkeyAdapter(checkUrl(rest), config.softPurge ?? false, fetchFn);
      case 'fastly':
        if (!config.fastlyToken) throw new Error(`PURGE_TARGETS: "${entry}" needs PURGE_FASTLY_TOKEN`);
        return new FastlyAdapter(at < 0 ? rest : rest.slice(0, at), config.fastlyToken, at < 0 ? undefined : checkUrl(rest.slice(at + 1)), config.softPurge ?? true, fetchFn);
      case 'cloudflare':
        if (!config.cloudflareToken) throw new Error(`PURGE_TARGETS: "${entry}" needs PURGE_CLOUDFLARE_TOKEN`);
        return new CloudflareAdapter(at < 0 ? rest : rest.slice(0, at), config.cloudflareToken, at < 0 ? undefined : checkUrl(rest.slice(at + 1)), fetchFn);
      default:
        throw new Error(`PURGE_TARGETS: "${entry}": kind must be varnish, fastly or cloudflare`);
    }
  });
}

export interface PurgeSinkOptions {
  /** Total time one chunk's purge may take (all targets, all attempts). */
  deadlineMs: number;
  /** Per request. */
  timeoutMs: number;
  backoffMs: number;
}

export const DEFAULT_PURGE_OPTIONS: PurgeSinkOptions = { deadlineMs: 5_000, timeoutMs: 2_000, backoffMs: 100 };

export type PurgeOutcome = 'purged' | 'retried' | 'failed';

export interface PurgeResult<T> {
  /** Items whose purge did not succeed on every target before the deadline. */
  failed: { item: T; error: string }[];
  attempts: number;
}

/**
 * Purges per item (an event with its tags and URLs): one request per target for all items at once
 * first; on failure the remaining items are retried with backoff until the deadline. An item is
 * failed when any target did not take it.
 */
export class PurgeSink {
  private readonly options: PurgeSinkOptions;

  constructor(
    readonly adapters: readonly PurgeAdapter[],
    options: Partial<PurgeSinkOptions> = {},
    private readonly onOutcome: (target: string, outcome: PurgeOutcome, n: number) => void = () => undefined,
  ) {
    this.options = { ...DEFAULT_PURGE_OPTIONS, ...options };
  }

  get enabled(): boolean {
    return this.adapters.length > 0;
  }

  /** Each item is its own request (tags and URLs), e.g. a PlannedPurge; failed items come back as they were given. */
  async purge<T extends PurgeRequest>(items: readonly T[]): Promise<PurgeResult<T>> {
    const failed = new Map<T, string>();
    let attempts = 0;
    const deadline = Date.now() + this.options.deadlineMs;
    const wanted = items.filter((i) => {
      const r: PurgeRequest = i;
      return r.tags.length + r.urls.length > 0;
    });
    if (wanted.length === 0 || this.adapters.length === 0) return { failed: [], attempts: 0 };
    await Promise.all(
      this.adapters.map(async (adapter) => {
        const merge = (list: readonly T[]): PurgeRequest => {
          const tags = new Set<string>();
          const urls = new Set<string>();
          for (const i of list) {
            const r: PurgeRequest = i;
            r.tags.forEach((t) => tags.add(t));
            r.urls.forEach((u) => urls.add(u));
          }
          return { tags: [...tags], urls: [...urls] };
        };
        let lastError = '';
        for (let attempt = 0; ; attempt += 1) {
          const left = deadline - Date.now();
          if (left <= 0) break;
          attempts += 1;
          try {
            await adapter.purge(merge(wanted), AbortSignal.timeout(Math.min(this.options.timeoutMs, left)));
            this.onOutcome(adapter.name, 'purged', wanted.length);
            return;
          } catch (error) {
            lastError = (error as Error).message;
            this.onOutcome(adapter.name, 'retried', 1);
          }
          const delay = Math.min(this.options.backoffMs * 2 ** attempt, Math.max(0, deadline - Date.now()));
          if (delay <= 0) break;
          await sleep(delay);
        }
        this.onOutcome(adapter.name, 'failed', wanted.length);
        for (const item of wanted) failed.set(item, `${adapter.name}: ${lastError || 'deadline passed'}`);
      }),
    );
    return { failed: [...failed].map(([item, error]) => ({ item, error })), attempts };
  }
}
