// example-catalog over HTTP against the real Kafka: every change is stored (the truth endpoints
// show it) and announced as entity.updated with the product's version, before/after and changed
// fields; a bad request is refused naming the field and announces nothing; changes made while
// Kafka is unreachable are published after a restart, from the outbox table in PostgreSQL.
import { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { EntityUpdated, EVENT_HEADERS } from '@app/contracts';
import { createCatalogApp } from '../../examples/catalog/src/catalog.app';
import { freshDatabase, TestDatabase } from '../support/postgres';
import { createTopic, eventually, kafka, stackEnv, uniqueName } from '../support/stack-env';

interface TopicMessage {
  key: string;
  headers: Record<string, string>;
  event: EntityUpdated;
}

/** Reads `topic` from the beginning into `into` until stopped. */
async function follow(topic: string, into: TopicMessage[]): Promise<() => Promise<void>> {
  const consumer = kafka('e2e-catalog-reader').consumer({ groupId: uniqueName('catalog-reader'), maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
      into.push({ key: String(message.key), headers, event: JSON.parse(String(message.value)) as EntityUpdated });
    },
  });
  return () => consumer.disconnect();
}

describe('example-catalog (write service) on PostgreSQL against the real Kafka', () => {
  let db: TestDatabase;
  let apps: INestApplication[] = [];

  beforeEach(async () => {
    db = await freshDatabase('catalog');
  });
  afterEach(async () => {
    await Promise.all(apps.map((app) => app.close()));
    apps = [];
    await db.drop();
  });

  async function catalog(topic: string, brokers = stackEnv.kafkaBrokers.join(',')): Promise<INestApplication> {
    const app = await createCatalogApp({
      KAFKA_BROKERS: brokers,
      KAFKA_TOPIC: topic,
      DATABASE_URL: db.url,
      OUTBOX_POLL_MS: 50,
      CATALOG_SHUTDOWN_TIMEOUT_MS: 300,
      LOG_LEVEL: 'silent',
    });
    apps.push(app);
    return app;
  }

  it('stores each change and announces it in order with version, before/after, changed fields and the request trace id', async () => {
    const topic = uniqueName('catalog-events');
    await createTopic(topic, 3);
    const app = await catalog(topic);
    const http = () => request(app.getHttpServer());
    const messages: TopicMessage[] = [];
    const stop = await follow(topic, messages);
    try {
      await http()
        .post('/products')
        .set('x-trace-id', 'trace-create')
        .send({ id: 'mug', tenant: 'acme', name: 'Mug', price: 9.5, categoryId: 'kitchen' })
        .expect(201);
      await http().patch('/products/mug').send({ price: 12 }).expect(200);
      const moved = await http().post('/products/mug/move').send({ categoryId: 'gifts', expectedVersion: 2 }).expect(200);
      expect(moved.body).toMatchObject({ id: 'mug', version: 3, price: 12, categoryId: 'gifts' });

      const refused = await http().patch('/products/mug').send({ price: 'cheap' }).expect(400);
      expect(refused.body).toMatchObject({ code: 'INVALID_REQUEST', fields: [{ field: 'price' }] });
      const conflict = await http().patch('/products/mug').send({ price: 1, expectedVersion: 1 }).expect(409);
      expect(conflict.body.code).toBe('VERSION_CONFLICT');
      await http().get('/products/a*b').expect(400);

      // The truth the storefront's loaders read.
      expect((await http().get('/products/mug').expect(200)).body).toMatchObject({ version: 3, price: 12, categoryId: 'gifts' });
      expect((await http().get('/categories/gifts/products').expect(200)).body.products.map((p: { id: string }) => p.id)).toEqual(['mug']);
      expect((await http().get('/categories/kitchen/products').expect(200)).body.products).toEqual([]);

      await eventually('three events on the topic', () => messages.length >= 3, 20_000);
      await eventually('the outbox is empty', async () => (await http().get('/health')).body.outboxPending === 0, 5_000);
      expect(messages.map((m) => m.key)).toEqual(['product:mug', 'product:mug', 'product:mug']);
      expect(messages.map((m) => [m.event.version, m.event.changedFields])).toEqual([
        [1, ['categoryId', 'id', 'name', 'price', 'tenant']],
        [2, ['price']],
        [3, ['categoryId']],
      ]);
      expect(messages[2].event).toMatchObject({
        entityType: 'product',
        entityId: 'mug',
        tenant: 'acme',
        before: { categoryId: 'kitchen' },
        after: { categoryId: 'gifts', version: 3 },
      });
      expect(messages[0].headers[EVENT_HEADERS.traceId]).toBe('trace-create');
      expect(messages.every((m) => m.headers[EVENT_HEADERS.schemaVersion] === '1')).toBe(true);
      expect(messages).toHaveLength(3); // the refused and conflicting requests announced nothing
    } finally {
      await stop();
    }
  });

  it('keeps changes made while Kafka is unreachable and publishes them, in order, after a restart', async () => {
    const topic = uniqueName('catalog-outbox');
    await createTopic(topic, 3);
    const offline = await catalog(topic, '127.0.0.1:1'); // nothing listens on port 1
    const http = request(offline.getHttpServer());
    await http.post('/products').send({ id: 'lamp', tenant: 'acme', name: 'Lamp', price: 30, categoryId: 'living' }).expect(201);
    await http.patch('/products/lamp').send({ price: 25 }).expect(200);
    expect((await http.get('/health')).body.outboxPending).toBe(2);
    await offline.close();
    apps = [];

    const online = await catalog(topic);
    expect((await request(online.getHttpServer()).get('/products/lamp').expect(200)).body.version).toBe(2);
    await request(online.getHttpServer()).patch('/products/lamp').send({ price: 20 }).expect(200);
    const messages: TopicMessage[] = [];
    const stop = await follow(topic, messages);
    try {
      await eventually('all three changes on the topic', () => messages.length >= 3, 20_000);
      expect(messages.map((m) => m.event.version)).toEqual([1, 2, 3]);
      expect(messages.map((m) => m.event.after?.price)).toEqual([30, 25, 20]);
    } finally {
      await stop();
    }
  });
});
