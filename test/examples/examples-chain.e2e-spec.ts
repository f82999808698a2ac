// The whole product, end to end over HTTP: example-catalog (write service, outbox -> Kafka) ->
// the invalidator app -> Redis <- example-storefront (read service, cache client). Once the
// invalidation is applied, the storefront never serves the old price or the old category
// listing, also while 50 concurrent readers hammer the same keys.
import { join } from 'node:path';
import { INestApplication } from '@nestjs/common';
import type Redis from 'ioredis';
import { createCatalogApp } from '../../examples/catalog/src/catalog.app';
import { freshDatabase, TestDatabase } from '../support/postgres';
import { createStorefrontApp } from '../../examples/storefront/src/storefront.app';
import { loadInvalidatorConfig } from '../../apps/invalidator/src/config/invalidator.config';
import { RunningInvalidator, startInvalidator } from '../../apps/invalidator/src/bootstrap';
import { loadMappingsYamlFile, MappingStore } from '@app/registry-core';
import { committedVsEnd, invalidatorTestEnv } from '../support/invalidator-env';
import { eventually, redis, stackEnv, uniqueName } from '../support/stack-env';
import type { Product } from '../../examples/support/product';

describe('catalog -> Kafka -> invalidator -> Redis <- storefront (full chain)', () => {
  let catalog: INestApplication;
  let db: TestDatabase;
  let storefront: INestApplication;
  let running: RunningInvalidator;
  let r: Redis;
  let catalogUrl: string;
  let storefrontUrl: string;
  let topic: string;
  let groupId: string;

  let registry: MappingStore;

  beforeAll(async () => {
    // The shop's mappings are registered through the registry's store (the compacted topic), as
    // `npm run mappings -- apply examples/mappings/catalog.yaml` does; the invalidator follows it.
    const mappingsTopic = uniqueName('cache-mappings');
    registry = new MappingStore({
      brokers: stackEnv.kafkaBrokers,
      topic: mappingsTopic,
      createTopic: true,
      clientId: 'e2e-chain-registry',
    });
    await registry.start();
    await registry.replaceAll(loadMappingsYamlFile(join(__dirname, '..', '..', 'examples', 'mappings', 'catalog.yaml')), { actor: 'e2e' });
    const t = await invalidatorTestEnv({ partitions: 3, extra: { MAPPINGS_SOURCE: 'kafka', KAFKA_MAPPINGS_TOPIC: mappingsTopic } });
    topic = t.topic;
    groupId = t.groupId;
    running = await startInvalidator(loadInvalidatorConfig(t.env));
    db = await freshDatabase('chain');
    catalog = await createCatalogApp({
      KAFKA_BROKERS: stackEnv.kafkaBrokers.join(','),
      KAFKA_TOPIC: topic,
      DATABASE_URL: db.url,
      OUTBOX_POLL_MS: 20,
      LOG_LEVEL: 'silent',
    });
    await catalog.listen(0, '127.0.0.1');
    catalogUrl = await catalog.getUrl();
    r = redis();
    storefront = await createStorefrontApp({ CATALOG_URL: catalogUrl, LOADER_TIMEOUT_MS: 2000, LOG_LEVEL: 'silent' }, { redis: r });
    await storefront.listen(0, '127.0.0.1');
    storefrontUrl = await storefront.getUrl();
  });

  afterAll(async () => {
    await storefront?.close();
    await catalog?.close();
    await db?.drop();
    await running?.close();
    await registry?.stop();
    r?.disconnect();
  });

  const json = async <T>(url: string, init?: RequestInit): Promise<T> => {
    const res = await fetch(url, init);
    if (!res.ok) throw new Error(`${init?.method ?? 'GET'} ${url}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  const send = (path: string, method: string, body: unknown) =>
    json<Product>(`${catalogUrl}${path}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const listing = async (category: string) =>
    (await json<{ products: Product[] }>(`${storefrontUrl}/categories/${category}/products`)).products.map((p) => p.id);

  it('never serves the old price or the old category listing once the invalidation is applied, under 50 concurrent readers', async () => {
    const shop = uniqueName('shop');
    const [id, kitchen, gifts] = [`${shop}-mug`, `${shop}-kitchen`, `${shop}-gifts`];
    await send('/products', 'POST', { id, tenant: shop, name: 'Mug', price: 10, categoryId: kitchen });
    // Warm the caches with the old state.
    expect((await json<Product>(`${storefrontUrl}/products/${id}`)).price).toBe(10);
    expect(await listing(kitchen)).toEqual([id]);
    expect(await listing(gifts)).toEqual([]);

    let appliedAt = Infinity;
    let hammering = true;
    const staleAfterApplied: string[] = [];
    let readsAfterApplied = 0;
    const reader = async (n: number) => {
      while (hammering) {
        const startedAt = Date.now();
        const which = n % 3;
        if (which === 0) {
          const p = await json<Product>(`${storefrontUrl}/products/${id}`);
          if (startedAt > appliedAt) {
            readsAfterApplied += 1;
            if (p.price !== 20 || p.categoryId !== gifts) staleAfterApplied.push(`product v${p.version} price ${p.price}`);
          }
        } else {
          const category = which === 1 ? kitchen : gifts;
          const ids = await listing(category);
          if (startedAt > appliedAt) {
            readsAfterApplied += 1;
            const wrong = category === kitchen ? ids.includes(id) : !ids.includes(id);
            if (wrong) staleAfterApplied.push(`${category} listing ${JSON.stringify(ids)}`);
          }
        }
      }
    };
    const readers = Array.from({ length: 50 }, (_, n) => reader(n));
    try {
      await send(`/products/${id}`, 'PATCH', { price: 20 });
      await send(`/products/${id}/move`, 'POST', { categoryId: gifts });
      await eventually('both events published by the outbox', async () => (await committedVsEnd(groupId, topic)).end >= 3, 20_000);
      await eventually(
        'the invalidator applied and committed them',
        async () => {
          const { committed, end } = await committedVsEnd(groupId, topic);
          return committed === end;
        },
        20_000,
        20,
      );
      appliedAt = Date.now();
      await eventually('many reads after the invalidation', () => readsAfterApplied >= 300, 30_000);
    } finally {
      hammering = false;
      await Promise.allSettled(readers);
    }
    expect(staleAfterApplied.slice(0, 5)).toEqual([]);
    expect(await json<Product>(`${storefrontUrl}/products/${id}`)).toMatchObject({ price: 20, categoryId: gifts, version: 3 });
  });
});
