// Every Kafka compression codec (none, gzip, snappy, lz4, zstd) is read by every consumer in
// the project, whoever produced the batch: record batches written by librdkafka (kcat) are
// applied and committed by a real invalidator process; its mappings come from a zstd-compressed
// mappings topic, which the registry's store reads too; the lag reader works on the compressed
// topic; and the publisher produces in each codec, read by the invalidator and by librdkafka.
// kafkajs alone only has gzip: before the codecs were registered the invalidator crashed on the
// first lz4 batch ("LZ4 compression not implemented") and never consumed again.
import { setTimeout as sleep } from 'node:timers/promises';
import Redis from 'ioredis';
import { CacheProtocol } from '@app/cache-protocol';
import { entityMessageKey, EVENT_HEADERS, JSON_CONTENT_TYPE } from '@app/contracts';
import { KafkaLagReader } from '@app/lag';
import { createLogger } from '@app/telemetry';
import { EntityPublisher } from '@app/publisher';
import { MappingStore } from '@app/registry-core';
import { loadCatalogConfig } from '../../examples/catalog/src/config/catalog.config';
import { productEvent } from '../support/events';
import { committedVsEnd, invalidatorTestEnv, InvalidatorTestEnv, SHOP_MAPPINGS } from '../support/invalidator-env';
import { InvalidatorProcess, spawnInvalidator } from '../../scripts/support/invalidator-process';
import { KcatCodec, kcatConsume, kcatProduce, requireKcat } from '../support/kcat';
import { createTopic, redis, stackEnv, uniqueName } from '../support/stack-env';

const CODECS: KcatCodec[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
const EVENTS_PER_BATCH = 12;
// librdkafka sends a batch uncompressed when compressing would not make it smaller: give every
// event a compressible field, so each partition's batch really is compressed.
const DESCRIPTION = 'a lamp with a linen shade, a brass stem and a round oak base; '.repeat(6);

describe('Kafka compression codecs (librdkafka producers, real invalidator)', () => {
  let t: InvalidatorTestEnv;
  let mappingsTopic: string;
  let invalidator: InvalidatorProcess;
  let r: Redis;
  let protocol: CacheProtocol;

  beforeAll(async () => {
    requireKcat();
    mappingsTopic = uniqueName('cache-mappings');
    await createTopic(mappingsTopic, 1);
    // The registry's record layout (key = mapping id, value = mapping JSON with its version), zstd-compressed.
    kcatProduce(mappingsTopic, [{ key: SHOP_MAPPINGS[0].id, value: JSON.stringify({ ...SHOP_MAPPINGS[0], version: 1 }) }], {
      codec: 'zstd',
    });
    t = await invalidatorTestEnv({
      partitions: 3,
      extra: { MAPPINGS_SOURCE: 'kafka', KAFKA_MAPPINGS_TOPIC: mappingsTopic, PARTITIONS_CONSUMED_CONCURRENTLY: '3' },
    });
    invalidator = await spawnInvalidator(t.env);
    r = redis();
    protocol = new CacheProtocol(r);
  });

  afterAll(async () => {
    await invalidator?.terminate();
    r?.disconnect();
  });

  /** Every offset of the topic committed by the invalidator's group; fails at once if the invalidator died. */
  async function drained(): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (invalidator.child.exitCode !== null)
        throw new Error(`invalidator exited with ${invalidator.child.exitCode}:\n${invalidator.output()}`);
      const { committed, end } = await committedVsEnd(t.groupId, t.topic);
      if (end > 0 && committed === end) return;
      if (Date.now() > deadline) throw new Error(`not every offset committed after 30 s (${committed} of ${end})\n${invalidator.output()}`);
      await sleep(100);
    }
  }

  async function expectApplied(ids: string[], version: number): Promise<void> {
    for (const id of ids)
      expect({ id, version: (await protocol.inspect(`product-summary:${id}`)).tombstoneVersion }).toEqual({ id, version });
  }

  it("the registry store's follower reads the zstd-compressed mappings topic", async () => {
    const store = new MappingStore({
      brokers: stackEnv.kafkaBrokers,
      topic: mappingsTopic,
      clientId: 'e2e-codecs-registry',
      startTimeoutMs: 20_000,
      logger: createLogger('e2e-codecs', 'silent'),
    });
    try {
      await store.start();
      expect(store.list().map((m) => [m.id, m.version])).toEqual([[SHOP_MAPPINGS[0].id, 1]]);
    } finally {
      await store.stop();
    }
  });

  it.each(CODECS)('%s: a batch produced by librdkafka (kcat -z) is applied and committed by the invalidator', async (codec) => {
    const ids = Array.from({ length: EVENTS_PER_BATCH }, () => uniqueName(`kcat-${codec}`));
    const records = ids.map((id) => ({
      key: entityMessageKey('product', id),
      value: JSON.stringify(productEvent(id, 3, { categoryId: 'c', price: 3, description: DESCRIPTION })),
    }));
    kcatProduce(t.topic, records, {
      codec,
      headers: { [EVENT_HEADERS.schemaVersion]: '1', [EVENT_HEADERS.contentType]: JSON_CONTENT_TYPE },
    });
    const { end } = await committedVsEnd(t.groupId, t.topic);
    expect(end).toBeGreaterThanOrEqual(EVENTS_PER_BATCH);
    await drained();
    await expectApplied(ids, 3);
  });

  it.each(CODECS)(
    'KAFKA_COMPRESSION=%s: the publisher produces in that codec; the invalidator applies it and librdkafka reads it back',
    async (codec) => {
      const { KAFKA_COMPRESSION } = loadCatalogConfig({
        KAFKA_BROKERS: stackEnv.kafkaBrokers.join(','),
        DATABASE_URL: 'postgres://postgres@127.0.0.1:1/unused', // read, never connected to
        KAFKA_COMPRESSION: codec,
      });
      const ownTopic = uniqueName(`published-${codec}`);
      await createTopic(ownTopic, 1);
      const ids = Array.from({ length: EVENTS_PER_BATCH }, () => uniqueName(`pub-${codec}`));
      for (const topic of [t.topic, ownTopic]) {
        const publisher = new EntityPublisher({
          brokers: stackEnv.kafkaBrokers,
          topic,
          clientId: `e2e-pub-${codec}`,
          compression: KAFKA_COMPRESSION,
        });
        try {
          await publisher.publishMany(ids.map((id) => productEvent(id, 4, { categoryId: 'c', price: 4 })));
        } finally {
          await publisher.disconnect();
        }
      }
      await drained();
      await expectApplied(ids, 4);
      const read = kcatConsume(ownTopic);
      expect(read.map((line) => (JSON.parse(line.slice(line.indexOf('|') + 1)) as { entityId: string }).entityId)).toEqual(ids);
      expect(read.every((line, i) => line.startsWith(`${entityMessageKey('product', ids[i])}|`))).toBe(true);
    },
  );

  it('the lag reader reads ends, commits and offsets by time of the compressed topic', async () => {
    const reader = new KafkaLagReader({ brokers: stackEnv.kafkaBrokers, clientId: 'e2e-codecs-lag' });
    try {
      const ends = await reader.readEnds(t.topic);
      const committed = await reader.readCommitted(t.groupId, t.topic);
      const progress = await committedVsEnd(t.groupId, t.topic);
      expect(ends.reduce((sum, p) => sum + p.endOffset, 0)).toBe(progress.end);
      expect([...committed.values()].reduce<number>((sum, c) => sum + (c ?? 0), 0)).toBe(progress.committed);
      // one kcat batch and one publisher batch per codec
      expect(progress.end).toBe(2 * CODECS.length * EVENTS_PER_BATCH);
      const [atStart] = await reader.readOffsetsAtTimes(t.topic, [0]);
      expect([...atStart.offsets.values()].every((o) => o === 0)).toBe(true);
    } finally {
      await reader.close();
    }
  });

  it('the invalidator never crashed, dead-lettered nothing, and reports no consumer crash', async () => {
    expect(invalidator.child.exitCode).toBeNull();
    expect((await committedVsEnd(uniqueName('nobody'), t.dlqTopic)).end).toBe(0);
    const metrics = await (await fetch(`http://127.0.0.1:${invalidator.port}/metrics`)).text();
    expect(metrics).not.toMatch(/invalidator_consumer_crashes_total\{restart="false"\} [1-9]/);
    expect((await fetch(`http://127.0.0.1:${invalidator.port}/health/live`)).status).toBe(200);
    expect(invalidator.output()).not.toMatch(/compression not implemented/i);
  });
});
