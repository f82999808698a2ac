// Varnish with vmod xkey (the VCL of scripts/stack/varnish.ts): `PURGE /` with
// `xkey-purge: <tag> <tag>...` (soft: `xkey-softpurge`), and `PURGE <path>` with
// `x-purge-host: <host>` for one URL (the VCL purges that one object, under that host).
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

/** The shape of a URL purge's path: one or more encoded segments, nothing else. */
const URL_PATH = /^(\/[^/?#]*)+$/;

export class VarnishXkeyAdapter implements PurgeAdapter {
  readonly name: string;
  /** xkey takes a space-separated list in one header; keep headers small. */
  readonly maxTagsPerRequest = 64;
  readonly maxUrlsPerRequest = 1;
  private readonly base: URL;

  constructor(
    baseUrl: string,
    private readonly soft = false,
    private readonly fetchFn: Fetch = fetch,
  ) {
    this.name = `varnish:${baseUrl}`;
    this.base = new URL(baseUrl);
  }

  async send(part: PurgePart, signal: AbortSignal): Promise<void> {
    const { tags, urls } = checkPart(part, this.maxTagsPerRequest, this.maxUrlsPerRequest);
    if (tags) {
      const target = requestUrl(this.base, '/', /^\/$/);
      const header = this.soft ? 'xkey-softpurge' : 'xkey-purge';
      await expectOk(await this.fetchFn(target, { method: 'PURGE', headers: { [header]: tags.join(' ') }, signal }), 'xkey purge');
      return;
    }
    const url = urls![0];
    const target = requestUrl(this.base, encodePath(pathSegments(url)), URL_PATH, url.search);
    await expectOk(
      await this.fetchFn(target, { method: 'PURGE', headers: { 'x-purge-host': url.host }, signal }),
      `PURGE ${target.pathname}`,
    );
  }

  purge(request: Pick<PurgeRequest, 'tags' | 'urls'>, signal: AbortSignal): Promise<void> {
    return purgeAll(this, request, signal);
  }
}
