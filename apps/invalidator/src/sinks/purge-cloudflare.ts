// Cloudflare: `POST /zones/<id>/purge_cache` with `{"tags": [...]}` or `{"files": [...]}` (30 per
// request), Bearer token. Never `{"purge_everything": true}` (nor hosts or prefixes): the body is
// one of the two shapes with a non-empty list, checked before sending. Not reachable from CI
// (local server in the tests).
import {
  checkPart,
  encodePath,
  Fetch,
  isPermanentStatus,
  PurgeAdapter,
  purgeAll,
  PurgeError,
  PurgePart,
  PurgeRequest,
  refused,
  requestUrl,
} from './purge-request';

const PATH = /^\/zones\/[^/]+\/purge_cache$/;

export class CloudflareAdapter implements PurgeAdapter {
  readonly name: string;
  readonly maxTagsPerRequest = 30;
  readonly maxUrlsPerRequest = 30;
  private readonly base: URL;

  constructor(
    private readonly zoneId: string,
    private readonly token: string,
    apiUrl = 'https://api.cloudflare.com/client/v4',
    private readonly fetchFn: Fetch = fetch,
  ) {
    this.name = `cloudflare:${zoneId}`;
    this.base = new URL(apiUrl);
  }

  async send(part: PurgePart, signal: AbortSignal): Promise<void> {
    const { tags, urls } = checkPart(part, this.maxTagsPerRequest, this.maxUrlsPerRequest);
    const body = tags ? { tags } : { files: urls!.map((u) => u.href) };
    const [key, list] = Object.entries(body as Record<string, unknown>)[0];
    if (Object.keys(body).length !== 1 || (key !== 'tags' && key !== 'files') || !Array.isArray(list) || list.length === 0)
      throw refused('a purge_cache body is {"tags": [...]} or {"files": [...]}');
    const target = requestUrl(this.base, encodePath(['zones', this.zoneId, 'purge_cache']), PATH);
    const response = await this.fetchFn(target, {
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
    if (response.status !== 200 || !success)
      throw new PurgeError(`purge_cache: HTTP ${response.status} ${text.slice(0, 200)}`, isPermanentStatus(response.status));
  }

  purge(request: Pick<PurgeRequest, 'tags' | 'urls'>, signal: AbortSignal): Promise<void> {
    return purgeAll(this, request, signal);
  }
}
