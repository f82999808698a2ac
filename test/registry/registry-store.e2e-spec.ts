// The mapping store against the real Kafka broker: a MappingStore as a running invalidator holds
// it (its own instance, following the compacted topic) sees registry changes within a bounded
// time and in order, a new instance has the whole set before it says ready, and records no
// registry would write (not JSON, bad template) never replace a working mapping.
import { INestApplication } from '@nestjs/common';
import request from 'supertest';
import type { EntityUpdated } from '@app/contracts';
import { createLogger } from '@app/telemetry';
import { loadMappingsYamlFile, Mapping, MappingStore } from '@app/registry-core';
import { createRegistryApp, registryStarted } from '../../apps/registry/src/registry.app';
import { eventually, kafka, stackEnv, uniqueName } from '../support/stack-env';

const CATALOG = { authorization: 'Bearer catalog-token' };
const [PRODUCT] = loadMappingsYamlFile(`${__dirname}/../../examples/mappings/catalog.yaml`);
const { id: _id, version: _v, ...PRODUCT_BODY } = PRODUCT;
const silent = createLogger('registry-store-e2e', 'silent');
/** Upper bound for a change to reach a following instance (measured: well under a second). */
const PROPAGATION_BOUND_MS = 5_000;

function event(overrides: Partial<EntityUpdated> = {}): EntityUpdated {
  return {
    eventId: 'e',
    entityType: 'product',
    entityId: 'p-1',
    version: 2,
    tenant: 'acme',
    occurredAt: '2026-11-25T12:00:00Z',
    after: { categoryId: 'desk' },
    ...overrides,
  };
}

describe('MappingStore following the registry topic (real Kafka)', () => {
  const topic = uniqueName('registry-store-mappings');
  const stores: MappingStore[] = [];
  let registry: INestApplication;

  function follower(): MappingStore {
    // Exactly what an invalidator constructs: brokers + topic, no topic creation, no writes.
    const store = new MappingStore({ brokers: stackEnv.kafkaBrokers, topic, clientId: 'invalidator-e2e', logger: silent });
    stores.push(store);
    return store;
  }

  beforeAll(async () => {
    registry = await createRegistryApp({
      KAFKA_BROKERS: stackEnv.kafkaBrokers.join(','),
      REGISTRY_TOKENS: 'catalog-token=catalog',
      KEYSPACES_REQUIRED: false,
      KAFKA_MAPPINGS_TOPIC: topic,
      KAFKA_AUDIT_TOPIC: uniqueName('registry-store-audit'),
      LOG_LEVEL: 'silent',
    });
    await registryStarted(registry);
  });

  afterAll(async () => {
    await Promise.allSettled(stores.map((s) => s.stop()));
    await registry?.close();
  });

  it('a running follower picks up a changed mapping within a bounded time, in order', async () => {
    await request(registry.getHttpServer()).put('/mappings/catalog.product').set(CATALOG).send(PRODUCT_BODY).expect(201);
    const store = follower();
    expect(() => store.current()).toThrow(expect.objectContaining({ code: 'STORE_NOT_READY' }));
    await store.start();
    expect(
      store
        .current()
        .resolve(event())
        .keys.map((k) => k.key),
    ).toContain('product:p-1');

    const seen: number[] = [];
    store.onChange((resolver, ids) => {
      if (ids.includes('catalog.product')) seen.push(resolver.mappings().find((m) => m.id === 'catalog.product')!.version);
    });

    // Change the key layout; measure until the follower resolves the new key.
    const changed = { ...PRODUCT_BODY, keys: [{ template: 'product:v2:{entityId}', action: 'delete' }] };
    const started = Date.now();
    await request(registry.getHttpServer()).put('/mappings/catalog.product').set(CATALOG).send(changed).expect(200);
    await eventually(
      'the follower resolves the new key layout',
      () =>
        store
          .current()
          .resolve(event())
          .keys.some((k) => k.key === 'product:v2:p-1'),
      PROPAGATION_BOUND_MS,
      10,
    );
    const propagationMs = Date.now() - started;
    console.log(`[registry-store] change visible to a following MappingStore after ${propagationMs} ms (bound ${PROPAGATION_BOUND_MS} ms)`);
    expect(
      store
        .current()
        .resolve(event())
        .keys.map((k) => k.key),
    ).toEqual(['product:v2:p-1']);

    // Several quick changes arrive in order and the follower ends on the last one.
    for (let ttl = 1; ttl <= 5; ttl++) {
      await request(registry.getHttpServer())
        .put('/mappings/catalog.product')
        .set(CATALOG)
        .send({ ...changed, keys: [{ template: 'product:v2:{entityId}', action: 'delete', tombstoneTtlSeconds: ttl }] })
        .expect(200);
    }
    await eventually('the follower has version 7', () => store.get('catalog.product')?.version === 7, PROPAGATION_BOUND_MS, 10);
    expect(store.current().resolve(event()).keys[0].tombstoneTtlSeconds).toBe(5);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(seen[seen.length - 1]).toBe(7);

    // A delete reaches it too: the entity type is no longer mapped.
    await request(registry.getHttpServer()).delete('/mappings/catalog.product').set(CATALOG).expect(204);
    await eventually('the follower drops the deleted mapping', () => !store.current().hasEntityType('product'), PROPAGATION_BOUND_MS, 10);
  });

  it('a new instance has the whole set (latest versions, no deleted ones) before start() resolves', async () => {
    const server = registry.getHttpServer();
    for (const type of ['order', 'invoice', 'customer']) {
      await request(server)
        .put(`/mappings/catalog.${type}`)
        .set(CATALOG)
        .send({ ...PRODUCT_BODY, entityType: type })
        .expect(201);
    }
    await request(server)
      .put('/mappings/catalog.order')
      .set(CATALOG)
      .send({ ...PRODUCT_BODY, entityType: 'order', tags: [] })
      .expect(200);
    await request(server).delete('/mappings/catalog.invoice').set(CATALOG).expect(204);
    const expected = (await request(server).get('/mappings').set(CATALOG).expect(200)).body.mappings as Mapping[];

    const store = follower();
    await store.start();
    expect(store.list()).toEqual(expected);
    expect(store.current().hasEntityType('invoice')).toBe(false);
    expect(store.current().resolve(event({ entityType: 'order' })).tags).toEqual([]);
  });

  it('ignores records no registry would write and keeps the last good version in effect', async () => {
    const server = registry.getHttpServer();
    await request(server)
      .put('/mappings/catalog.widget')
      .set(CATALOG)
      .send({ ...PRODUCT_BODY, entityType: 'widget' })
      .expect(201);
    const store = follower();
    await store.start();
    const good = store
      .current()
      .resolve(event({ entityType: 'widget' }))
      .keys.map((k) => k.key);
    expect(good).toContain('product:p-1');

    const producer = kafka('registry-store-e2e').producer();
    await producer.connect();
    const widget = store.get('catalog.widget')!;
    await producer.send({
      topic,
      messages: [
        { key: 'catalog.widget', value: 'not json' },
        { key: 'catalog.widget', value: JSON.stringify({ ...widget, version: 99, keys: [{ template: 'x:{nope}', action: 'delete' }] }) },
        { key: 'catalog.widget', value: JSON.stringify({ ...widget, id: 'other' }) },
      ],
    });
    await producer.disconnect();
    // A valid change after the garbage still arrives, proving the garbage was read (and skipped).
    await request(server)
      .put('/mappings/catalog.after-garbage')
      .set(CATALOG)
      .send({ ...PRODUCT_BODY, entityType: 'gadget' })
      .expect(201);
    await eventually('the follower read past the garbage', () => store.current().hasEntityType('gadget'), PROPAGATION_BOUND_MS, 10);
    expect(store.get('catalog.widget')).toEqual(widget);
    expect(
      store
        .current()
        .resolve(event({ entityType: 'widget' }))
        .keys.map((k) => k.key),
    ).toEqual(good);
  });

  it('works without the HTTP app: put, delete and replaceAll (YAML seeding) through the lib', async () => {
    const ownTopic = uniqueName('registry-store-lib');
    const writer = new MappingStore({
      brokers: stackEnv.kafkaBrokers,
      topic: ownTopic,
      createTopic: true,
      logger: silent,
      limits: { fanoutCap: 8 },
    });
    stores.push(writer);
    await writer.start();
    await writer.put({ ...PRODUCT, id: 'a.one', entityType: 'one' }, { actor: 'test' });
    await writer.put({ ...PRODUCT, id: 'a.two', entityType: 'two' });
    const result = await writer.replaceAll([
      { ...PRODUCT, id: 'a.two', entityType: 'two' },
      { ...PRODUCT, id: 'a.three', entityType: 'three' },
    ]);
    expect(result.changes.map((c) => `${c.kind} ${c.id}`)).toEqual(['create a.three', 'delete a.one']);
    expect(result.unchanged).toEqual(['a.two']);
    expect(writer.list().map((m) => m.id)).toEqual(['a.three', 'a.two']);
    await expect(writer.delete('a.nope')).rejects.toThrow(expect.objectContaining({ code: 'MAPPING_NOT_FOUND' }));
    await expect(writer.put({ ...PRODUCT, id: 'a.bad', keys: [{ template: 'p:{price}', action: 'delete' }] })).rejects.toMatchObject({
      code: 'TEMPLATE_UNKNOWN_FIELD',
    });

    const reader = new MappingStore({ brokers: stackEnv.kafkaBrokers, topic: ownTopic, logger: silent });
    stores.push(reader);
    await reader.start();
    expect(reader.list()).toEqual(writer.list());
  });
});
