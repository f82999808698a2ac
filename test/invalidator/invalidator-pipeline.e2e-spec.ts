// The invalidator against the real Kafka broker and redis-server: events in, guarded effects
// in Redis, bad input in the dead-letter topic with reason and origin, nothing else touched.
import Redis from 'ioredis';
import type { Producer } from 'kafkajs';
import { CacheProtocol } from '@app/cache-protocol';
import { DLQ_HEADERS } from '@app/contracts';
import { loadInvalidatorConfig } from '../../apps/invalidator/src/config/invalidator.config';
import { RunningInvalidator, startInvalidator } from '../../apps/invalidator/src/bootstrap';
import { productEvent, publish } from '../support/events';
import { committedVsEnd, fillAggregate, fillVersion, invalidatorTestEnv, InvalidatorTestEnv } from '../support/invalidator-env';
import { eventually, kafka, redis, uniqueName } from '../support/stack-env';
import { INVALIDATOR_METRIC_NAMES } from '@app/telemetry';

describe('invalidator pipeline (real Kafka + Redis)', () => {
  let t: InvalidatorTestEnv;
  let running: RunningInvalidator;
  let producer: Producer;
  let r: Redis;
  let protocol: CacheProtocol;

  beforeAll(async () => {
    t = await invalidatorTestEnv({ extra: { STRICT_ENTITY_TYPES: 'true', MAX_EVENT_BYTES: '4096' } });
    running = await startInvalidator(loadInvalidatorConfig(t.env));
    producer = kafka('e2e-producer').producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    r = redis();
    protocol = new CacheProtocol(r);
  });

  afterAll(async () => {
    await producer?.disconnect();
    await running?.close();
    r?.disconnect();
  });

  const drained = () =>
    eventually('every offset committed', async () => {
      const { committed, end } = await committedVsEnd(t.groupId, t.topic);
      return end > 0 && committed === end;
    });

  it('warms the product page, tombstones the summary and drops old and new listings of a moved product', async () => {
    const id = uniqueName('p');
    // cached by readers at v1 (a warm rewrites a cached value; it never creates one)
    await fillVersion(protocol, `product:${id}`, 1, JSON.stringify({ price: 1 }));
    await fillVersion(protocol, `product-summary:${id}`, 1, 'summary-v1');
    await fillAggregate(protocol, `category:old-${id}:products`, '[1,2]');
    await fillAggregate(protocol, `category:new-${id}:products`, '[3]');
    expect((await protocol.inspect(`category:old-${id}:products`)).entry?.payload).toBe('[1,2]');

    await publish(producer, t.topic, [productEvent(id, 2, { categoryId: `new-${id}`, price: 2 }, { categoryId: `old-${id}`, price: 1 })]);
    await drained();

    const page = await protocol.inspect(`product:${id}`);
    expect(page.entry?.version).toBe(2);
    expect(JSON.parse(page.entry!.payload)).toEqual({ categoryId: `new-${id}`, price: 2 });
    const summary = await protocol.inspect(`product-summary:${id}`);
    expect(summary.entry).toBeUndefined();
    expect(summary.tombstoneVersion).toBe(2);
    expect((await protocol.inspect(`category:old-${id}:products`)).entry).toBeUndefined();
    expect((await protocol.inspect(`category:new-${id}:products`)).entry).toBeUndefined();
  });

  it('dead-letters poison messages with reason and origin, keeps going, and touches no key outside the mapping', async () => {
    const id = uniqueName('p');
    const bystanders = [`unrelated:${id}`, `category:*:products`, `product:${id}-other`];
    for (const k of bystanders) await r.set(k, 'keep me');
    await fillVersion(protocol, `product:${id}`, 1, JSON.stringify({ price: 1 }));

    await producer.send({
      topic: t.topic,
      messages: [
        { key: 'x', value: '{"not json' },
        { key: 'x', value: JSON.stringify({ eventId: 'e', entityType: 'product', entityId: id, version: 'two' }) },
        { key: 'x', value: JSON.stringify(productEvent(id, 3, { blob: 'x'.repeat(5000) })) },
        { key: 'x', value: JSON.stringify(productEvent(id, 3, {})), headers: { 'x-schema-version': '2' } },
        { key: 'x', value: JSON.stringify({ ...productEvent(id, 3, {}), entityType: 'order' }) },
        { key: 'x', value: JSON.stringify(productEvent(id, 3, { categoryId: '*' })) },
      ],
    });
    await publish(producer, t.topic, [productEvent(id, 4, { categoryId: 'c', price: 4 })]);
    await drained();

    expect((await protocol.inspect(`product:${id}`)).entry?.version).toBe(4);
    for (const k of bystanders) expect(await r.get(k)).toBe('keep me');

    const seen: { code: string; reason: string; topic: string; partition: string; offset: string }[] = [];
    const consumer = kafka('e2e-dlq').consumer({ groupId: uniqueName('dlq-reader') });
    await consumer.connect();
    await consumer.subscribe({ topic: t.dlqTopic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const h = (n: string) => String(message.headers?.[n] ?? '');
        seen.push({
          code: h(DLQ_HEADERS.reasonCode),
          reason: h(DLQ_HEADERS.reason),
          topic: h(DLQ_HEADERS.originTopic),
          partition: h(DLQ_HEADERS.originPartition),
          offset: h(DLQ_HEADERS.originOffset),
        });
      },
    });
    try {
      await eventually('6 dead letters', () => seen.length >= 6);
    } finally {
      await consumer.disconnect();
    }
    expect(seen.map((s) => s.code).sort()).toEqual(
      ['BAD_JSON', 'BAD_SCHEMA', 'OVERSIZED', 'UNKNOWN_ENTITY_TYPE', 'UNRESOLVABLE', 'UNSUPPORTED_SCHEMA_VERSION'].sort(),
    );
    expect(seen.every((s) => s.topic === t.topic && s.offset !== '' && s.partition !== '')).toBe(true);
    expect(seen.find((s) => s.code === 'UNRESOLVABLE')!.reason).toContain('TEMPLATE_WIDENS_KEY');
    expect(seen.find((s) => s.code === 'BAD_SCHEMA')!.reason).toContain('version');

    const metrics = await (await fetch(`http://127.0.0.1:${running.port}/metrics`)).text();
    expect(metrics).toMatch(/invalidator_events_dead_lettered_total\{reason="BAD_JSON"\} 1/);
  });

  it('never moves a key backwards: duplicates and an older version change nothing', async () => {
    const id = uniqueName('p');
    const v5 = productEvent(id, 5, { categoryId: 'c', price: 5 });
    await fillVersion(protocol, `product:${id}`, 1, JSON.stringify({ price: 1 }));
    await publish(producer, t.topic, [v5]);
    await drained();
    await publish(producer, t.topic, [v5, { ...v5, eventId: 'another-id' }, productEvent(id, 3, { categoryId: 'c', price: 3 })]);
    await drained();
    const page = await protocol.inspect(`product:${id}`);
    expect(page.entry?.version).toBe(5);
    expect((JSON.parse(page.entry!.payload) as { price: number }).price).toBe(5);
    expect((await protocol.inspect(`product-summary:${id}`)).tombstoneVersion).toBe(5);
  });

  it('shows what Redis holds for a key (GET /debug/keys/:key) and refuses a key the protocol cannot hold', async () => {
    const id = uniqueName('p');
    await fillVersion(protocol, `product:${id}`, 1, JSON.stringify({ price: 1 }));
    await publish(producer, t.topic, [productEvent(id, 7, { categoryId: 'c', price: 7 })]);
    await drained();
    const page = await (await fetch(`http://127.0.0.1:${running.port}/debug/keys/${encodeURIComponent(`product:${id}`)}`)).json();
    expect(page).toMatchObject({ key: `product:${id}`, cached: true, version: 7, leaseHeld: false });
    const summary = await (
      await fetch(`http://127.0.0.1:${running.port}/debug/keys/${encodeURIComponent(`product-summary:${id}`)}`)
    ).json();
    expect(summary).toMatchObject({ cached: false, tombstoneVersion: 7 });
    const bad = await fetch(`http://127.0.0.1:${running.port}/debug/keys/${encodeURIComponent('~t:reserved')}`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: 'KEY_RESERVED_PREFIX', field: 'key' });
  });

  it('reports health, readiness and metrics over HTTP', async () => {
    const ready = await fetch(`http://127.0.0.1:${running.port}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      status: 'ready',
      checks: { kafkaGroupJoined: true, redisConnected: true, mappingsLoaded: true },
    });
    const metrics = await (await fetch(`http://127.0.0.1:${running.port}/metrics`)).text();
    expect(metrics).toContain(INVALIDATOR_METRIC_NAMES.applied);
    expect(metrics).toMatch(/invalidator_mappings 1/);
  });
});
