// A loader's answer is hostile input too: a huge body must not blow up the invalidator's memory,
// and the version it claims must not freeze the key. A real invalidator process, real Kafka and
// Redis, a loader stand-in on 127.0.0.3 (the one allow-listed host).
import type { ServerResponse } from 'node:http';
import {
  answerJson,
  entityEvent,
  HttpStandIn,
  loaderMapping,
  LoaderInvalidator,
  startLoaderInvalidator,
  startStandIn,
} from '../support/loader-stand-in';
import { processMetric } from '../support/invalidator-env';
import { eventually, uniqueName } from '../support/stack-env';

const MiB = 1024 * 1024;
const HUGE = 200 * MiB;

/** Streams `total` bytes of JSON-ish filler, honouring backpressure, until done or the client goes away; resolves the bytes written. */
function streamHuge(res: ServerResponse, total: number, declareLength: boolean): Promise<number> {
  res.writeHead(200, {
    'content-type': 'application/json',
    'x-entity-version': '1',
    ...(declareLength ? { 'content-length': String(total) } : {}),
  });
  const chunk = Buffer.alloc(64 * 1024, 'x');
  let sent = 0;
  return new Promise((resolve) => {
    const done = () => resolve(sent);
    res.once('close', done);
    const pump = () => {
      while (sent < total && !res.destroyed) {
        const n = Math.min(chunk.length, total - sent);
        sent += n;
        if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void res.once('drain', pump);
      }
      if (sent >= total) res.end();
    };
    pump();
  });
}

describe('loader answers: bounded bodies, versions from the event (real invalidator process)', () => {
  let loader: HttpStandIn;
  let inv: LoaderInvalidator;
  const sentPerRequest: Promise<number>[] = [];
  const frozenAnswers = new Map<string, number>();

  beforeAll(async () => {
    loader = await startStandIn('127.0.0.3', (req, res) => {
      const [, kind, id] = req.path.split('/');
      if (kind === 'huge') return void sentPerRequest.push(streamHuge(res, HUGE, false));
      if (kind === 'huge-declared') return void sentPerRequest.push(streamHuge(res, HUGE, true));
      if (kind === 'frozen') {
        // The first answer claims the largest safe integer as its version; later ones are 404.
        const n = (frozenAnswers.get(id) ?? 0) + 1;
        frozenAnswers.set(id, n);
        return n === 1 ? answerJson(res, Number.MAX_SAFE_INTEGER, { price: 1 }) : void res.writeHead(404).end();
      }
      res.writeHead(404).end();
    });
    inv = await startLoaderInvalidator(
      [
        loaderMapping('ans-huge', `${loader.origin}/huge/{entityId}`),
        loaderMapping('ans-declared', `${loader.origin}/huge-declared/{entityId}`),
        loaderMapping('ans-frozen', `${loader.origin}/frozen/{entityId}`),
      ],
      // Long timeouts: a slow read must not be what stops the huge bodies.
      { LOADER_ALLOWED_HOSTS: '127.0.0.3', LOADER_TIMEOUT_MS: '30000', LOADER_RETRIES: '0' },
    );
  }, 90_000);

  afterAll(async () => {
    await inv?.close();
    await loader?.close();
  });

  it('a 200 MiB answer (streamed or with its Content-Length) is cut at LOADER_MAX_BODY_BYTES: outcome too-large, the key stays tombstoned, the RSS stays flat', async () => {
    const rss = () => processMetric(inv.proc.port, 'process_resident_memory_bytes');
    const rss0 = await rss();
    expect(rss0).toBeGreaterThan(0);
    const ids = [uniqueName('h1'), uniqueName('h2'), uniqueName('h3')];
    const all0 = await inv.warms();
    const tooLarge0 = await inv.warms('too-large');
    await inv.publishCommitted([...ids.map((id) => entityEvent('ans-huge', id, 1)), entityEvent('ans-declared', ids[0], 1)]);
    await eventually('every huge warm has an outcome', async () => (await inv.warms()) >= all0 + 4, 60_000, 200);
    const growth = (await rss()) - rss0;
    // Four 200 MiB answers read whole would add hundreds of MiB; cut at 1 MiB they add next to nothing.
    expect(growth).toBeLessThan(64 * MiB);
    expect((await inv.warms('too-large')) - tooLarge0).toBe(4);
    const sent = await Promise.all(sentPerRequest);
    expect(sent).toHaveLength(4);
    for (const bytes of sent) expect(bytes).toBeLessThan(HUGE / 4); // the client went away long before the end
    for (const key of [...ids.map((id) => `ans-huge:${id}`), `ans-declared:${ids[0]}`]) {
      const seen = await inv.protocol.inspect(key);
      expect({ key, entry: seen.entry, tombstone: seen.tombstoneVersion }).toEqual({ key, entry: undefined, tombstone: 1 });
    }
  });

  it('a loader claiming version 2^53-1 does not freeze the key: the value is stored at the event version, later events still invalidate it', async () => {
    const id = uniqueName('frozen');
    const key = `ans-frozen:${id}`;
    const warmed0 = await inv.warms('warmed');
    await inv.publishCommitted([entityEvent('ans-frozen', id, 2)]);
    await eventually('the warm landed', async () => (await inv.warms('warmed')) > warmed0, 15_000);
    expect((await inv.protocol.inspect(key)).entry?.version).toBe(2);

    const all0 = await inv.warms();
    await inv.publishCommitted([entityEvent('ans-frozen', id, 3)]);
    await eventually('the v3 warm has an outcome', async () => (await inv.warms()) > all0, 15_000);
    let seen = await inv.protocol.inspect(key);
    expect({ entry: seen.entry, tombstone: seen.tombstoneVersion }).toEqual({ entry: undefined, tombstone: 3 });

    const all1 = await inv.warms();
    await inv.publishCommitted([entityEvent('ans-frozen', id, 1_000_000)]);
    await eventually('the v1000000 warm has an outcome', async () => (await inv.warms()) > all1, 15_000);
    seen = await inv.protocol.inspect(key);
    expect({ entry: seen.entry, tombstone: seen.tombstoneVersion }).toEqual({ entry: undefined, tombstone: 1_000_000 });
  });
});
