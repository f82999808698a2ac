// A running invalidator follows the registry's compacted topic: a mapping changed through the
// registry's store is in effect within a bounded time, without a restart (issue: registry).
import Redis from 'ioredis';
import type { Producer } from 'kafkajs';
import { CacheProtocol } from '@app/cache-protocol';
import { MappingStore } from '@app/registry-core';
import type { Mapping } from '@app/registry-core';
import { loadInvalidatorConfig } from '../../apps/invalidator/src/config/invalidator.config';
import { RunningInvalidator, startInvalidator } from '../../apps/invalidator/src/bootstrap';
import { DLQ_HEADERS } from '@app/contracts';
import { productEvent, publish } from '../support/events';
import { fillVersion, invalidatorTestEnv } from '../support/invalidator-env';
import { eventually, kafka, redis, stackEnv, uniqueName } from '../support/stack-env';

const RELOAD_BOUND_MS = 5_000;

function mapping(template: string): Mapping {
  return {
    id: 'shop.product',
    entityType: 'product',
    owner: 'catalog',
    keys: [{ template, action: 'tombstone', tombstoneTtlSeconds: 600 }],
    tags: [],
    version: 0,
  };
}

describe('invalidator + registry topic (hot reload)', () => {
  let registry: MappingStore;
  let running: RunningInvalidator;
  let producer: Producer;
  let r: Redis;
  let protocol: CacheProtocol;
  let topic: string;

  beforeAll(async () => {
    const mappingsTopic = uniqueName('cache-mappings');
    registry = new MappingStore({ brokers: stackEnv.kafkaBrokers, topic: mappingsTopic, createTopic: true, clientId: 'e2e-registry' });
    await registry.start();
    await registry.put(mapping('item:{entityId}'), { actor: 'e2e' });
    const t = await invalidatorTestEnv({ extra: { MAPPINGS_SOURCE: 'kafka', KAFKA_MAPPINGS_TOPIC: mappingsTopic } });
    topic = t.topic;
    running = await startInvalidator(loadInvalidatorConfig(t.env));
    producer = kafka('e2e-map-producer').producer();
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

  it('starts with the mappings already in the topic and applies a changed mapping within a bounded time', async () => {
    expect(running.runtime.mappings.current().mappingCount).toBe(1);
    const id = uniqueName('p');
    await publish(producer, topic, [productEvent(id, 1, {})]);
    await eventually('old mapping applied', async () => (await protocol.inspect(`item:${id}`)).tombstoneVersion === 1);

    await registry.put(mapping('article:{entityId}'), { actor: 'e2e' });
    await eventually(
      'invalidator sees the new mapping',
      () =>
        running.runtime.mappings
          .current()
          .resolve(productEvent(id, 2, {}))
          .keys.some((k) => k.key === `article:${id}`),
      RELOAD_BOUND_MS,
      20,
    );
    await publish(producer, topic, [productEvent(id, 2, {})]);
    await eventually('new mapping applied', async () => (await protocol.inspect(`article:${id}`)).tombstoneVersion === 2);
    expect((await protocol.inspect(`item:${id}`)).tombstoneVersion).toBe(1);
  });

  it("dead-letters (FOREIGN_KEYSPACE) the part of a mapping that writes another team's keys, even one put straight into the topic; the owner's key is untouched", async () => {
    // Ownership declared through the store (as the registry's admin API does).
    await registry.writeKeyspaces(
      [
        ...['item:', 'article:', 'product:'].map((prefix) => ({
          op: 'put' as const,
          record: { kind: 'prefix' as const, prefix, team: 'catalog', version: 0 },
        })),
        { op: 'put', record: { kind: 'prefix', prefix: 'promo:', team: 'promo', version: 0 } },
        { op: 'put', record: { kind: 'entityType', entityType: 'product', team: 'catalog', grants: [], version: 0 } },
        { op: 'put', record: { kind: 'entityType', entityType: 'campaign', team: 'promo', grants: [], version: 0 } },
      ],
      { actor: 'e2e' },
    );
    const id = uniqueName('p');
    // catalog's page: cached by a reader at v4, then warmed to v5 by catalog (a warm rewrites a cached value)
    await fillVersion(protocol, `product:${id}`, 4, JSON.stringify({ price: 4, by: 'catalog' }));
    expect(await protocol.warm(`product:${id}`, 5, JSON.stringify({ price: 5, by: 'catalog' }), 60_000, { tombstoneTtlMs: 60_000 })).toBe(
      'warmed',
    );

    // The attack, bypassing the registry API: promo's entity type, catalog's key, warm for 30 days.
    const steal: Mapping = {
      id: 'promo.steal',
      entityType: 'campaign',
      owner: 'promo',
      keys: [
        { template: 'product:{entityId}', action: 'warm', warmFrom: 'after', ttlSeconds: 2_592_000 },
        { template: 'promo:{entityId}', action: 'delete' },
      ],
      tags: [],
      version: 1,
    };
    await producer.send({ topic: registry.topic, acks: -1, messages: [{ key: steal.id, value: JSON.stringify(steal) }] });
    const attack = { ...productEvent(id, Number.MAX_SAFE_INTEGER, { price: 0, by: 'promo' }), entityType: 'campaign' };
    await eventually(
      'invalidator refuses the foreign mapping',
      () =>
        running.runtime.mappings
          .current()
          .resolve(attack)
          .failed?.some((f) => f.mappingId === 'promo.steal' && f.code === 'FOREIGN_KEYSPACE') === true,
      RELOAD_BOUND_MS,
      20,
    );
    await publish(producer, topic, [attack]);

    const seen: { code: string; reason: string }[] = [];
    const consumer = kafka('e2e-ks-dlq').consumer({ groupId: uniqueName('dlq-reader') });
    await consumer.connect();
    await consumer.subscribe({ topic: `${topic}.dlq`, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        seen.push({
          code: String(message.headers?.[DLQ_HEADERS.reasonCode] ?? ''),
          reason: String(message.headers?.[DLQ_HEADERS.reason] ?? ''),
        });
      },
    });
    try {
      await eventually('the event is dead-lettered', () => seen.length >= 1);
    } finally {
      await consumer.disconnect();
    }
    expect(seen).toEqual([{ code: 'FOREIGN_KEYSPACE', reason: expect.stringContaining('prefix "product:" is owned by team "catalog"') }]);
    const after = await protocol.inspect(`product:${id}`);
    expect(after.entry?.version).toBe(5);
    expect(after.tombstoneVersion).toBe(5);
    expect(JSON.stringify(after.entry)).toContain('catalog');
    expect((await protocol.inspect(`promo:${id}`)).tombstoneVersion).toBeUndefined();
  });
});
