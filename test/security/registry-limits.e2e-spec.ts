// The registry's edges (real Kafka): a request body over the limit is a 413 PAYLOAD_TOO_LARGE in
// the registry's error shape, logged at warn without a stack trace (not a 500 INTERNAL); the
// limit is REGISTRY_MAX_BODY_BYTES. KEYSPACES_REQUIRED (default true): with no keyspace declared,
// team tokens cannot write mappings (an admin bootstraps the keyspaces first), and an invalidator
// following the topic dead-letters the events of the mappings it holds (KEYSPACES_REQUIRED)
// until keyspaces exist, instead of letting any team write any key.
import { INestApplication } from '@nestjs/common';
import Redis from 'ioredis';
import type { Producer } from 'kafkajs';
import request from 'supertest';
import { CacheProtocol } from '@app/cache-protocol';
import { DLQ_HEADERS } from '@app/contracts';
import { MappingStore } from '@app/registry-core';
import type { Mapping } from '@app/registry-core';
import { loadInvalidatorConfig } from '../../apps/invalidator/src/config/invalidator.config';
import { RunningInvalidator, startInvalidator } from '../../apps/invalidator/src/bootstrap';
import { createRegistryApp, registryStarted } from '../../apps/registry/src/registry.app';
import { readDlqTopic } from '../support/dlq';
import { productEvent, publish } from '../support/events';
import { invalidatorTestEnv } from '../support/invalidator-env';
import { RegistryProcess, spawnRegistry } from '../support/registry-process';
import { eventually, kafka, redis, stackEnv, uniqueName } from '../support/stack-env';

const TOKENS = 'catalog-token=catalog,admin-token=*:ops';
const CATALOG = { authorization: 'Bearer catalog-token' };
const ADMIN = { authorization: 'Bearer admin-token' };
const PRODUCT_BODY = { entityType: 'product', owner: 'catalog', keys: [{ template: 'product:{entityId}', action: 'delete' }], tags: [] };

/** A mapping body of about `bytes` bytes (the description carries the bulk). */
function bodyOf(bytes: number): string {
  return JSON.stringify({ ...PRODUCT_BODY, description: 'x'.repeat(bytes) });
}

function topics() {
  return { KAFKA_MAPPINGS_TOPIC: uniqueName('registry-limits-mappings'), KAFKA_AUDIT_TOPIC: uniqueName('registry-limits-audit') };
}

describe('registry limits (real Kafka)', () => {
  let proc: RegistryProcess | undefined;
  let app: INestApplication | undefined;

  afterAll(async () => {
    await proc?.terminate();
    await app?.close();
  });

  it('a body over REGISTRY_MAX_BODY_BYTES is 413 PAYLOAD_TOO_LARGE, logged at warn without a stack trace; a body under it is parsed', async () => {
    proc = await spawnRegistry({
      KAFKA_BROKERS: stackEnv.kafkaBrokers.join(','),
      REGISTRY_TOKENS: TOKENS,
      KEYSPACES_REQUIRED: 'false',
      REGISTRY_MAX_BODY_BYTES: '65536',
      LOG_LEVEL: 'info',
      ...topics(),
    });
    const url = `${proc.url}/mappings/catalog.big`;
    const headers = { ...CATALOG, 'content-type': 'application/json' };

    const tooLarge = await fetch(url, { method: 'PUT', headers, body: bodyOf(70_000) });
    expect(tooLarge.status).toBe(413);
    const body = (await tooLarge.json()) as Record<string, unknown>;
    expect(body).toEqual({ statusCode: 413, code: 'PAYLOAD_TOO_LARGE', message: expect.stringContaining('65536 bytes') });
    expect(body.message).toMatch(/REGISTRY_MAX_BODY_BYTES/);

    // Under the limit the body is read and checked as usual (here: a description too long for a mapping).
    const under = await fetch(url, { method: 'PUT', headers, body: bodyOf(60_000) });
    expect(under.status).not.toBe(413);
    expect(under.status).toBeLessThan(500);

    await eventually('the refusal is logged', () => /PAYLOAD_TOO_LARGE|request body too large/.test(proc!.output()), 10_000, 100);
    const lines = proc
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'));
    const refusal = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => /too large/.test(String(l.msg)));
    expect(refusal).toHaveLength(1);
    expect(refusal[0].level).toBe(40); // warn
    expect(proc.output()).not.toMatch(/"level":50/); // nothing at error level
    expect(proc.output()).not.toMatch(/\n\s+at \S+ \(/); // no stack trace anywhere
  });

  it('the default limit is 1 MiB: a 1.1 MB body is 413 PAYLOAD_TOO_LARGE, not 500 INTERNAL', async () => {
    app = await createRegistryApp({
      KAFKA_BROKERS: stackEnv.kafkaBrokers.join(','),
      REGISTRY_TOKENS: TOKENS,
      KEYSPACES_REQUIRED: false,
      LOG_LEVEL: 'silent',
      ...topics(),
    });
    await registryStarted(app);
    const res = await request(app.getHttpServer())
      .put('/mappings/catalog.big')
      .set(CATALOG)
      .set('content-type', 'application/json')
      .send(bodyOf(1_100_000));
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ statusCode: 413, code: 'PAYLOAD_TOO_LARGE', message: expect.stringContaining('1048576 bytes') });
    // Malformed JSON is the caller's mistake too: 400, not 500.
    const bad = await request(app.getHttpServer())
      .put('/mappings/catalog.bad')
      .set(CATALOG)
      .set('content-type', 'application/json')
      .send('{"entityType": ');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ statusCode: 400, code: 'REQUEST_INVALID' });
  });
});

describe('KEYSPACES_REQUIRED (real Kafka)', () => {
  let app: INestApplication;
  const http = () => request(app.getHttpServer());

  beforeAll(async () => {
    // The production default: KEYSPACES_REQUIRED is not set.
    app = await createRegistryApp({
      KAFKA_BROKERS: stackEnv.kafkaBrokers.join(','),
      REGISTRY_TOKENS: TOKENS,
      LOG_LEVEL: 'silent',
      ...topics(),
    });
    await registryStarted(app);
  });
  afterAll(async () => {
    await app?.close();
  });

  it('registry: with no keyspace declared a team token may not write mappings (409 KEYSPACES_REQUIRED); an admin declares keyspaces, then the team writes inside them', async () => {
    expect((await http().get('/keyspaces').set(CATALOG).expect(200)).body).toMatchObject({ enforced: false, required: true });
    const refused = await http().put('/mappings/catalog.product').set(CATALOG).send(PRODUCT_BODY);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ statusCode: 409, code: 'KEYSPACES_REQUIRED' });
    expect(refused.body.message).toMatch(/KEYSPACES_REQUIRED/);
    expect(refused.body.message).toMatch(/\/keyspaces\/apply/);
    const applyRefused = await http()
      .post('/mappings/apply')
      .set(CATALOG)
      .send({ mappings: [{ id: 'catalog.product', ...PRODUCT_BODY }], dryRun: true });
    expect(applyRefused.status).toBe(409);
    expect(applyRefused.body.code).toBe('KEYSPACES_REQUIRED');
    expect((await http().get('/mappings').set(CATALOG).expect(200)).body).toEqual({ mappings: [] });

    // The operator bootstraps: an admin token declares who owns what.
    await http()
      .post('/keyspaces/apply')
      .set(ADMIN)
      .send({ prefixes: [{ prefix: 'product:', team: 'catalog' }], entityTypes: [{ entityType: 'product', team: 'catalog' }] })
      .expect(200);
    await http().put('/mappings/catalog.product').set(CATALOG).send(PRODUCT_BODY).expect(201);
    const foreign = await http()
      .put('/mappings/catalog.other')
      .set(CATALOG)
      .send({ ...PRODUCT_BODY, keys: [{ template: 'order:{entityId}', action: 'delete' }] });
    expect(foreign.status).toBe(403);
    expect(foreign.body.code).toBe('FOREIGN_KEYSPACE');
  });
});

describe('KEYSPACES_REQUIRED in the invalidator (real Kafka + Redis)', () => {
  let registry: MappingStore;
  let running: RunningInvalidator;
  let producer: Producer;
  let r: Redis;
  let protocol: CacheProtocol;
  let topic: string;
  let dlqTopic: string;

  beforeAll(async () => {
    // A topic written before keyspaces existed (straight through the store, as an old registry did).
    registry = new MappingStore({
      brokers: stackEnv.kafkaBrokers,
      topic: uniqueName('cache-mappings'),
      createTopic: true,
      clientId: 'e2e-registry',
    });
    await registry.start();
    const mapping: Mapping = {
      id: 'shop.product',
      entityType: 'product',
      owner: 'catalog',
      keys: [{ template: 'item:{entityId}', action: 'tombstone', tombstoneTtlSeconds: 600 }],
      tags: [],
      version: 0,
    };
    await registry.put(mapping, { actor: 'e2e' });
    const t = await invalidatorTestEnv({
      extra: { MAPPINGS_SOURCE: 'kafka', KAFKA_MAPPINGS_TOPIC: registry.topic, KEYSPACES_REQUIRED: 'true' },
    });
    topic = t.topic;
    dlqTopic = t.dlqTopic;
    running = await startInvalidator(loadInvalidatorConfig(t.env));
    producer = kafka('e2e-ks-required-producer').producer();
    await producer.connect();
    r = redis();
    protocol = new CacheProtocol(r);
  });

  afterAll(async () => {
    await producer?.disconnect();
    await running?.close();
    await registry?.stop();
    r?.disconnect();
  });

  it('dead-letters (KEYSPACES_REQUIRED) events of mappings while no keyspace is declared; applies them once keyspaces exist', async () => {
    const id = uniqueName('p');
    await publish(producer, topic, [productEvent(id, 1, {})]);
    await eventually('the event is dead-lettered', async () => (await readDlqTopic(dlqTopic)).length === 1, 30_000, 200);
    const [letter] = await readDlqTopic(dlqTopic);
    expect(letter.headers[DLQ_HEADERS.reasonCode]).toBe('KEYSPACES_REQUIRED');
    expect(letter.headers[DLQ_HEADERS.reason]).toMatch(/KEYSPACES_REQUIRED=true/);
    expect((await protocol.inspect(`item:${id}`)).tombstoneVersion).toBeUndefined();

    await registry.writeKeyspaces(
      [
        { op: 'put', record: { kind: 'prefix', prefix: 'item:', team: 'catalog', version: 0 } },
        { op: 'put', record: { kind: 'entityType', entityType: 'product', team: 'catalog', grants: [], version: 0 } },
      ],
      { actor: 'e2e' },
    );
    await eventually(
      'the invalidator follows the declaration',
      () => {
        try {
          return running.runtime.mappings.current().resolve(productEvent(id, 2, {})).keys.length === 1;
        } catch {
          return false;
        }
      },
      10_000,
      20,
    );
    await publish(producer, topic, [productEvent(id, 2, {})]);
    await eventually('applied once keyspaces exist', async () => (await protocol.inspect(`item:${id}`)).tombstoneVersion === 2);
    expect(await readDlqTopic(dlqTopic)).toHaveLength(1);
  });
});
