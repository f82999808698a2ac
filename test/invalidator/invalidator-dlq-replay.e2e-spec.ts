// Dead-letter replay against the real broker: an event is
// dead-lettered as UNKNOWN_ENTITY_TYPE by a running invalidator (STRICT_ENTITY_TYPES=true); its
// mapping is registered through the registry's compacted topic; `npm run dlq -- replay` (a child
// process) re-publishes it and the SAME running invalidator applies it: dedupe must not have
// remembered an event it dead-lettered.
import Redis from 'ioredis';
import type { Producer } from 'kafkajs';
import { CacheProtocol } from '@app/cache-protocol';
import { DLQ_HEADERS, entityMessageKey, EVENT_HEADERS } from '@app/contracts';
import { INVALIDATOR_METRIC_NAMES } from '@app/telemetry';
import { MappingStore } from '@app/registry-core';
import type { Mapping } from '@app/registry-core';
import { runDlqTool as dlq } from '../support/dlq';
import { committedVsEnd, fillVersion, invalidatorTestEnv, InvalidatorTestEnv, processMetric } from '../support/invalidator-env';
import { InvalidatorProcess, spawnInvalidator } from '../../scripts/support/invalidator-process';
import { eventually, kafka, redis, stackEnv, uniqueName } from '../support/stack-env';

function mapping(id: string, entityType: string, template: string): Mapping {
  return { id, entityType, owner: 'catalog', keys: [{ template, action: 'tombstone', tombstoneTtlSeconds: 600 }], tags: [], version: 0 };
}

describe('dead-letter replay: npm run dlq -- list|replay (real Kafka + Redis, child processes)', () => {
  let registry: MappingStore;
  let t: InvalidatorTestEnv;
  let proc: InvalidatorProcess;
  let producer: Producer;
  let r: Redis;
  let protocol: CacheProtocol;

  beforeAll(async () => {
    const mappingsTopic = uniqueName('cache-mappings');
    registry = new MappingStore({ brokers: stackEnv.kafkaBrokers, topic: mappingsTopic, createTopic: true, clientId: 'e2e-registry' });
    await registry.start();
    await registry.put(mapping('shop.product', 'product', 'product:{entityId}'), { actor: 'e2e' });
    t = await invalidatorTestEnv({
      partitions: 2,
      extra: { MAPPINGS_SOURCE: 'kafka', KAFKA_MAPPINGS_TOPIC: mappingsTopic, STRICT_ENTITY_TYPES: 'true' },
    });
    proc = await spawnInvalidator(t.env);
    producer = kafka('e2e-replay-producer').producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    r = redis();
    protocol = new CacheProtocol(r);
  });

  afterAll(async () => {
    await producer?.disconnect();
    if (proc && proc.child.exitCode === null) await proc.terminate();
    await registry?.stop();
    r?.disconnect();
  });

  it('dead-letters an unmapped event, lists it, replays it after its mapping is registered, and the same running invalidator applies it', async () => {
    const id = uniqueName('w');
    const brokers = ['--brokers', stackEnv.kafkaBrokers.join(','), '--dlq-topic', t.dlqTopic];
    await fillVersion(protocol, `widget:${id}`, 1, 'widget v1', 600_000); // cached by a reader
    const widgetEvent = {
      eventId: uniqueName('ev'),
      entityType: 'widget',
      entityId: id,
      version: 2,
      occurredAt: new Date().toISOString(),
      after: { name: 'w2' },
    };
    const widgetKey = entityMessageKey('widget', id);
    await producer.send({
      topic: t.topic,
      acks: -1,
      messages: [
        {
          key: widgetKey,
          value: JSON.stringify(widgetEvent),
          headers: { [EVENT_HEADERS.schemaVersion]: '1', [EVENT_HEADERS.contentType]: 'application/json', 'x-trace-id': 'trace-w' },
        },
        { key: 'junk', value: '{"not json' },
      ],
    });
    await eventually(
      'dead-lettered and committed',
      async () => {
        const { committed, end } = await committedVsEnd(t.groupId, t.topic);
        return end === 2 && committed === 2 && (await processMetric(proc.port, INVALIDATOR_METRIC_NAMES.deadLettered)) === 2;
      },
      60_000,
      200,
    );
    expect((await protocol.inspect(`widget:${id}`)).entry?.version).toBe(1); // nothing applied for it

    const list = await dlq(['list', ...brokers]);
    expect(list.code).toBe(0);
    const lines = list.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(list.stdout).toMatch(new RegExp(`UNKNOWN_ENTITY_TYPE\\s+${t.topic}/\\d@0\\s+failed \\d{4}-\\d\\d-\\d\\dT`));
    expect(list.stdout).toMatch(/BAD_JSON/);
    expect(lines[2]).toMatch(/^2 dead letters matched \(of 2 in .*\): BAD_JSON 1, UNKNOWN_ENTITY_TYPE 1$/);

    const onlyBad = await dlq(['list', ...brokers, '--reason', 'BAD_JSON']);
    expect(onlyBad.code).toBe(0);
    expect(onlyBad.stdout.trim().split('\n').pop()).toMatch(/^1 dead letters matched \(of 2 in .*\): BAD_JSON 1$/);

    const dryRun = await dlq(['replay', ...brokers, '--reason', 'UNKNOWN_ENTITY_TYPE', '--dry-run']);
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout).toMatch(/dry run: would replay 1 of 1 matched dead letters \(UNKNOWN_ENTITY_TYPE 1\); 0 references skipped/);
    expect((await committedVsEnd(t.groupId, t.topic)).end).toBe(2); // nothing published

    const bad = await dlq(['replay', ...brokers, '--bogus-flag']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--bogus-flag');
    const badTime = await dlq(['list', ...brokers, '--since', 'yesterday']);
    expect(badTime.code).toBe(2);
    expect(badTime.stderr).toContain('--since');

    // The mapping arrives through the registry's compacted topic; the invalidator follows it live.
    await registry.put(mapping('shop.widget', 'widget', 'widget:{entityId}'), { actor: 'e2e' });
    await eventually(
      'the invalidator loaded the widget mapping',
      async () => (await processMetric(proc.port, INVALIDATOR_METRIC_NAMES.mappings)) === 2,
      15_000,
      100,
    );

    const replay = await dlq(['replay', ...brokers, '--reason', 'UNKNOWN_ENTITY_TYPE']);
    expect(replay.code).toBe(0);
    expect(replay.stdout).toMatch(/replayed 1 of 1 matched dead letters \(UNKNOWN_ENTITY_TYPE 1\)/);

    await eventually(
      'the replayed event is applied by the same running invalidator',
      async () => (await protocol.inspect(`widget:${id}`)).tombstoneVersion === 2,
      30_000,
      100,
    );
    expect((await protocol.inspect(`widget:${id}`)).entry).toBeUndefined();
    await eventually('replay committed', async () => {
      const { committed, end } = await committedVsEnd(t.groupId, t.topic);
      return end === 3 && committed === 3;
    });

    // What was re-published: the original key and headers, no x-dlq-* except where it came from.
    const seen: { key: string; headers: Record<string, string> }[] = [];
    const reader = kafka('e2e-replay-reader').consumer({ groupId: uniqueName('replay-reader') });
    await reader.connect();
    await reader.subscribe({ topic: t.topic, fromBeginning: true });
    await reader.run({
      eachMessage: async ({ message }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
        if (headers[DLQ_HEADERS.replayedFrom]) seen.push({ key: String(message.key), headers });
      },
    });
    try {
      await eventually('the replayed record', () => seen.length === 1);
    } finally {
      await reader.disconnect();
    }
    expect(seen[0].key).toBe(widgetKey);
    expect(seen[0].headers).toEqual({
      [EVENT_HEADERS.schemaVersion]: '1',
      [EVENT_HEADERS.contentType]: 'application/json',
      'x-trace-id': 'trace-w',
      [DLQ_HEADERS.replayedFrom]: expect.stringMatching(new RegExp(`^${t.dlqTopic.replace(/\./g, '\\.')}/0/\\d+$`)),
    });
    expect(proc.child.exitCode).toBeNull();
  });
});
