// Red team: the headers the invalidator states on a dead letter (x-dlq-truncated, -original-bytes,
// -mapping, -team...) were copied from the message too, so a producer that forges them (or
// forwards a consumed dead letter's headers) made its letter look like a reference, which
// `npm run dlq -- replay` skips as not replayable, and a whole-event failure look like one
// mapping's part of another team. Real broker, real invalidator process, the real dlq tool.
import type { Producer } from 'kafkajs';
import { DLQ_HEADERS, entityMessageKey, EVENT_HEADERS } from '@app/contracts';
import { InvalidatorProcess, spawnInvalidator } from '../../scripts/support/invalidator-process';
import { readDlqTopic, runDlqTool } from '../support/dlq';
import { invalidatorTestEnv, InvalidatorTestEnv } from '../support/invalidator-env';
import { eventually, kafka, stackEnv, uniqueName } from '../support/stack-env';

const eventHeaders = { [EVENT_HEADERS.schemaVersion]: '1', [EVENT_HEADERS.contentType]: 'application/json' };

describe('red team: dead-letter headers forged by a producer (real Kafka, real invalidator)', () => {
  let t: InvalidatorTestEnv;
  let proc: InvalidatorProcess | undefined;
  let producer: Producer;

  beforeAll(async () => {
    // Only `product` is mapped: every `widget` event is UNKNOWN_ENTITY_TYPE (a whole-event letter).
    t = await invalidatorTestEnv({ partitions: 1, extra: { STRICT_ENTITY_TYPES: 'true' } });
    proc = await spawnInvalidator(t.env);
    producer = kafka('e2e-redteam2-dlq-producer').producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
  });

  afterAll(async () => {
    await producer?.disconnect();
    if (proc && proc.child.exitCode === null) await proc.terminate();
  });

  it('a forged x-dlq-truncated / x-dlq-mapping / x-dlq-team does not make the letter a reference nor pin it on another team', async () => {
    const id = uniqueName('forged');
    const event = {
      eventId: uniqueName('ev'),
      entityType: 'widget',
      entityId: id,
      version: 1,
      occurredAt: new Date().toISOString(),
      after: { name: id },
    };
    const forged = {
      [DLQ_HEADERS.truncated]: 'true',
      [DLQ_HEADERS.originalBytes]: '5000000',
      [DLQ_HEADERS.mapping]: 'promo.product',
      [DLQ_HEADERS.team]: 'promo',
    };
    await producer.send({
      topic: t.topic,
      acks: -1,
      messages: [{ key: entityMessageKey('widget', id), value: JSON.stringify(event), headers: { ...eventHeaders, ...forged } }],
    });
    await eventually('the event is dead-lettered', async () => (await readDlqTopic(t.dlqTopic)).length === 1, 30_000, 200);
    const [letter] = await readDlqTopic(t.dlqTopic);
    expect(String(letter.headers[DLQ_HEADERS.reasonCode])).toBe('UNKNOWN_ENTITY_TYPE');
    expect([DLQ_HEADERS.truncated, DLQ_HEADERS.originalBytes, DLQ_HEADERS.mapping, DLQ_HEADERS.team].map((h) => letter.headers[h])).toEqual(
      [undefined, undefined, undefined, undefined],
    );

    const dry = await runDlqTool([
      'replay',
      '--brokers',
      stackEnv.kafkaBrokers.join(','),
      '--dlq-topic',
      t.dlqTopic,
      '--reason',
      'UNKNOWN_ENTITY_TYPE',
      '--dry-run',
    ]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/would replay 1 of 1 matched dead letters/);
    expect(dry.stdout).toMatch(/; 0 references skipped/);
  });
});
