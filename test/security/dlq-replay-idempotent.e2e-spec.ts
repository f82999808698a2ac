// `npm run dlq -- replay` is idempotent across runs, with only the DLQ topic as memory (no state
// file): a letter already replayed is skipped (and counted), a replayed letter that fails again
// is dead-lettered once more but that copy is not replayed by the next run, so running replay N
// times over a letter that keeps failing leaves a bounded number of copies; `--again` forces one
// more replay. Real broker, real invalidator process (it re-dead-letters what it still cannot
// apply), the tool as a child process.
import type { Producer } from 'kafkajs';
import { DLQ_HEADERS, entityMessageKey, EVENT_HEADERS } from '@app/contracts';
import { InvalidatorProcess, spawnInvalidator } from '../../scripts/support/invalidator-process';
import { readDlqTopic, runDlqTool } from '../support/dlq';
import { committedVsEnd, invalidatorTestEnv, InvalidatorTestEnv } from '../support/invalidator-env';
import { eventually, kafka, stackEnv, uniqueName } from '../support/stack-env';

/** Dead letters proper: the records carrying a reason code (whatever else the tool keeps in the topic is not one). */
async function deadLetters(topic: string) {
  return (await readDlqTopic(topic)).filter((r) => r.headers[DLQ_HEADERS.reasonCode] !== undefined);
}

describe('dlq replay is idempotent (real Kafka, real invalidator process)', () => {
  let t: InvalidatorTestEnv;
  let proc: InvalidatorProcess | undefined;
  let producer: Producer;
  let brokers: string[];

  beforeAll(async () => {
    // Only `product` is mapped: a `widget` event is UNKNOWN_ENTITY_TYPE, on every replay too.
    t = await invalidatorTestEnv({ partitions: 1, extra: { STRICT_ENTITY_TYPES: 'true' } });
    proc = await spawnInvalidator(t.env);
    producer = kafka('e2e-dlq-idem-producer').producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    brokers = ['--brokers', stackEnv.kafkaBrokers.join(','), '--dlq-topic', t.dlqTopic];
  });

  afterAll(async () => {
    await producer?.disconnect();
    if (proc && proc.child.exitCode === null) await proc.terminate();
  });

  /** Waits until the invalidator has committed everything on the origin topic (so any re-dead-letter is written). */
  async function settled(expectedEnd: number): Promise<void> {
    await eventually(
      `invalidator committed ${expectedEnd} records`,
      async () => {
        const { committed, end } = await committedVsEnd(t.groupId, t.topic);
        return end === expectedEnd && committed === expectedEnd;
      },
      60_000,
      200,
    );
  }

  it('replaying a letter that keeps failing N times leaves one copy; later runs skip and say so; --again replays once more', async () => {
    const id = uniqueName('w');
    const widget = {
      eventId: uniqueName('ev'),
      entityType: 'widget',
      entityId: id,
      version: 1,
      occurredAt: new Date().toISOString(),
      after: { name: 'w1' },
    };
    await producer.send({
      topic: t.topic,
      acks: -1,
      messages: [
        {
          key: entityMessageKey('widget', id),
          value: JSON.stringify(widget),
          headers: { [EVENT_HEADERS.schemaVersion]: '1', [EVENT_HEADERS.contentType]: 'application/json' },
        },
        { key: 'junk', value: '{"not json' },
      ],
    });
    await settled(2);
    await eventually('two dead letters', async () => (await deadLetters(t.dlqTopic)).length === 2, 30_000, 200);

    const first = await runDlqTool(['replay', ...brokers, '--reason', 'UNKNOWN_ENTITY_TYPE']);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/replayed 1 of 1 matched dead letters \(UNKNOWN_ENTITY_TYPE 1\)/);
    await settled(3);
    // Still unmapped: the invalidator dead-letters the replayed event again (a copy naming the letter it came from).
    await eventually('the replayed event is dead-lettered again', async () => (await deadLetters(t.dlqTopic)).length === 3, 30_000, 200);
    const letters = await deadLetters(t.dlqTopic);
    const original = letters.find(
      (r) => r.headers[DLQ_HEADERS.reasonCode] === 'UNKNOWN_ENTITY_TYPE' && !r.headers[DLQ_HEADERS.replayedFrom],
    )!;
    const copy = letters.find((r) => r.headers[DLQ_HEADERS.replayedFrom] !== undefined)!;
    expect(copy.headers[DLQ_HEADERS.reasonCode]).toBe('UNKNOWN_ENTITY_TYPE');
    expect(copy.headers[DLQ_HEADERS.replayedFrom]).toBe(`${t.dlqTopic}/${original.partition}/${original.offset}`);

    for (const run of [2, 3]) {
      const again = await runDlqTool(['replay', ...brokers, '--reason', 'UNKNOWN_ENTITY_TYPE']);
      expect({ run, code: again.code }).toEqual({ run, code: 0 });
      expect(again.stdout).toMatch(/replayed 0 of 2 matched dead letters/);
      expect(again.stdout).toMatch(/2 already replayed skipped \(--again to replay anyway\)/);
    }
    // Nothing was re-published by runs 2 and 3, so nothing more is dead-lettered.
    expect((await committedVsEnd(t.groupId, t.topic)).end).toBe(3);
    expect(await deadLetters(t.dlqTopic)).toHaveLength(3);

    // --again: the newest letter of the chain is replayed once (not the original and its copy both).
    const forced = await runDlqTool(['replay', ...brokers, '--reason', 'UNKNOWN_ENTITY_TYPE', '--again']);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(/replayed 1 of 2 matched dead letters \(UNKNOWN_ENTITY_TYPE 1\)/);
    await settled(4);
    await eventually('the forced replay is dead-lettered again', async () => (await deadLetters(t.dlqTopic)).length === 4, 30_000, 200);
    const afterForced = await runDlqTool(['replay', ...brokers, '--reason', 'UNKNOWN_ENTITY_TYPE']);
    expect(afterForced.stdout).toMatch(/replayed 0 of 3 matched dead letters/);
    expect((await committedVsEnd(t.groupId, t.topic)).end).toBe(4);
  });

  it('a letter replayed without failing again is skipped by the next run (the mark lives in the DLQ topic)', async () => {
    // No invalidator on the origin topic now: the replayed record just sits there, so nothing in
    // the DLQ is a copy of it; only the replay's own mark can tell the next run.
    await proc!.terminate();
    const before = (await committedVsEnd(t.groupId, t.topic)).end;
    const once = await runDlqTool(['replay', ...brokers, '--reason', 'BAD_JSON']);
    expect(once.code).toBe(0);
    expect(once.stdout).toMatch(/replayed 1 of 1 matched dead letters \(BAD_JSON 1\)/);
    const twice = await runDlqTool(['replay', ...brokers, '--reason', 'BAD_JSON']);
    expect(twice.code).toBe(0);
    expect(twice.stdout).toMatch(/replayed 0 of 1 matched dead letters/);
    expect(twice.stdout).toMatch(/1 already replayed skipped/);
    expect((await committedVsEnd(t.groupId, t.topic)).end).toBe(before + 1);

    // `list` still counts dead letters only, and says which were replayed.
    const list = await runDlqTool(['list', ...brokers]);
    expect(list.code).toBe(0);
    expect(list.stdout.trim().split('\n').pop()).toMatch(
      /^4 dead letters matched \(of 4 in .*\): BAD_JSON 1, UNKNOWN_ENTITY_TYPE 3; 3 already replayed$/,
    );
  });
});
