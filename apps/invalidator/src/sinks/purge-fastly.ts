// Fastly: `POST /service/<id>/purge` with `Surrogate-Key: <tag> <tag>...` (up to 256) and
// `POST /purge/<host>/<path>` for one URL; `Fastly-Key` carries the operator's token,
// `Fastly-Soft-Purge: 1` marks stale instead of removing. Never `/service/<id>/purge_all`: the
// request path is built from encoded segments and checked against these two shapes before the
// token goes anywhere. Not reachable from CI: tested against a local server checking the shape.
import {
  checkPart,
  encodePath,
  expectOk,
  Fetch,
  pathSegments,
  PurgeAdapter,
  purgeAll,
  PurgePart,
  PurgeRequest,
  requestUrl,
} from './purge-request';

const KEY_PATH = /^\/service\/[^/]+\/purge$/;
const URL_PATH = /^\/purge\/[^/]+(\/[^/?#]*)+$/;

export class FastlyAdapter implements PurgeAdapter {
  readonly name: string;
  readonly maxTagsPerRequest = 256;
  readonly maxUrlsPerRequest = 1;
  private readonly base: URL;

  constructor(
    private readonly serviceId: string,
    private readonly token: string,
    apiUrl = 'https://api.fastly.com',
    private readonly soft = true,
    private readonly fetchFn: Fetch = fetch,
  ) {
    this.name = `fastly:${serviceId}`;
    this.base = new URL(apiUrl);
  }

  async send(part: PurgePart, signal: AbortSignal): Promise<void> {
    const { tags, urls } = checkPart(part, this.maxTagsPerRequest, this.maxUrlsPerRequest);
    const headers = (extra: Record<string, string>) => ({
      'Fastly-Key': this.token,
      accept: 'application/json',
      ...(this.soft ? { 'Fastly-Soft-Purge': '1' } : {}),
      ...extra,
    });
    if (tags) {
      const target = requestUrl(this.base, encodePath(['service', this.serviceId, 'purge']), KEY_PATH);
      await expectOk(
        await this.fetchFn(target, { method: 'POST', headers: headers({ 'Surrogate-Key': tags.join(' ') }), signal }),
        'surrogate-key purge',
      );
      return;
    }
    const url = urls![0];
    const target = requestUrl(this.base, encodePath(['purge', url.host, ...pathSegments(url)]), URL_PATH, url.search);
    await expectOk(await this.fetchFn(target, { method: 'POST', headers: headers({}), signal }), 'URL purge');
  }

  purge(request: Pick<PurgeRequest, 'tags' | 'urls'>, signal: AbortSignal): Promise<void> {
    return purgeAll(this, request, signal);
  }
}
