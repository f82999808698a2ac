// Integers beyond 2^53 in an event: the key carries exactly the digits that
// were sent (JSON.parse would round 9007199254740993 to ...992 and drop another category's
// listing), the warm value writes them back as the same digits, and a version beyond the safe
// range is dead-lettered as UNSAFE_INTEGER.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import type { Producer } from 'kafkajs';
import { stringify } from 'yaml';
import { CacheProtocol } from '@app/cache-protocol';
import { DLQ_HEADERS, EVENT_HEADERS } from '@app/contracts';
import { loadInvalidatorConfig } from '../../apps/invalidator/src/config/invalidator.config';
import { RunningInvalidator, startInvalidator } from '../../apps/invalidator/src/bootstrap';
import { committedVsEnd, fillAggregate, fillVersion, invalidatorTestEnv, InvalidatorTestEnv } from '../support/invalidator-env';
import { eventually, kafka, redis, uniqueName } from '../support/stack-env';

const MAPPINGS = [
  {
    id: 'exact.product',
    entityType: 'product',
    owner: 'catalog',
    keys: [
      { template: 'exact-product:{entityId}', action: 'warm', warmFrom: 'after', ttlSeconds: 3600, tombstoneTtlSeconds: 600 },
      { template: 'category:{after.categoryId}', action: 'delete' },
    ],
    tags: [],
  },
];

/** Built by hand: JavaScript cannot write 9007199254740993 as a number. */
function rawEvent(entityId: string, version: string, afterJson: string): string {
  return `{"eventId":"${uniqueName('e')}","entityType":"product","entityId":"${entityId}","version":${version},"occurredAt":"${new Date().toISOString()}","after":${afterJson}}`;
}

describe('invalidator: exact identifiers beyond 2^53', () => {
  let t: InvalidatorTestEnv;
  let running: RunningInvalidator;
  let producer: Producer;
  let r: Redis;
  let protocol: CacheProtocol;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'inv-exact-'));
    const mappingsFile = join(dir, 'mappings.yaml');
    writeFileSync(mappingsFile, stringify({ mappings: MAPPINGS }));
    t = await invalidatorTestEnv({ partitions: 1, extra: { MAPPINGS_FILE: mappingsFile } });
    running = await startInvalidator(loadInvalidatorConfig(t.env));
    producer = kafka('e2e-exact-producer').producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    r = redis();
    protocol = new CacheProtocol(r);
  });

  afterAll(async () => {
    await producer?.disconnect();
    await running?.close();
    r?.disconnect();
  });

  const send = (values: string[]) =>
    producer.send({
      topic: t.topic,
      acks: -1,
      messages: values.map((value) => ({
        key: 'product',
        value,
        headers: { [EVENT_HEADERS.schemaVersion]: '1', [EVENT_HEADERS.contentType]: 'application/json' },
      })),
    });

  const drained = () =>
    eventually('every offset committed', async () => {
      const { committed, end } = await committedVsEnd(t.groupId, t.topic);
      return end > 0 && committed === end;
    });

  it('invalidates exactly category:9007199254740993 (not ...992) and warms the value with the same digits', async () => {
    const id = uniqueName('p');
    await fillAggregate(protocol, 'category:9007199254740993', 'listing-993');
    await fillAggregate(protocol, 'category:9007199254740992', 'listing-992');
    await fillVersion(protocol, `exact-product:${id}`, 6, '{"v":6}'); // cached by a reader: the warm rewrites it

    await send([rawEvent(id, '7', '{"categoryId":9007199254740993,"sku":18446744073709551615,"price":12.5}')]);
    await drained();

    expect((await protocol.inspect('category:9007199254740993')).entry).toBeUndefined();
    expect((await protocol.inspect('category:9007199254740992')).entry?.payload).toBe('listing-992');
    const page = await protocol.inspect(`exact-product:${id}`);
    expect(page.entry?.version).toBe(7);
    expect(page.entry?.payload).toBe('{"categoryId":9007199254740993,"sku":18446744073709551615,"price":12.5}');
  });

  it('dead-letters an event whose version is beyond 2^53 - 1 as UNSAFE_INTEGER, and goes on', async () => {
    const id = uniqueName('p');
    await fillVersion(protocol, `exact-product:${id}`, 2, '{"categoryId":0}'); // cached by a reader
    await send([rawEvent(id, '9007199254740993', '{"categoryId":1}'), rawEvent(id, '3', '{"categoryId":2}')]);
    await drained();
    const page = await protocol.inspect(`exact-product:${id}`);
    expect(page.entry?.version).toBe(3);
    expect(page.tombstoneVersion).toBe(3); // the unsafe version left no floor

    const seen: { code: string; reason: string }[] = [];
    const consumer = kafka('e2e-exact-dlq').consumer({ groupId: uniqueName('dlq-reader') });
    await consumer.connect();
    await consumer.subscribe({ topic: t.dlqTopic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        seen.push({
          code: String(message.headers?.[DLQ_HEADERS.reasonCode] ?? ''),
          reason: String(message.headers?.[DLQ_HEADERS.reason] ?? ''),
        });
      },
    });
    try {
      await eventually('one dead letter', () => seen.length >= 1);
    } finally {
      await consumer.disconnect();
    }
    expect(seen).toHaveLength(1);
    expect(seen[0].code).toBe('UNSAFE_INTEGER');
    expect(seen[0].reason).toContain('version 9007199254740993');
  });
});
