// Dead letters never halt a partition, with the invalidator as a real
// child process against the real broker: a chunk whose dead letters exceed the DLQ topic's
// max.message.bytes is split over several produce requests; a record too large to dead-letter
// whole (it arrived compressed) becomes a reference; a DLQ outage pauses the partition with
// backoff (heartbeats continue, nothing committed past the gap) and the backlog drains after.
import Redis from 'ioredis';
import { CompressionTypes, Producer } from 'kafkajs';
import { CacheProtocol } from '@app/cache-protocol';
import { DLQ_HEADERS } from '@app/contracts';
import { INVALIDATOR_METRIC_NAMES } from '@app/telemetry';
import { productEvent, publish } from '../support/events';
import { committedVsEnd, invalidatorTestEnv, processMetric } from '../support/invalidator-env';
import { InvalidatorProcess, spawnInvalidator } from '../../scripts/support/invalidator-process';
import { eventually, kafka, redis, uniqueName } from '../support/stack-env';

interface DeadLetter {
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

/** Every record of `topic` (one partition), read with a fresh group from the beginning until `count` arrived. */
async function readDeadLetters(topic: string, count: number, timeoutMs = 30_000): Promise<DeadLetter[]> {
  const seen: DeadLetter[] = [];
  const consumer = kafka('e2e-dlq-reader').consumer({ groupId: uniqueName('dlq-reader'), maxBytesPerPartition: 10_485_760 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
      seen.push({ offset: message.offset, key: message.key?.toString() ?? null, value: message.value, headers });
    },
  });
  try {
    await eventually(`${count} dead letters in ${topic}`, () => seen.length >= count, timeoutMs);
  } finally {
    await consumer.disconnect();
  }
  return seen;
}

async function setTopicConfig(topic: string, name: string, value: string): Promise<void> {
  const admin = kafka('e2e-admin').admin();
  await admin.connect();
  try {
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: 2 /* TOPIC */, name: topic, configEntries: [{ name, value }] }] });
  } finally {
    await admin.disconnect();
  }
}

describe('dead letters never halt a partition (real Kafka + Redis, child process)', () => {
  let producer: Producer;
  let r: Redis;
  let protocol: CacheProtocol;
  const children: InvalidatorProcess[] = [];

  beforeAll(async () => {
    producer = kafka('e2e-dl-producer').producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    r = redis();
    protocol = new CacheProtocol(r);
  });

  afterAll(async () => {
    for (const c of children) if (c.child.exitCode === null) await c.kill9();
    await producer?.disconnect();
    r?.disconnect();
  });

  const drained = (groupId: string, topic: string, timeoutMs = 60_000) =>
    eventually(
      'every offset committed',
      async () => {
        const { committed, end } = await committedVsEnd(groupId, topic);
        return end > 0 && committed === end;
      },
      timeoutMs,
      100,
    );

  it('five ~250 KB bad messages in one chunk: all five dead-lettered over several produce requests, the good events after them applied, committed to the end', async () => {
    const t = await invalidatorTestEnv({ partitions: 1 });
    const id = uniqueName('p');
    // One send per bad message (each fits the origin topic); all are in the log before the
    // invalidator starts, so they arrive in one batch and one chunk.
    for (let i = 0; i < 5; i += 1) {
      await producer.send({ topic: t.topic, acks: -1, messages: [{ key: `bad-${i}`, value: `{"not json ${i} ${'x'.repeat(250_000)}` }] });
    }
    await publish(producer, t.topic, [
      productEvent(`${id}-a`, 1, { categoryId: 'c', price: 1 }),
      productEvent(`${id}-b`, 1, { categoryId: 'c', price: 2 }),
    ]);

    const proc = await spawnInvalidator(t.env);
    children.push(proc);
    await drained(t.groupId, t.topic);

    // applied: the page's warm left its floor at v1 (a warm of an uncached key writes only that)
    expect((await protocol.inspect(`product:${id}-a`)).tombstoneVersion).toBe(1);
    expect((await protocol.inspect(`product:${id}-b`)).tombstoneVersion).toBe(1);
    const letters = await readDeadLetters(t.dlqTopic, 5);
    expect(letters).toHaveLength(5);
    expect(letters.map((l) => l.headers[DLQ_HEADERS.reasonCode])).toEqual(Array(5).fill('BAD_JSON'));
    expect(letters.map((l) => l.headers[DLQ_HEADERS.originOffset]).sort()).toEqual(['0', '1', '2', '3', '4']);
    expect(letters.map((l) => l.key).sort()).toEqual(['bad-0', 'bad-1', 'bad-2', 'bad-3', 'bad-4']);
    // Whole records, not references: every byte is there.
    expect(letters.every((l) => l.value!.length > 250_000 && l.headers[DLQ_HEADERS.truncated] === undefined)).toBe(true);
    expect(await processMetric(proc.port, INVALIDATOR_METRIC_NAMES.deadLettered)).toBe(5);
    expect(proc.child.exitCode).toBeNull();
    await proc.terminate();
  });

  it('a 3 MB value that arrived gzip-compressed is dead-lettered as a reference (size, reason, first bytes), the partition keeps moving', async () => {
    const t = await invalidatorTestEnv({ partitions: 1 });
    const id = uniqueName('p');
    const huge = `{"blob":"${'y'.repeat(3 * 1024 * 1024)}"}`;
    // The origin topic's max.message.bytes is the default ~1 MB: the broker accepts it compressed.
    await producer.send({
      topic: t.topic,
      acks: -1,
      compression: CompressionTypes.GZIP,
      messages: [{ key: `huge-${id}`, value: huge, headers: { 'x-trace-id': 'trace-huge' } }],
    });
    await publish(producer, t.topic, [productEvent(id, 3, { categoryId: 'c', price: 3 })]);

    const proc = await spawnInvalidator(t.env);
    children.push(proc);
    await drained(t.groupId, t.topic);

    expect((await protocol.inspect(`product:${id}`)).tombstoneVersion).toBe(3); // applied (the warm's floor)
    const [letter] = await readDeadLetters(t.dlqTopic, 1);
    expect(letter.headers).toMatchObject({
      [DLQ_HEADERS.reasonCode]: 'OVERSIZED',
      [DLQ_HEADERS.originTopic]: t.topic,
      [DLQ_HEADERS.originPartition]: '0',
      [DLQ_HEADERS.originOffset]: '0',
      [DLQ_HEADERS.truncated]: 'true',
      [DLQ_HEADERS.originalBytes]: String(Buffer.byteLength(huge)),
    });
    expect(letter.key).toBe(`huge-${id}`);
    expect(letter.value!.length).toBeLessThan(16 * 1024);
    const envelope = JSON.parse(letter.value!.toString('utf8')) as { headBase64: string };
    expect(envelope).toMatchObject({ reference: true, originalBytes: Buffer.byteLength(huge) });
    expect(Buffer.from(envelope.headBase64, 'base64').toString('utf8')).toBe(huge.slice(0, 1024));
    expect(await processMetric(proc.port, INVALIDATOR_METRIC_NAMES.deadLettersTruncated)).toBe(1);
    await proc.terminate();
  });

  it('a DLQ outage pauses the partition with backoff: heartbeats go on (no rejoin), nothing is committed past the gap, the backlog drains once the DLQ is back', async () => {
    const t = await invalidatorTestEnv({ partitions: 1, extra: { LOG_LEVEL: 'info', RETRY_INITIAL_MS: '100', RETRY_MAX_MS: '1000' } });
    const id = uniqueName('p');
    const proc = await spawnInvalidator(t.env);
    children.push(proc);
    await publish(producer, t.topic, [productEvent(`${id}-before`, 1, { categoryId: 'c', price: 1 })]);
    await drained(t.groupId, t.topic);

    // The outage: the DLQ topic refuses every record (even a reference) until it is fixed.
    await setTopicConfig(t.dlqTopic, 'max.message.bytes', '100');
    await producer.send({ topic: t.topic, acks: -1, messages: [{ key: 'bad', value: '{"not json' }] });
    await publish(producer, t.topic, [productEvent(`${id}-after`, 1, { categoryId: 'c', price: 2 })]);

    await eventually(
      'dead-letter produce failures counted',
      async () => (await processMetric(proc.port, INVALIDATOR_METRIC_NAMES.deadLetterFailures)) >= 3,
      30_000,
      200,
    );
    // Longer than the session timeout (6 s): a send blocking the batch would cost the membership.
    const until = Date.now() + 8_000;
    while (Date.now() < until) {
      expect((await committedVsEnd(t.groupId, t.topic)).committed).toBe(1);
      expect(proc.child.exitCode).toBeNull();
      await new Promise((res) => setTimeout(res, 500));
    }
    expect((await fetch(`http://127.0.0.1:${proc.port}/health/live`)).status).toBe(200);
    expect(await protocol.inspect(`product:${id}-after`)).toEqual({}); // not applied yet
    expect(proc.output()).toMatch(/dead-letter produce failed/);

    await setTopicConfig(t.dlqTopic, 'max.message.bytes', '1048588');
    await drained(t.groupId, t.topic);
    expect((await protocol.inspect(`product:${id}-after`)).tombstoneVersion).toBe(1); // applied (the warm's floor)
    const [letter] = await readDeadLetters(t.dlqTopic, 1);
    expect(letter.headers[DLQ_HEADERS.reasonCode]).toBe('BAD_JSON');
    expect(letter.headers[DLQ_HEADERS.originOffset]).toBe('1');
    expect(proc.output().match(/consumer group-join/g)).toHaveLength(1);
    await proc.terminate();
  });
});
