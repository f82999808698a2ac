// CDN purges stay inside their team: a mapping's purge URLs must name a host of its team's
// purgeHosts (and never a host like ".."), its purged tags (surrogate keys) must lie in its
// team's surrogateKeyPrefixes. The registry refuses such mappings (4xx naming the field); a
// mapping written straight to the topic is refused by the invalidator at resolve time: only its
// part is dead-lettered, the CDN stand-in receives nothing for it while the owner's purge goes out.
// Real registry (in-process), real invalidator process, real Kafka and Redis, a local CDN stand-in.
import type { Producer } from 'kafkajs';
import { DLQ_HEADERS } from '@app/contracts';
import { readDeadLetters } from '../../apps/invalidator/src/cli/dlq-cli';
import { InvalidatorProcess, spawnInvalidator } from '../../scripts/support/invalidator-process';
import { productEvent, publish } from '../support/events';
import { committedVsEnd, invalidatorTestEnv, InvalidatorTestEnv } from '../support/invalidator-env';
import { answerJson, RecordingServer, startRecordingServer } from '../support/recording-http-server';
import { startTestRegistry, TestRegistry } from '../support/registry-env';
import { eventually, kafka, uniqueName } from '../support/stack-env';

const CATALOG_PAGES = {
  entityType: 'product',
  owner: 'catalog',
  keys: [{ template: 'product:{entityId}', action: 'tombstone' }],
  tags: ['product:{entityId}'],
  purge: { tags: true, urls: ['https://shop.example/products/{entityId}'] },
};
const PROMO_OWN = {
  entityType: 'product',
  owner: 'promo',
  keys: [{ template: 'promo:{entityId}', action: 'delete' }],
  tags: ['promo:{entityId}'],
};

describe('CDN purge stays inside its team (registry + invalidator)', () => {
  let registry: TestRegistry;
  let cdn: RecordingServer;
  let t: InvalidatorTestEnv;
  let proc: InvalidatorProcess;
  let producer: Producer;

  beforeAll(async () => {
    registry = await startTestRegistry(['catalog', 'promo']);
    const admin = registry.as('*');
    await registry
      .http()
      .post('/keyspaces/apply')
      .set(admin)
      .send({
        prefixes: [
          { prefix: 'product:', team: 'catalog' },
          { prefix: 'promo:', team: 'promo' },
        ],
        entityTypes: [{ entityType: 'product', team: 'catalog', grants: ['promo'] }],
      })
      .expect(200);
    cdn = await startRecordingServer('127.0.0.2', answerJson(200, {}));
    t = await invalidatorTestEnv({
      partitions: 1,
      extra: {
        MAPPINGS_SOURCE: 'kafka',
        KAFKA_MAPPINGS_TOPIC: registry.mappingsTopic,
        PURGE_TARGETS: `varnish:${cdn.url}`,
        PURGE_DEADLINE_MS: '2000',
      },
    });
    producer = kafka('e2e-purge-escape').producer();
    await producer.connect();
  });

  afterAll(async () => {
    await producer?.disconnect();
    if (proc && proc.child.exitCode === null) await proc.terminate();
    await registry?.close();
    await cdn?.close();
  });

  it('refuses a purge URL whose host is ".." (400 naming the field), keyspaces or not', async () => {
    const res = await registry
      .http()
      .put('/mappings/promo.dots')
      .set(registry.as('promo'))
      .send({ ...PROMO_OWN, purge: { tags: false, urls: ['http://../purge/{entityId}'] } });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'TEMPLATE_UNSAFE_URL', field: 'purge.urls[0]' });
    expect(res.body.message).toContain('".."');
    await registry.http().get('/mappings/promo.dots').set(registry.as('promo')).expect(404);
  });

  it("no team record = no purge: a purge is refused until an admin declares the team's purge hosts and surrogate-key prefixes", async () => {
    const res = await registry.http().put('/mappings/catalog.pages').set(registry.as('catalog')).send(CATALOG_PAGES);
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ code: 'FOREIGN_KEYSPACE', field: 'purge.urls[0]' });
    // Team records: admin only, shown to any team.
    expect(
      (
        await registry
          .http()
          .put('/keyspaces/teams/catalog')
          .set(registry.as('catalog'))
          .send({ purgeHosts: ['shop.example'] })
      ).body.code,
    ).toBe('ADMIN_ONLY');
    await registry
      .http()
      .put('/keyspaces/teams/catalog')
      .set(registry.as('*'))
      .send({ loaderHosts: [], purgeHosts: ['shop.example', '*.shop.example'], surrogateKeyPrefixes: ['product:'] })
      .expect(201);
    await registry
      .http()
      .put('/keyspaces/teams/promo')
      .set(registry.as('*'))
      .send({ loaderHosts: [], purgeHosts: ['promo.example'], surrogateKeyPrefixes: ['promo:pages:'] })
      .expect(201);
    const overlap = await registry
      .http()
      .put('/keyspaces/teams/promo')
      .set(registry.as('*'))
      .send({ purgeHosts: ['promo.example'], surrogateKeyPrefixes: ['product:promo:'] });
    expect(overlap.status).toBe(409);
    expect(overlap.body.message).toContain('surrogate-key prefix "product:promo:" of team "promo" overlaps "product:" of team "catalog"');
    const view = (await registry.http().get('/keyspaces/teams/catalog').set(registry.as('promo')).expect(200)).body;
    expect(view).toMatchObject({
      kind: 'team',
      team: 'catalog',
      purgeHosts: ['*.shop.example', 'shop.example'],
      surrogateKeyPrefixes: ['product:'],
    });
    await registry.http().put('/mappings/catalog.pages').set(registry.as('catalog')).send(CATALOG_PAGES).expect(201);
  });

  it("refuses purge URLs outside the team's purgeHosts and purged tags outside its surrogate-key prefixes (403 naming the field)", async () => {
    const url = await registry
      .http()
      .put('/mappings/promo.escape')
      .set(registry.as('promo'))
      .send({
        ...PROMO_OWN,
        purge: { tags: false, urls: ['https://promo.example/p/{entityId}', 'https://shop.example/products/{entityId}'] },
      });
    expect(url.status).toBe(403);
    expect(url.body).toMatchObject({ code: 'FOREIGN_KEYSPACE', field: 'purge.urls[1]' });
    expect(url.body.message).toContain('host "shop.example" is not one of team "promo"\'s purge hosts');
    const tags = await registry
      .http()
      .put('/mappings/promo.escape')
      .set(registry.as('promo'))
      .send({ ...PROMO_OWN, purge: { tags: true } });
    expect(tags.status).toBe(403);
    expect(tags.body).toMatchObject({ code: 'FOREIGN_KEYSPACE', field: 'purge.tags' });
    // Inside its own hosts and prefixes: accepted.
    await registry
      .http()
      .put('/mappings/promo.pages')
      .set(registry.as('promo'))
      .send({
        ...PROMO_OWN,
        id: undefined,
        tags: ['promo:pages:{entityId}'],
        purge: { tags: true, urls: ['https://promo.example/p/{entityId}'] },
      })
      .expect(201);
  });

  it('written straight to the topic, an escaping purge is refused at resolve time: its part is dead-lettered, the CDN stand-in receives nothing for it', async () => {
    const escape = {
      id: 'promo.escape',
      ...PROMO_OWN,
      keys: [{ template: 'promo:escape:{entityId}', action: 'delete' }],
      tags: ['promo:{entityId}'],
      purge: { tags: true, urls: ['https://shop.example/products/{entityId}', 'http://../x/{entityId}'] },
      version: 1,
    };
    await producer.send({ topic: registry.mappingsTopic, acks: -1, messages: [{ key: escape.id, value: JSON.stringify(escape) }] });
    proc = await spawnInvalidator(t.env);
    const id = uniqueName('p');
    await publish(producer, t.topic, [productEvent(id, 3, { price: 3 })]);
    await eventually(
      'event committed',
      async () => {
        const { committed, end } = await committedVsEnd(t.groupId, t.topic);
        return end === 1 && committed === 1;
      },
      30_000,
      100,
    );
    // The legit purges went out: catalog's tag and URL, promo.pages' own tag and URL...
    const surrogateKeys = cdn.seen.flatMap((r) =>
      String(r.headers['xkey-purge'] ?? '')
        .split(' ')
        .filter(Boolean),
    );
    const urls = cdn.seen
      .filter((r) => r.headers['x-purge-host'] !== undefined)
      .map((r) => `${String(r.headers['x-purge-host'])}${r.path}`);
    expect(surrogateKeys.sort()).toEqual([`product:${id}`, `promo:pages:${id}`]);
    // ...nothing of promo.escape's: not its tag "promo:<id>", not its ".." URL, and catalog's URL only once (for catalog).
    expect(urls.sort()).toEqual([`promo.example/p/${id}`, `shop.example/products/${id}`]);
    const letters = await readDeadLetters(kafka('e2e-purge-escape-dlq'), t.dlqTopic, 30_000);
    expect(
      letters.map((l) => [
        String(l.headers[DLQ_HEADERS.reasonCode]),
        String(l.headers[DLQ_HEADERS.mapping]),
        String(l.headers[DLQ_HEADERS.team]),
      ]),
    ).toEqual([['UNRESOLVABLE', 'promo.escape', 'promo']]);
    expect(String(letters[0].headers[DLQ_HEADERS.reason])).toMatch(/TEMPLATE_UNSAFE_URL.*purge\.urls\[1\]/);
  });
});
