// One team's loader cannot starve another's warms, and a circuit breaker's trial always ends.
// A real invalidator process, real Kafka and Redis, three loader stand-ins (one host per team:
// the pipeline gives warms no team yet, so shares fall back to the loader URL's host):
//   127.0.0.2  team A: slow, holds every request (not failing)
//   127.0.0.3  team B: answers at once
//   127.0.0.4  team C: 503 until its circuit opens, then 404 once (the half-open trial), then 200
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
import { eventually, uniqueName } from '../support/stack-env';

describe('loader warms: fair shares and breaker trials (real invalidator process)', () => {
  let slowA: HttpStandIn;
  let fastB: HttpStandIn;
  let flakyC: HttpStandIn;
  let inv: LoaderInvalidator;
  const held: ServerResponse[] = [];
  let cMode: '503' | '404-once' | 'ok' = '503';

  beforeAll(async () => {
    slowA = await startStandIn('127.0.0.2', (_req, res) => void held.push(res));
    fastB = await startStandIn('127.0.0.3', (_req, res) => answerJson(res, 1, { team: 'b' }));
    flakyC = await startStandIn('127.0.0.4', (_req, res) => {
      if (cMode === '503') return void res.writeHead(503).end();
      if (cMode === '404-once') {
        cMode = 'ok';
        return void res.writeHead(404).end();
      }
      answerJson(res, 1, { team: 'c' });
    });
    inv = await startLoaderInvalidator(
      [
        loaderMapping('fair-a', `${slowA.origin}/slow/{entityId}`, 'team-a'),
        loaderMapping('fair-b', `${fastB.origin}/items/{entityId}`, 'team-b'),
        loaderMapping('fair-c', `${flakyC.origin}/items/{entityId}`, 'team-c'),
      ],
      {
        LOADER_ALLOWED_HOSTS: '127.0.0.2,127.0.0.3,127.0.0.4',
        LOADER_MAX_PENDING: '60',
        LOADER_MAX_PENDING_PER_TEAM: '20',
        LOADER_CONCURRENCY_PER_MAPPING: '2',
        // A's answers never come while the test runs: slow, not failing.
        LOADER_TIMEOUT_MS: '60000',
        LOADER_RETRIES: '0',
        LOADER_BREAKER_FAILURES: '2',
        LOADER_BREAKER_OPEN_MS: '500',
      },
    );
  }, 90_000);

  afterAll(async () => {
    await inv?.close();
    await Promise.all([slowA, fastB, flakyC].map((s) => s?.close()));
  });

  const landed = async (keys: string[]) =>
    (await Promise.all(keys.map((k) => inv.protocol.inspect(k)))).filter((s) => s.entry?.version === 1).length;

  it('a 4xx during the half-open trial ends the trial: the host is called again and its warms land', async () => {
    const id = uniqueName('c');
    // Two 503s: the circuit opens.
    await inv.publishCommitted([entityEvent('fair-c', `${id}-0`, 1), entityEvent('fair-c', `${id}-1`, 1)]);
    await eventually('two failures from C', async () => flakyC.requests.length === 2 && (await inv.warms('failed')) >= 2, 15_000);
    // Once the circuit is half-open, the one trial gets a 404 (the host answered).
    cMode = '404-once';
    let n = 2;
    await eventually(
      'the half-open trial reached C',
      async () => {
        if (flakyC.requests.length > 2) return true;
        await inv.publishCommitted([entityEvent('fair-c', `${id}-${n++}`, 1)]);
        return flakyC.requests.length > 2;
      },
      15_000,
      100,
    );
    expect(cMode).toBe('ok');
    const after = Array.from({ length: 5 }, (_, i) => `${id}-after-${i}`);
    await inv.publishCommitted(after.map((a) => entityEvent('fair-c', a, 1)));
    await eventually('the five warms after the trial landed', async () => (await landed(after.map((a) => `fair-c:${a}`))) === 5, 15_000);
  });

  it("a slow loader of team A fills its own share only: team B's warms still land", async () => {
    const a = Array.from({ length: 100 }, (_, i) => uniqueName(`a${i}`));
    const dropped0 = await inv.warms('dropped');
    await inv.publishCommitted(a.map((id) => entityEvent('fair-a', id, 1)));
    await eventually('A holds its concurrency', () => held.length === 2, 15_000);
    const b = Array.from({ length: 10 }, (_, i) => uniqueName(`b${i}`));
    await inv.publishCommitted(b.map((id) => entityEvent('fair-b', id, 1)));
    await eventually('every warm of team B landed', async () => (await landed(b.map((id) => `fair-b:${id}`))) === 10, 15_000);
    expect(fastB.requests).toHaveLength(10);
    // A's warms over its share (20 pending) were dropped: the keys stay invalidated.
    expect((await inv.warms('dropped')) - dropped0).toBe(80);
    expect(held).toHaveLength(2);
  });
});
