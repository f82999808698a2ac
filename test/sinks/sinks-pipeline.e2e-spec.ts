// The other sinks through the running invalidator: real Kafka and Redis, the example
// catalog (write service + loader) and storefront (read service) as in-process Nest apps, and a
// real Varnish with xkey (the stack tool) in front of the storefront. One mapping uses all three:
//   keys: product:{entityId} warmed from the catalog's GET /products/{entityId} (loader URL)
//   tags: product:{entityId}, purged by surrogate key (`purge: { tags: true }`) on the Varnish
//   namespaces: pricing:{tenant}: (bumped once per entity version)
// Order matters (one invalidator, one partition): loader warm, namespace bump, Varnish purge,
// Varnish down (PURGE_FAILED), catalog down (keys stay invalidated, the partition moves on).
import { writeFileSync } from 'node:fs';
import { INestApplication } from '@nestjs/common';
import type Redis from 'ioredis';
import type { Producer } from 'kafkajs';
import { stringify } from 'yaml';
import { CacheClient } from '@app/cache-client';
import { CacheProtocol } from '@app/cache-protocol';
import { EntityUpdated } from '@app/contracts';
import { INVALIDATOR_METRIC_NAMES, metricsRegistry } from '@app/telemetry';
import { createCatalogApp } from '../../examples/catalog/src/catalog.app';
import { freshDatabase, TestDatabase } from '../support/postgres';
import { createStorefrontApp } from '../../examples/storefront/src/storefront.app';
import { loadInvalidatorConfig } from '../../apps/invalidator/src/config/invalidator.config';
import { RunningInvalidator, startInvalidator } from '../../apps/invalidator/src/bootstrap';
import { runDlqCli } from '../../apps/invalidator/src/cli/dlq-cli';
import { publish } from '../support/events';
import { committedVsEnd, invalidatorTestEnv, InvalidatorTestEnv } from '../support/invalidator-env';
import { eventually, kafka, redis, stackEnv, uniqueName } from '../support/stack-env';
import { startTestVarnish, TestVarnish } from '../support/varnish';
import type { Product } from '../../examples/support/product';

const PURGE_DEADLINE_MS = 1_500;

/** Sum of an invalidator counter's samples whose labels include `labels` (the in-process invalidator's registry). */
async function counter(name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = metricsRegistry().getSingleMetric(name);
  const values = (await metric?.get())?.values ?? [];
  return values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((sum, v) => sum + v.value, 0);
}

describe('the other sinks through the running invalidator (catalog loader, namespaces, Varnish purge)', () => {
  let t: InvalidatorTestEnv;
  let catalog: INestApplication;
  let db: TestDatabase;
  let storefront: INestApplication;
  let running: RunningInvalidator;
  let varnish: TestVarnish;
  let r: Redis;
  let producer: Producer;
  let protocol: CacheProtocol;
  let catalogUrl: string;
  let storefrontUrl: string;
  const tenant = uniqueName('shop');
  const id = uniqueName('mug');
  const namespace = `pricing:${tenant}:`;

  beforeAll(async () => {
    t = await invalidatorTestEnv({ partitions: 1 });
    db = await freshDatabase('sinks');
    catalog = await createCatalogApp({
      KAFKA_BROKERS: stackEnv.kafkaBrokers.join(','),
      KAFKA_TOPIC: t.topic,
      DATABASE_URL: db.url,
      OUTBOX_POLL_MS: 20,
      LOG_LEVEL: 'silent',
    });
    await catalog.listen(0, '127.0.0.1');
    catalogUrl = await catalog.getUrl();
    const catalogPort = new URL(catalogUrl).port;
    r = redis();
    protocol = new CacheProtocol(r);
    storefront = await createStorefrontApp({ CATALOG_URL: catalogUrl, LOADER_TIMEOUT_MS: 2000, LOG_LEVEL: 'silent' }, { redis: r });
    await storefront.listen(0, '127.0.0.1');
    storefrontUrl = await storefront.getUrl();
    varnish = await startTestVarnish(Number(new URL(storefrontUrl).port));
    writeFileSync(
      t.mappingsFile,
      stringify({
        mappings: [
          {
            id: 'shop.product',
            entityType: 'product',
            owner: 'catalog',
            description: 'product page warmed from the catalog; its page purged by surrogate key; the tenant pricing namespace bumped',
            keys: [
              {
                template: 'product:{entityId}',
                action: 'warm',
                warmFrom: { loaderUrl: `http://127.0.0.1:${catalogPort}/products/{entityId}` },
                ttlSeconds: 3600,
                tombstoneTtlSeconds: 600,
              },
              { template: 'category:{after.categoryId}:products', action: 'delete' },
            ],
            tags: ['product:{entityId}'],
            namespaces: ['pricing:{tenant}:'],
            purge: { tags: true },
          },
        ],
      }),
    );
    running = await startInvalidator(
      loadInvalidatorConfig({
        ...t.env,
        PURGE_TARGETS: `varnish:${varnish.url}`,
        PURGE_DEADLINE_MS: String(PURGE_DEADLINE_MS),
        PURGE_TIMEOUT_MS: '300',
        PURGE_BACKOFF_MS: '50',
        LOADER_TIMEOUT_MS: '500',
        LOADER_RETRIES: '1',
        LOADER_BACKOFF_MS: '20',
        // The catalog (the loader) listens on loopback, refused by default: allow-listed as an operator would.
        LOADER_ALLOWED_HOSTS: '127.0.0.1',
        // Remember only the last applied event, so a replay reaches the namespace bump's own guard
        // instead of being dropped by the dedupe step.
        DEDUP_MEMORY: '1',
      }),
    );
    producer = kafka('e2e-sinks-producer').producer();
    await producer.connect();
  }, 120_000);

  afterAll(async () => {
    await producer?.disconnect();
    await running?.close();
    await varnish?.stop().catch(() => undefined);
    await storefront?.close();
    await catalog?.close().catch(() => undefined);
    await db?.drop();
    r?.disconnect();
  });

  const send = async (path: string, method: string, body: unknown): Promise<Product> => {
    const res = await fetch(`${catalogUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as Product;
  };
  const read = async (base: string, path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${base}${path}`, { headers });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Product) : undefined, headers: res.headers };
  };
  /** Waits until the outbox published `events` more records and the invalidator committed them all. */
  const allCommitted = async (endAtLeast: number, timeoutMs = 20_000): Promise<number> => {
    await eventually(
      `the invalidator committed up to ${endAtLeast}`,
      async () => {
        const { committed, end } = await committedVsEnd(t.groupId, t.topic);
        return end >= endAtLeast && committed === end;
      },
      timeoutMs,
      20,
    );
    return Date.now();
  };
  const endOffset = async () => (await committedVsEnd(t.groupId, t.topic)).end;

  it('warm from the source: after a price change the storefront reads a hit with the new price (the catalog is the loader)', async () => {
    const warmed0 = await counter(INVALIDATOR_METRIC_NAMES.loaderWarms, { outcome: 'warmed' });
    await send('/products', 'POST', { id, tenant, name: 'Mug', price: 10, categoryId: 'kitchen' });
    await eventually(
      'v1 warmed from the catalog',
      async () => (await counter(INVALIDATOR_METRIC_NAMES.loaderWarms, { outcome: 'warmed' })) >= warmed0 + 1,
      20_000,
    );
    const first = await read(storefrontUrl, `/products/${id}`);
    expect(first.body).toMatchObject({ price: 10, version: 1 });
    expect(first.headers.get('x-storefront-cache')).toBe('hit');

    await send(`/products/${id}`, 'PATCH', { price: 20 });
    await eventually(
      'v2 warmed from the catalog',
      async () => (await counter(INVALIDATOR_METRIC_NAMES.loaderWarms, { outcome: 'warmed' })) >= warmed0 + 2,
      20_000,
    );
    const next = await read(storefrontUrl, `/products/${id}`);
    expect(next.body).toMatchObject({ id, price: 20, version: 2 });
    expect(next.headers.get('x-storefront-cache')).toBe('hit');
    expect(next.headers.get('etag')).toBe('W/"v2"');
  });

  it('namespace bumps from events: readers of the namespace miss after the event; a replayed event does not bump again', async () => {
    const reader = new CacheClient(r, { name: 'e2e-pricing-reader', namespaces: [namespace] });
    let loads = 0;
    const get = () => reader.getOrLoad(`${namespace}price-list`, async () => ({ value: { load: ++loads }, version: 0 }), { ttlMs: 60_000 });
    await get();
    await get();
    expect(loads).toBe(1);
    const generation0 = await protocol.namespaceGeneration(namespace);

    const end0 = await endOffset();
    const v3 = await send(`/products/${id}`, 'PATCH', { price: 25 });
    await allCommitted(end0 + 1);
    const generation1 = await protocol.namespaceGeneration(namespace);
    expect(generation1).toBeGreaterThan(generation0);
    await get();
    expect(loads).toBe(2); // a miss: everything under the namespace is gone
    await get();
    expect(loads).toBe(2);

    // Replays: the same version again (a new event id, so not deduplicated by id) and an older one.
    const skipped0 = await counter(INVALIDATOR_METRIC_NAMES.namespaceBumps, { outcome: 'skipped' });
    const replay = (version: number, price: number): EntityUpdated => ({
      eventId: uniqueName('replay'),
      entityType: 'product',
      entityId: id,
      version,
      occurredAt: new Date().toISOString(),
      tenant,
      after: { ...v3, version, price },
    });
    const end1 = await endOffset();
    // Another entity first: the dedupe memory (DEDUP_MEMORY=1) forgets v3.
    const otherTenant = uniqueName('other-shop');
    await publish(producer, t.topic, [
      {
        ...replay(1, 1),
        entityId: uniqueName('other'),
        tenant: otherTenant,
        after: { id: 'other', tenant: otherTenant, name: 'Other', price: 1, categoryId: 'kitchen', version: 1 },
      },
    ]);
    await allCommitted(end1 + 1);
    await publish(producer, t.topic, [replay(3, 25)]);
    await allCommitted(end1 + 2);
    await publish(producer, t.topic, [replay(2, 20)]);
    await allCommitted(end1 + 3);
    expect(await protocol.namespaceGeneration(namespace)).toBe(generation1);
    expect(await counter(INVALIDATOR_METRIC_NAMES.namespaceBumps, { outcome: 'skipped' })).toBeGreaterThanOrEqual(skipped0 + 2);
    await get();
    expect(loads).toBe(2); // still a hit
    await reader.close();
    // The replays did not move the product back either (version-guarded).
    expect((await read(storefrontUrl, `/products/${id}`)).body).toMatchObject({ price: 25, version: 3 });
  });

  it('CDN purge by surrogate key: the page through Varnish shows the new price after the event', async () => {
    const path = `/products/${id}`;
    const miss = await read(varnish.url, path);
    expect(miss.body).toMatchObject({ price: 25, version: 3 });
    expect(miss.headers.get('surrogate-key')).toBe(`product:${id}`);
    expect(miss.headers.get('cache-control')).toMatch(/max-age=\d+.*stale-while-revalidate=\d+/);
    const hit = await read(varnish.url, path);
    expect(hit.headers.get('x-cache')).toBe('HIT');
    expect(hit.headers.get('x-varnish')).toMatch(/^\d+ \d+$/); // request id + the id of the cached object
    expect(hit.headers.get('age')).not.toBeNull();
    expect((await read(varnish.url, path, { 'if-none-match': 'W/"v3"' })).status).toBe(304);

    const purged0 = await counter(INVALIDATOR_METRIC_NAMES.purges, { outcome: 'purged' });
    const end0 = await endOffset();
    await send(path, 'PATCH', { price: 40 });
    await allCommitted(end0 + 1);
    // The Varnish object would live for s-maxage (300 s): only the purge by tag makes this pass.
    await eventually('the new price through Varnish', async () => (await read(varnish.url, path)).body?.price === 40, 5_000);
    const fresh = await read(varnish.url, path);
    expect(fresh.body).toMatchObject({ price: 40, version: 4 });
    expect(fresh.headers.get('etag')).toBe('W/"v4"');
    expect(await counter(INVALIDATOR_METRIC_NAMES.purges, { outcome: 'purged' })).toBeGreaterThan(purged0);
  });

  it('purge failure (Varnish stopped): Redis is still invalidated, the commit waits at most PURGE_DEADLINE_MS, a PURGE_FAILED dead letter is written', async () => {
    await varnish.stop();
    const failed0 = await counter(INVALIDATOR_METRIC_NAMES.purges, { outcome: 'failed' });
    const end0 = await endOffset();
    const started = Date.now();
    await send(`/products/${id}`, 'PATCH', { price: 50 });
    const committedAt = await allCommitted(end0 + 1);
    // Outbox + apply + the purge deadline + the dead letter, with slack for a loaded machine.
    expect(committedAt - started).toBeLessThan(PURGE_DEADLINE_MS + 4_000);
    expect((await read(storefrontUrl, `/products/${id}`)).body).toMatchObject({ price: 50, version: 5 });
    expect(await counter(INVALIDATOR_METRIC_NAMES.purges, { outcome: 'failed' })).toBeGreaterThan(failed0);

    const out: string[] = [];
    const code = await runDlqCli(['list', '--reason', 'PURGE_FAILED', '--timeout-ms', '20000'], {
      env: { KAFKA_BROKERS: stackEnv.kafkaBrokers.join(','), KAFKA_DLQ_TOPIC: t.dlqTopic },
      out: (s) => out.push(s),
      err: (s) => out.push(s),
    });
    expect(code).toBe(0);
    expect(out.join('\n')).toContain('PURGE_FAILED');
  });

  it('loader down (catalog stopped): the key stays invalidated at the event version, failures counted, the partition keeps moving', async () => {
    await catalog.close();
    const notWarmed = async () =>
      (await counter(INVALIDATOR_METRIC_NAMES.loaderWarms, { outcome: 'failed' })) +
      (await counter(INVALIDATOR_METRIC_NAMES.loaderWarms, { outcome: 'timeout' })) +
      (await counter(INVALIDATOR_METRIC_NAMES.loaderWarms, { outcome: 'circuit-open' }));
    const failed0 = await notWarmed();
    const end0 = await endOffset();
    const event = (entityId: string, version: number): EntityUpdated => ({
      eventId: uniqueName('down'),
      entityType: 'product',
      entityId,
      version,
      occurredAt: new Date().toISOString(),
      tenant,
      after: { id: entityId, tenant, name: 'Mug', price: 60, categoryId: 'kitchen', version },
    });
    await publish(producer, t.topic, [event(id, 6)]);
    await allCommitted(end0 + 1);
    await eventually('the loader warm failed', async () => (await notWarmed()) > failed0, 10_000);
    const got = await protocol.leaseGet(`product:${id}`, { leaseTtlMs: 1_000 });
    expect(got.kind).toBe('miss');
    expect(got.kind === 'miss' && got.tombstoneVersion).toBe(6);
    // The partition keeps moving.
    await publish(producer, t.topic, [event(uniqueName('other'), 1), event(id, 7)]);
    await allCommitted(end0 + 3);
  });
});
