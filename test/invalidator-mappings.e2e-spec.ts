// A running invalidator follows the registry's compacted topic: a mapping changed through the
// registry's store is in effect within a bounded time, without a restart (issue: registry).
import Redis from 'ioredis';
import type { Producer } from 'kafkajs';
import { CacheProtocol } from '../libs/cache-protocol/src';
import { MappingStore } from '../libs/registry-core/src';
import type { Mapping } from '../libs/registry-core/src';
import { loadInvalidatorConfig } from '../apps/invalidator/src/config/invalidator.config';
import { RunningInvalidator, startInvalidator } from '../apps/invalidator/src/bootstrap';
import { productEvent, publish } from './support/events';
import { invalidatorTestEnv } from './support/invalidator-env';
import { eventually, kafka, redis, stackEnv, uniqueName } from './support/stack-env';

const RELOAD_BOUND_MS = 5_000;

function mapping(template: string): Mapping {
  return { id: 'shop.product', entityType: 'product', owner: 'catalog', keys: [{ template, action: 'tombstone', tombstoneTtlSeconds: 600 }], tags: [], version: 0 };
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
      () => running.runtime.mappings.current().resolve(productEvent(id, 2, {})).keys.some((k) => k.key === `article:${id}`),
      RELOAD_BOUND_MS,
      20,
    );
    await publish(producer, topic, [productEvent(id, 2, {})]);
    await eventually('new mapping applied', async () => (await protocol.inspect(`article:${id}`)).tombstoneVersion === 2);
    expect((await protocol.inspect(`item:${id}`)).tombstoneVersion).toBe(1);
  });
});
