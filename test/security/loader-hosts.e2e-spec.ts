// Loader warms reach only their team's hosts: a loaderUrl must name a host the operator allows
// (LOADER_ALLOWED_HOSTS lifts the refusal of internal addresses for named hosts only) and one of
// its team's loaderHosts. The registry refuses the cloud metadata address and an internal admin
// port (4xx naming the field); a mapping written straight to the topic is refused at resolve
// time: only its part is dead-lettered, the other mappings' keys are still invalidated, and the
// internal server it points at receives no request.
// (The metadata address itself is only ever sent to the registry here, never called: the
// resolve-time refusal of it is covered by the resolver's unit tests.)
import Redis from 'ioredis';
import type { Producer } from 'kafkajs';
import { CacheProtocol } from '@app/cache-protocol';
import { DLQ_HEADERS } from '@app/contracts';
import { readDeadLetters } from '../../apps/invalidator/src/cli/dlq-cli';
import { InvalidatorProcess, spawnInvalidator } from '../../scripts/support/invalidator-process';
import { productEvent, publish } from '../support/events';
import { committedVsEnd, fillVersion, invalidatorTestEnv, InvalidatorTestEnv } from '../support/invalidator-env';
import { answerJson, RecordingServer, startRecordingServer } from '../support/recording-http-server';
import { startTestRegistry, TestRegistry } from '../support/registry-env';
import { eventually, kafka, redis, uniqueName } from '../support/stack-env';

const CATALOG = { entityType: 'product', owner: 'catalog', keys: [{ template: 'product:{entityId}', action: 'tombstone' }], tags: [] };
const promoWarm = (loaderUrl: string) => ({
  entityType: 'product',
  owner: 'promo',
  keys: [{ template: 'promo:{entityId}', action: 'warm', warmFrom: { loaderUrl }, ttlSeconds: 60 }],
  tags: [],
});

describe('loader warms reach only allowed hosts of the team (registry + invalidator)', () => {
  let registry: TestRegistry;
  /** An internal service (e.g. an admin port) on this machine: no loader URL may reach it. */
  let internal: RecordingServer;
  /** promo's own loader, allow-listed by the operator and declared for promo. */
  let promoLoader: RecordingServer;
  let t: InvalidatorTestEnv;
  let proc: InvalidatorProcess;
  let producer: Producer;
  let r: Redis;

  beforeAll(async () => {
    internal = await startRecordingServer('127.0.0.1', answerJson(200, {}));
    promoLoader = await startRecordingServer('127.0.0.3', answerJson(200, { promo: true }));
    // The operator allows promo's loader host only; set the same value on the registry and the invalidator.
    registry = await startTestRegistry(['catalog', 'promo'], { LOADER_ALLOWED_HOSTS: '127.0.0.3' });
    await registry
      .http()
      .post('/keyspaces/apply')
      .set(registry.as('*'))
      .send({
        prefixes: [
          { prefix: 'product:', team: 'catalog' },
          { prefix: 'promo:', team: 'promo' },
        ],
        entityTypes: [
          { entityType: 'product', team: 'catalog', grants: ['promo'] },
          { entityType: 'campaign', team: 'promo' },
        ],
      })
      .expect(200);
    await registry
      .http()
      .put('/keyspaces/teams/promo')
      .set(registry.as('*'))
      .send({ loaderHosts: ['127.0.0.3'], purgeHosts: [], surrogateKeyPrefixes: [] });
    await registry.http().put('/mappings/catalog.product').set(registry.as('catalog')).send(CATALOG).expect(201);
    t = await invalidatorTestEnv({
      partitions: 1,
      extra: {
        MAPPINGS_SOURCE: 'kafka',
        KAFKA_MAPPINGS_TOPIC: registry.mappingsTopic,
        LOADER_ALLOWED_HOSTS: '127.0.0.3',
        LOADER_RETRIES: '0',
      },
    });
    producer = kafka('e2e-loader-hosts').producer();
    await producer.connect();
    r = redis();
  });

  afterAll(async () => {
    await producer?.disconnect();
    if (proc && proc.child.exitCode === null) await proc.terminate();
    await registry?.close();
    await internal?.close();
    await promoLoader?.close();
    r?.disconnect();
  });

  it('refuses the cloud metadata address and an internal admin port (400 naming the field)', async () => {
    // On an entity type no event of this test ever names: even a registry that wrongly stored
    // the mapping could never make the invalidator call these addresses.
    const attempts = [
      'http://169.254.169.254/latest/meta-data/{entityId}',
      `http://127.0.0.1:${internal.port}/admin/{entityId}`,
      'http://[::ffff:169.254.169.254]/x/{entityId}',
    ];
    for (const [i, loaderUrl] of attempts.entries()) {
      const res = await registry
        .http()
        .put(`/mappings/promo.metadata-${i}`)
        .set(registry.as('promo'))
        .send({ ...promoWarm(loaderUrl), entityType: 'campaign' });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'TEMPLATE_UNSAFE_URL', field: 'keys[0].warmFrom.loaderUrl' });
      await registry.http().get(`/mappings/promo.metadata-${i}`).set(registry.as('promo')).expect(404);
    }
  });

  it("refuses an allow-listed host that is not one of the team's loader hosts (403 naming the field); accepts the team's own", async () => {
    const res = await registry
      .http()
      .put('/mappings/catalog.loader')
      .set(registry.as('catalog'))
      .send({
        ...promoWarm(`http://127.0.0.3:${promoLoader.port}/p/{entityId}`),
        owner: 'catalog',
        keys: [
          {
            template: 'product:{entityId}:full',
            action: 'warm',
            warmFrom: { loaderUrl: `http://127.0.0.3:${promoLoader.port}/p/{entityId}` },
          },
        ],
      });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ code: 'FOREIGN_KEYSPACE', field: 'keys[0].warmFrom.loaderUrl' });
    expect(res.body.message).toContain('team "catalog" has no loader hosts');
    await registry
      .http()
      .put('/mappings/promo.loader')
      .set(registry.as('promo'))
      .send(promoWarm(`http://127.0.0.3:${promoLoader.port}/p/{entityId}`))
      .expect(201);
  });

  it('written straight to the topic, a loader URL to an internal port is refused at resolve time: the other keys are invalidated, the internal server receives nothing', async () => {
    const sneaky = {
      id: 'promo.sneaky',
      ...promoWarm(`http://127.0.0.1:${internal.port}/admin/{entityId}`),
      keys: [
        {
          template: 'promo:sneaky:{entityId}',
          action: 'warm',
          warmFrom: { loaderUrl: `http://127.0.0.1:${internal.port}/admin/{entityId}` },
          ttlSeconds: 60,
        },
      ],
      version: 1,
    };
    await producer.send({ topic: registry.mappingsTopic, acks: -1, messages: [{ key: sneaky.id, value: JSON.stringify(sneaky) }] });
    proc = await spawnInvalidator(t.env);
    const id = uniqueName('p');
    const protocol = new CacheProtocol(r);
    // Cached by readers at v1, so the warms have something to rewrite.
    for (const key of [`promo:${id}`, `promo:sneaky:${id}`]) await fillVersion(protocol, key, 1, '"old"');
    await publish(producer, t.topic, [productEvent(id, 4, { price: 4 })]);
    await eventually(
      'event committed',
      async () => {
        const { committed, end } = await committedVsEnd(t.groupId, t.topic);
        return end === 1 && committed === 1;
      },
      30_000,
      100,
    );
    expect((await protocol.inspect(`product:${id}`)).tombstoneVersion).toBe(4);
    // promo's allowed loader is called for its own key...
    await eventually("promo's own loader called", () => promoLoader.seen.some((q) => q.path === `/p/${id}`), 15_000, 100);
    // ...the sneaky mapping's part is left out whole: no request, its key untouched.
    expect(internal.seen).toEqual([]);
    expect((await protocol.inspect(`promo:sneaky:${id}`)).entry?.version).toBe(1);
    const letters = await readDeadLetters(kafka('e2e-loader-hosts-dlq'), t.dlqTopic, 30_000);
    expect(letters.map((l) => [String(l.headers[DLQ_HEADERS.mapping]), String(l.headers[DLQ_HEADERS.team])])).toEqual([
      ['promo.sneaky', 'promo'],
    ]);
    expect(String(letters[0].headers[DLQ_HEADERS.reason])).toMatch(
      /TEMPLATE_UNSAFE_URL.*keys\[0\]\.warmFrom\.loaderUrl.*127\.0\.0\.1 is a loopback address/,
    );
  });
});
