// Loader warms never reach internal hosts, whatever a team's mapping says. A real invalidator
// process follows mappings from a file (no registry checks in between: the invalidator's own
// checks are what is proven), real Kafka and Redis, local HTTP stand-ins:
//   127.0.0.2  the team's loader, allow-listed (LOADER_ALLOWED_HOSTS=127.0.0.2): reachable
//   127.0.0.5  an "internal" host (an admin port): not allow-listed, must never be called
// The cloud metadata address is checked by the URL rules (nothing is bound there). A host NAME
// resolving to an internal address (DNS rebinding) is covered by the unit tests of the checked
// lookup (apps/invalidator/src/sinks/loader-fetch.spec.ts): no such name resolves offline.
// Two layers stop them: the resolver refuses a mapping part whose rendered loader URL names an
// internal host (its part is dead-lettered, nothing is warmed), and the loader sink checks the
// URL, the addresses it resolves to and never follows a redirect (an allow-listed loader that
// redirects to an internal host).
import {
  answerJson,
  entityEvent,
  HttpStandIn,
  loaderMapping,
  LoaderInvalidator,
  startLoaderInvalidator,
  startStandIn,
} from '../support/loader-stand-in';
import { eventually, uniqueName } from '../support/stack-env';

describe('loader warms and internal hosts (real invalidator process)', () => {
  let loader: HttpStandIn;
  let internal: HttpStandIn;
  let inv: LoaderInvalidator;

  beforeAll(async () => {
    internal = await startStandIn('127.0.0.5', (_req, res) => answerJson(res, 1, { secret: 'internal' }));
    loader = await startStandIn('127.0.0.2', (req, res) => {
      // A loader that redirects to the internal host: redirects are never followed.
      if (req.path.startsWith('/redirect/')) return void res.writeHead(302, { location: `${internal.origin}/admin/x` }).end();
      answerJson(res, 1, { price: 1 });
    });
    // 127.0.0.5 written as one decimal number: the WHATWG parser reads it as 127.0.0.5.
    const decimal = 127 * 2 ** 24 + 5;
    inv = await startLoaderInvalidator(
      [
        loaderMapping('sec-allowed', `${loader.origin}/items/{entityId}`),
        loaderMapping('sec-internal', `${internal.origin}/admin/{entityId}`),
        loaderMapping('sec-decimal', `http://${decimal}:${internal.port}/admin/{entityId}`),
        loaderMapping('sec-metadata', 'http://169.254.169.254/latest/meta-data/{entityId}'),
        loaderMapping('sec-redirect', `${loader.origin}/redirect/{entityId}`),
      ],
      { LOADER_ALLOWED_HOSTS: '127.0.0.2', LOADER_TIMEOUT_MS: '1000', LOADER_RETRIES: '0' },
    );
  }, 90_000);

  afterAll(async () => {
    await inv?.close();
    await loader?.close();
    await internal?.close();
  });

  it('the allow-listed loader is reached and its answer lands at the event version', async () => {
    const id = uniqueName('ok');
    const warmed0 = await inv.warms('warmed');
    await inv.publishCommitted([entityEvent('sec-allowed', id, 1)]);
    await eventually('the allow-listed warm landed', async () => (await inv.warms('warmed')) > warmed0, 15_000);
    expect(loader.requests).toContain(`/items/${id}`);
    expect((await inv.protocol.inspect(`sec-allowed:${id}`)).entry?.version).toBe(1);
  });

  it('an internal IP (as written or as a decimal number), the metadata address and a redirect to an internal host: nothing fetched from them, nothing warmed', async () => {
    const id = uniqueName('int');
    const all0 = await inv.warms();
    const warmed0 = await inv.warms('warmed');
    const refusedAtResolve = ['sec-internal', 'sec-decimal', 'sec-metadata'];
    await inv.publishCommitted([...refusedAtResolve, 'sec-redirect'].map((type) => entityEvent(type, id, 3)));
    // the redirect's warm runs (the URL is allow-listed) and fails: the redirect is not followed
    await eventually('the redirect warm has an outcome', async () => (await inv.warms()) >= all0 + 1, 15_000);
    expect(loader.requests).toContain(`/redirect/${id}`);
    const redirect = await inv.protocol.inspect(`sec-redirect:${id}`);
    expect({ entry: redirect.entry, tombstone: redirect.tombstoneVersion }).toEqual({ entry: undefined, tombstone: 3 });
    // the other three never reach the loader sink: their parts are refused at resolve time (dead-lettered)
    for (const type of refusedAtResolve) {
      const seen = await inv.protocol.inspect(`${type}:${id}`);
      expect({ type, entry: seen.entry }).toEqual({ type, entry: undefined });
    }
    expect(internal.requests).toEqual([]);
    expect(await inv.warms('warmed')).toBe(warmed0);
  });
});
