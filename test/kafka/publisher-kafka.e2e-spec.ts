// libs/publisher against the real broker: what lands in Kafka is keyed by entity, on the partition
// any Java-compatible client would pick, in publish order, with the v1 headers; a bad event is
// refused and nothing of its batch reaches the topic.
import { EntityUpdated, EVENT_HEADERS } from '@app/contracts';
import { createLogger } from '@app/telemetry';
import { buildEntityUpdated, createOutboxRecord, EntityPublisher, InMemoryOutbox, InvalidEventError, OutboxRelay } from '@app/publisher';
import { Partitioners } from 'kafkajs';
import { createTopic, eventually, kafka, stackEnv, uniqueName } from '../support/stack-env';

const silent = createLogger('e2e-publisher', 'silent');

interface TopicMessage {
  key: string;
  partition: number;
  offset: string;
  headers: Record<string, string>;
  event: EntityUpdated;
}

/** Reads a topic from the beginning until `count` messages arrived (or the deadline passes). */
async function readTopic(topic: string, count: number): Promise<TopicMessage[]> {
  const received: TopicMessage[] = [];
  const consumer = kafka('e2e-publisher-reader').consumer({ groupId: uniqueName('pub-reader'), maxWaitTimeInMs: 100 }); // short fetch polls: disconnect waits for the one in flight;
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
        received.push({
          key: String(message.key),
          partition,
          offset: message.offset,
          headers,
          event: JSON.parse(String(message.value)) as EntityUpdated,
        });
      },
    });
    await eventually(`${count} messages on ${topic}`, () => received.length >= count, 20_000);
  } finally {
    await consumer.disconnect();
  }
  return received;
}

async function topicEndOffsetSum(topic: string): Promise<number> {
  const admin = kafka('e2e-publisher-admin').admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, p) => sum + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}

function productEvent(entityId: string, version: number, price: number): EntityUpdated {
  return buildEntityUpdated({
    entityType: 'product',
    entityId,
    version,
    tenant: 'acme',
    before: { price: price - 1, version: version - 1 },
    after: { price, version },
  });
}

describe('publisher against the real Kafka', () => {
  let publisher: EntityPublisher | undefined;
  afterEach(async () => {
    await publisher?.disconnect();
    publisher = undefined;
  });

  it('lands every event keyed by entity, on its partition, in publish order, with the v1 headers', async () => {
    const topic = uniqueName('pub-order');
    await createTopic(topic, 3);
    publisher = new EntityPublisher({ brokers: stackEnv.kafkaBrokers, topic, lingerMs: 5, logger: silent });
    const entities = ['p-a', 'p-b', 'p-c', 'p-d', 'p-e', 'p-f'];

    // Interleaved across entities, some single publishes in flight at once, some batches.
    const pending: Promise<void>[] = [];
    for (let version = 1; version <= 5; version++) {
      if (version % 2 === 0) pending.push(publisher.publishMany(entities.map((id) => productEvent(id, version, version * 10))));
      else
        entities.forEach((id) =>
          pending.push(publisher!.publish({ event: productEvent(id, version, version * 10), traceId: `trace-${id}-${version}` })),
        );
    }
    await Promise.all(pending);

    const messages = await readTopic(topic, 30);
    const admin = kafka('e2e-publisher-admin').admin();
    await admin.connect();
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    await admin.disconnect();
    const partitionFor = Partitioners.DefaultPartitioner();

    for (const id of entities) {
      const mine = messages.filter((m) => m.key === `product:${id}`).sort((a, b) => Number(a.offset) - Number(b.offset));
      expect(mine).toHaveLength(5);
      const expectedPartition = partitionFor({
        topic,
        partitionMetadata: metadata.topics[0].partitions,
        message: { key: `product:${id}`, value: null },
      });
      expect(new Set(mine.map((m) => m.partition))).toEqual(new Set([expectedPartition]));
      expect(mine.map((m) => m.event.version)).toEqual([1, 2, 3, 4, 5]);
      expect(mine.map((m) => m.event.after)).toEqual([1, 2, 3, 4, 5].map((v) => ({ price: v * 10, version: v })));
      expect(mine[0].event.changedFields).toEqual(['price']);
      for (const m of mine) {
        expect(m.headers[EVENT_HEADERS.schemaVersion]).toBe('1');
        expect(m.headers[EVENT_HEADERS.contentType]).toBe('application/json');
        expect(m.headers[EVENT_HEADERS.traceId]).toBe(m.event.version % 2 === 1 ? `trace-${id}-${m.event.version}` : m.event.eventId);
      }
    }
  });

  it('refuses a batch holding one bad event, naming the field, and nothing of it reaches the topic', async () => {
    const topic = uniqueName('pub-refuse');
    await createTopic(topic, 3);
    publisher = new EntityPublisher({ brokers: stackEnv.kafkaBrokers, topic, logger: silent });
    await publisher.connect();

    const good = productEvent('p-good', 1, 10);
    const bad = { ...productEvent('p-bad', 1, 10), entityId: 'p*' }; // a glob would widen Redis keys
    const error = await publisher.publishMany([good, bad]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidEventError);
    expect(error).toMatchObject({ code: 'INVALID_EVENT', field: 'entityId', index: 1 });
    expect(await topicEndOffsetSum(topic)).toBe(0);

    // A later good event is the only thing on the topic: the refused batch was not sent late either.
    const sentinel = productEvent('p-sentinel', 1, 10);
    await publisher.publish(sentinel);
    const messages = await readTopic(topic, 1);
    expect(messages.map((m) => m.event.eventId)).toEqual([sentinel.eventId]);
    expect(await topicEndOffsetSum(topic)).toBe(1);
  });

  it('relays outbox records to Kafka in write order and empties the outbox', async () => {
    const topic = uniqueName('pub-outbox');
    await createTopic(topic, 3);
    publisher = new EntityPublisher({ brokers: stackEnv.kafkaBrokers, topic, logger: silent });
    const outbox = new InMemoryOutbox();
    const relay = new OutboxRelay(outbox, publisher, { pollIntervalMs: 50, logger: silent });
    relay.start();
    try {
      for (let version = 1; version <= 10; version++) {
        outbox.add(createOutboxRecord(productEvent('p-out', version, version), `req-${version}`));
        relay.notify();
      }
      const messages = await readTopic(topic, 10);
      expect(messages.map((m) => m.event.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(messages.map((m) => m.headers[EVENT_HEADERS.traceId])).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((v) => `req-${v}`));
      await relay.drain(); // joins the drain that may still be marking the last records sent
      expect(outbox.pendingCount).toBe(0);
    } finally {
      await relay.stop();
    }
  });
});
