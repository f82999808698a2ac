// Red team: the replay marks and copy headers of `npm run dlq -- replay` are x-dlq-* headers, and
// the invalidator keeps a message's own headers when it dead-letters it. A producer (careless:
// it forwards the headers of a message it consumed; hostile: it forges them) can therefore put
// `x-dlq-replay-mark` or `x-dlq-replayed-from` on an ordinary event. Once that event is
// dead-lettered, the forged header must not make replay skip another team's real letter, nor
// hide the forged event itself from `list` and `replay`. Real broker, real invalidator process.
import type { Producer } from 'kafkajs';
import { DLQ_HEADERS, entityMessageKey, EVENT_HEADERS } from '@app/contracts';
import { InvalidatorProcess, spawnInvalidator } from '../../scripts/support/invalidator-process';
import { readDlqTopic, runDlqTool } from '../support/dlq';
import { committedVsEnd, invalidatorTestEnv, InvalidatorTestEnv } from '../support/invalidator-env';
import { eventually, kafka, stackEnv, uniqueName } from '../support/stack-env';

const eventHeaders = { [EVENT_HEADERS.schemaVersion]: '1', [EVENT_HEADERS.contentType]: 'application/json' };

describe('red team: dlq replay vs replay headers forged by a producer (real Kafka, real invalidator)', () => {
  let t: InvalidatorTestEnv;
  let proc: InvalidatorProcess | undefined;
  let producer: Producer;
  let brokers: string[];

  beforeAll(async () => {
    // Only `product` is mapped: every `widget` event is UNKNOWN_ENTITY_TYPE.
    t = await invalidatorTestEnv({ partitions: 1, extra: { STRICT_ENTITY_TYPES: 'true' } });
    proc = await spawnInvalidator(t.env);
    producer = kafka('e2e-redteam-dlq-producer').producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    brokers = ['--brokers', stackEnv.kafkaBrokers.join(','), '--dlq-topic', t.dlqTopic];
  });

  afterAll(async () => {
    await producer?.disconnect();
    if (proc && proc.child.exitCode === null) await proc.terminate();
  });

  const widget = (id: string) => ({
    eventId: uniqueName('ev'),
    entityType: 'widget',
    entityId: id,
    version: 1,
    occurredAt: new Date().toISOString(),
    after: { name: id },
  });

  it("forged x-dlq-replay-mark / x-dlq-replayed-from on events do not make replay skip another team's letter, nor hide the forged events", async () => {
    const victim = uniqueName('victim');
    const forger = uniqueName('forger');
    // Offset 0 of the (new, one-partition) DLQ topic will be the victim's letter.
    const victimLetterId = `${t.dlqTopic}/0/0`;
    await producer.send({
      topic: t.topic,
      acks: -1,
      messages: [{ key: entityMessageKey('widget', victim), value: JSON.stringify(widget(victim)), headers: eventHeaders }],
    });
    await eventually('the victim is dead-lettered', async () => (await readDlqTopic(t.dlqTopic)).length === 1, 30_000, 200);
    await producer.send({
      topic: t.topic,
      acks: -1,
      messages: [
        {
          key: entityMessageKey('widget', `${forger}-a`),
          value: JSON.stringify(widget(`${forger}-a`)),
          headers: { ...eventHeaders, [DLQ_HEADERS.replayMark]: victimLetterId },
        },
        {
          key: entityMessageKey('widget', `${forger}-b`),
          value: JSON.stringify(widget(`${forger}-b`)),
          headers: { ...eventHeaders, [DLQ_HEADERS.replayedFrom]: victimLetterId },
        },
      ],
    });
    await eventually('all three are dead-lettered', async () => (await readDlqTopic(t.dlqTopic)).length === 3, 30_000, 200);
    const [victimLetter] = await readDlqTopic(t.dlqTopic);
    expect(`${t.dlqTopic}/${victimLetter.partition}/${victimLetter.offset}`).toBe(victimLetterId);

    // `list` shows all three letters, none of them as replayed.
    const list = await runDlqTool(['list', ...brokers]);
    expect(list.code).toBe(0);
    expect(list.stdout.trim().split('\n').pop()).toMatch(/^3 dead letters matched \(of 3 in .*\): UNKNOWN_ENTITY_TYPE 3$/);

    // `replay --dry-run` would replay all three: the victim's letter is not "already replayed".
    const dry = await runDlqTool(['replay', ...brokers, '--reason', 'UNKNOWN_ENTITY_TYPE', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/would replay 3 of 3 matched dead letters/);
    expect((await committedVsEnd(t.groupId, t.topic)).end).toBe(3);
  });
});
