// example-storefront over HTTP, reading through libs/cache-client on the real Redis, with
// example-catalog (real Kafka) as the truth. The invalidation step is done here exactly as the
// mapping file says (registry-core resolves examples/mappings/catalog.yaml for the catalog's real
// events, cache-protocol applies the effects), so a drift between the mapping's keys and the keys
// the storefront fills makes this test fail. The full chain with the invalidator app is the
// lead's cross-service test.
import { join } from 'node:path';
import { INestApplication } from '@nestjs/common';
import type Redis from 'ioredis';
import request from 'supertest';
import { EntityUpdated } from '@app/contracts';
import { CacheProtocol, KeyEffect } from '@app/cache-protocol';
import { loadMappingsYamlFile, MappingSetResolver } from '@app/registry-core';
import { createCatalogApp } from '../../examples/catalog/src/catalog.app';
import { freshDatabase, TestDatabase } from '../support/postgres';
import { createStorefrontApp } from '../../examples/storefront/src/storefront.app';
import { startTraffic, TrafficSummary } from '../../scripts/traffic';
import { metricsRegistry } from '@app/telemetry';
import { createTopic, eventually, kafka, redis, stackEnv, uniqueName } from '../support/stack-env';

/** Times the storefront's cache client called a loader (i.e. the catalog) so far. */
async function storefrontLoaderCalls(): Promise<number> {
  const metric = metricsRegistry().getSingleMetric('cache_client_loader_calls_total');
  const values = (await metric?.get())?.values ?? [];
  return values.filter((v) => v.labels.cache === 'storefront').reduce((sum, v) => sum + v.value, 0);
}

const MAPPINGS = join(__dirname, '..', '..', 'examples', 'mappings', 'catalog.yaml');

/** What the invalidator does with one event, per the catalog mapping (warm from `after`, delete, tag bump). */
async function invalidateAsMapped(protocol: CacheProtocol, resolver: MappingSetResolver, event: EntityUpdated): Promise<string[]> {
  const resolution = resolver.resolve(event);
  const effects: KeyEffect[] = resolution.keys.map((k) => {
    const tombstoneTtlMs = (k.tombstoneTtlSeconds ?? 60) * 1000;
    return k.action === 'warm' && k.value !== undefined
      ? { key: k.key, version: event.version, action: 'warm', tombstoneTtlMs, value: k.value, ttlMs: (k.ttlSeconds ?? 3600) * 1000 }
      : { key: k.key, version: event.version, action: k.action === 'delete' ? 'delete' : 'tombstone', tombstoneTtlMs };
  });
  await protocol.applyKeyEffects(effects);
  await protocol.invalidateTags(resolution.tags.map((tag) => ({ tag, version: event.version, tombstoneTtlMs: 60_000 })));
  return [...effects.map((e) => e.key), ...resolution.tags];
}

async function readEvents(topic: string, count: number): Promise<EntityUpdated[]> {
  const events: EntityUpdated[] = [];
  const consumer = kafka('e2e-storefront-reader').consumer({ groupId: uniqueName('storefront-reader'), maxWaitTimeInMs: 100 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void events.push(JSON.parse(String(message.value)) as EntityUpdated) });
    await eventually(`${count} catalog events`, () => events.length >= count, 20_000);
  } finally {
    await consumer.disconnect();
  }
  return events;
}

describe('example-storefront reads through the cache, with example-catalog as the truth', () => {
  let db: TestDatabase;
  let catalog: INestApplication;
  let storefront: INestApplication;
  let r: Redis;
  let topic: string;
  let catalogUrl: string;
  let storefrontUrl: string;

  beforeAll(async () => {
    db = await freshDatabase('storefront');
    topic = uniqueName('storefront-events');
    await createTopic(topic, 3);
    catalog = await createCatalogApp({
      KAFKA_BROKERS: stackEnv.kafkaBrokers.join(','),
      KAFKA_TOPIC: topic,
      DATABASE_URL: db.url,
      OUTBOX_POLL_MS: 50,
      LOG_LEVEL: 'silent',
    });
    await catalog.listen(0, '127.0.0.1');
    catalogUrl = await catalog.getUrl();
    r = redis();
    // L1 off: this test plays the invalidator itself (CacheProtocol, no bus announcements) and reads
    // right after; L1 + bus with the real invalidator are covered by test/cache/l1-bus.e2e-spec.ts.
    storefront = await createStorefrontApp(
      { CATALOG_URL: catalogUrl, LOADER_TIMEOUT_MS: 1000, LOG_LEVEL: 'silent', L1_ENABLED: false },
      { redis: r },
    );
    // Listening, for plain fetch (supertest would start one server per request under concurrency).
    await storefront.listen(0, '127.0.0.1');
    storefrontUrl = await storefront.getUrl();
  });

  afterAll(async () => {
    await storefront?.close();
    await catalog?.close();
    r?.disconnect();
    await db?.drop();
  });

  it('serves from Redis until the mapped invalidation, then the new price, category listings and tenant listing', async () => {
    const shop = uniqueName('shop'); // tenant; also prefixes ids so parallel runs never share keys
    const [mug, cup, kitchen, gifts] = [`${shop}-mug`, `${shop}-cup`, `${shop}-kitchen`, `${shop}-gifts`];
    const cat = () => request(catalog.getHttpServer());
    const sf = () => request(storefront.getHttpServer());
    await cat().post('/products').send({ id: mug, tenant: shop, name: 'Mug', price: 9.5, categoryId: kitchen }).expect(201);
    await cat().post('/products').send({ id: cup, tenant: shop, name: 'Cup', price: 4, categoryId: kitchen }).expect(201);

    expect((await sf().get(`/products/${mug}`).expect(200)).body).toMatchObject({ id: mug, price: 9.5, version: 1 });
    expect((await sf().get(`/categories/${kitchen}/products`).expect(200)).body.products.map((p: { id: string }) => p.id)).toEqual([
      cup,
      mug,
    ]);
    expect((await sf().get(`/tenants/${shop}/products`).expect(200)).body.products).toHaveLength(2);
    const protocol = new CacheProtocol(r);
    expect((await protocol.inspect(`product:${mug}`)).entry?.version).toBe(1);

    await cat().patch(`/products/${mug}`).send({ price: 12 }).expect(200);
    await cat().post(`/products/${mug}/move`).send({ categoryId: gifts }).expect(200);
    // The truth moved on; the storefront still answers from Redis (nothing invalidated yet).
    expect((await sf().get(`/products/${mug}`).expect(200)).body.version).toBe(1);
    expect((await sf().get(`/categories/${kitchen}/products`).expect(200)).body.products.map((p: { id: string }) => p.id)).toEqual([
      cup,
      mug,
    ]);

    const resolver = MappingSetResolver.compile(loadMappingsYamlFile(MAPPINGS));
    const events = (await readEvents(topic, 4)).filter((e) => e.entityId === mug);
    const touched: string[] = [];
    for (const event of events) touched.push(...(await invalidateAsMapped(protocol, resolver, event)));
    // The mapping names exactly the keys the storefront fills.
    expect(touched).toEqual(
      expect.arrayContaining([`product:${mug}`, `category:${kitchen}:products`, `category:${gifts}:products`, `tenant:${shop}:products`]),
    );

    expect((await sf().get(`/products/${mug}`).expect(200)).body).toMatchObject({ id: mug, price: 12, categoryId: gifts, version: 3 });
    expect((await protocol.inspect(`product:${mug}`)).entry?.version).toBe(3); // warmed from the event's `after`
    expect((await sf().get(`/categories/${kitchen}/products`).expect(200)).body.products.map((p: { id: string }) => p.id)).toEqual([cup]);
    expect((await sf().get(`/categories/${gifts}/products`).expect(200)).body.products.map((p: { id: string }) => p.id)).toEqual([mug]);
    const tenantListing = (await sf().get(`/tenants/${shop}/products`).expect(200)).body.products;
    expect(tenantListing.find((p: { id: string }) => p.id === mug)).toMatchObject({ price: 12, version: 3 });
  });

  it('answers 50 concurrent readers of a cold key with one catalog load and the same current version', async () => {
    const shop = uniqueName('shop');
    const id = `${shop}-lamp`;
    await request(catalog.getHttpServer())
      .post('/products')
      .send({ id, tenant: shop, name: 'Lamp', price: 30, categoryId: `${shop}-living` })
      .expect(201);
    const url = `${storefrontUrl}/products/${id}`;
    const loadsBefore = await storefrontLoaderCalls();
    const answers = await Promise.all(
      Array.from({ length: 50 }, async () => {
        const response = await fetch(url);
        return { status: response.status, body: (await response.json()) as { version: number; price: number } };
      }),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(50).fill(200));
    expect(new Set(answers.map((a) => `${a.body.version}/${a.body.price}`))).toEqual(new Set(['1/30']));
    expect((await storefrontLoaderCalls()) - loadsBefore).toBe(1);
  });

  it('carries the traffic generator: creates, changes and reads products without a failed request', async () => {
    const summaries: TrafficSummary[] = [];
    const run = startTraffic({
      catalogUrl,
      storefrontUrl,
      idPrefix: uniqueName('traffic'),
      products: 5,
      categories: 3,
      writesPerSecond: 20,
      readsPerSecond: 100,
      durationMs: 1_500,
      summaryIntervalMs: 500,
      onSummary: (s) => summaries.push(s),
    });
    const final = await run.done;
    expect(final).toMatchObject({ writeErrors: 0, readErrors: 0 });
    expect(final.writes).toBeGreaterThanOrEqual(20);
    expect(final.reads).toBeGreaterThanOrEqual(100);
    expect(summaries.length).toBeGreaterThanOrEqual(2); // periodic summaries, then the final one
    expect(summaries[summaries.length - 1]).toEqual(final);
  });

  it('refuses ids that would widen a key, 404s unknown products, and 503s when the truth is unreachable', async () => {
    const sf = () => request(storefront.getHttpServer());
    expect((await sf().get('/products/a*').expect(400)).body.code).toBe('INVALID_REQUEST');
    expect((await sf().get('/categories/x:y/products').expect(400)).body.code).toBe('INVALID_REQUEST');
    expect(
      (
        await sf()
          .get(`/products/${uniqueName('none')}`)
          .expect(404)
      ).body.code,
    ).toBe('PRODUCT_NOT_FOUND');

    const orphan = await createStorefrontApp(
      { CATALOG_URL: 'http://127.0.0.1:1', LOADER_TIMEOUT_MS: 500, LOG_LEVEL: 'silent' },
      { redis: r },
    );
    try {
      const down = await request(orphan.getHttpServer())
        .get(`/products/${uniqueName('cold')}`)
        .expect(503);
      expect(down.body.code).toBe('CATALOG_UNAVAILABLE');
    } finally {
      await orphan.close();
    }
  });
});
