// The mapping follower's death is noticed. The invalidator (a real process,
// MAPPINGS_SOURCE=kafka) follows its own mappings topic; the topic is deleted for real with the
// admin client (the broker runs with auto.create.topics.enable=false, so nothing recreates it
// behind our back). Then: readiness 503 naming the follower and why, liveness 503 after the
// (small, configured) bound, and new entity.updated events NOT committed while the mapping set
// is frozen. Recovery: the topic recreated and the mapping registered again → ready, backlog applied.
import Redis from 'ioredis';
import type { Producer } from 'kafkajs';
import { CacheProtocol } from '@app/cache-protocol';
import { MappingStore } from '@app/registry-core';
import type { Mapping } from '@app/registry-core';
import { productEvent, publish } from '../support/events';
import { committedVsEnd, invalidatorTestEnv, InvalidatorTestEnv } from '../support/invalidator-env';
import { InvalidatorProcess, spawnInvalidator } from '../../scripts/support/invalidator-process';
import { eventually, kafka, redis, stackEnv, uniqueName } from '../support/stack-env';

const READY_BOUND_MS = 3_000;
const LIVE_BOUND_MS = 8_000;

const mapping: Mapping = {
  id: 'follower.product',
  entityType: 'product',
  owner: 'catalog',
  keys: [{ template: 'followed:{entityId}', action: 'tombstone', tombstoneTtlSeconds: 600 }],
  tags: [],
  version: 0,
};

async function health(port: number, which: 'ready' | 'live'): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${port}/health/${which}`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('invalidator: the mapping follower dying is noticed', () => {
  let t: InvalidatorTestEnv;
  let mappingsTopic: string;
  let registry: MappingStore | undefined;
  let invalidator: InvalidatorProcess | undefined;
  let producer: Producer;
  let r: Redis;
  let protocol: CacheProtocol;

  beforeAll(async () => {
    mappingsTopic = uniqueName('cache-mappings');
    registry = new MappingStore({
      brokers: stackEnv.kafkaBrokers,
      topic: mappingsTopic,
      createTopic: true,
      clientId: 'e2e-follower-registry',
    });
    await registry.start();
    await registry.put(mapping, { actor: 'e2e' });
    t = await invalidatorTestEnv({
      partitions: 1,
      extra: {
        MAPPINGS_SOURCE: 'kafka',
        KAFKA_MAPPINGS_TOPIC: mappingsTopic,
        MAPPINGS_STALL_READY_MS: String(READY_BOUND_MS),
        MAPPINGS_STALL_LIVE_MS: String(LIVE_BOUND_MS),
        LOG_LEVEL: 'info',
      },
    });
    invalidator = await spawnInvalidator(t.env);
    producer = kafka('e2e-follower-producer').producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    r = redis();
    protocol = new CacheProtocol(r);
  });

  afterAll(async () => {
    await producer?.disconnect();
    await invalidator?.terminate();
    await registry?.stop();
    r?.disconnect();
  });

  it('readiness 503 with the reason, liveness 503 after its bound, nothing committed while dead; back when the topic returns', async () => {
    const port = invalidator!.port;
    const id = uniqueName('p');
    await publish(producer, t.topic, [productEvent(id, 1, {})]);
    await eventually('event 1 applied and committed', async () => {
      const { committed, end } = await committedVsEnd(t.groupId, t.topic);
      return end === 1 && committed === 1 && (await protocol.inspect(`followed:${id}`)).tombstoneVersion === 1;
    });
    expect((await health(port, 'ready')).status).toBe(200);

    // Kill the follower for real: its topic goes away.
    await registry!.stop();
    registry = undefined;
    const admin = kafka('e2e-follower-admin').admin();
    await admin.connect();
    try {
      await admin.deleteTopics({ topics: [mappingsTopic], timeout: 10_000 });
    } finally {
      await admin.disconnect();
    }

    await eventually(
      'readiness 503 naming the mappings follower',
      async () => {
        const ready = await health(port, 'ready');
        const reason = (ready.body.checks as Record<string, unknown> | undefined)?.mappingsFollower;
        return ready.status === 503 && typeof reason === 'string' && /no fetch for \d+ s|crashed for good/.test(reason);
      },
      READY_BOUND_MS + 20_000,
      200,
    );

    // A new event while the follower is dead: not applied, not committed.
    await publish(producer, t.topic, [productEvent(id, 2, {})]);
    await eventually(
      'liveness 503 after MAPPINGS_STALL_LIVE_MS',
      async () => (await health(port, 'live')).status === 503,
      LIVE_BOUND_MS + 20_000,
      200,
    );
    const live = await health(port, 'live');
    expect(String(live.body.reason)).toMatch(/mappings follower/);
    const progress = await committedVsEnd(t.groupId, t.topic);
    expect(progress.end).toBe(2);
    expect(progress.committed).toBe(1);
    expect((await protocol.inspect(`followed:${id}`)).tombstoneVersion).toBe(1);
    expect(invalidator!.output()).toMatch(/mappings follower is down: consumption of entity.updated held/);

    // Recovery: the topic is back (a new log, from offset 0) and the mapping registered again,
    // changed: the follower must read the new topic from its beginning, not skip its first records.
    registry = new MappingStore({
      brokers: stackEnv.kafkaBrokers,
      topic: mappingsTopic,
      createTopic: true,
      clientId: 'e2e-follower-registry',
    });
    await registry.start();
    await registry.put(
      { ...mapping, keys: [{ template: 'followed-v2:{entityId}', action: 'tombstone', tombstoneTtlSeconds: 600 }] },
      { actor: 'e2e' },
    );
    await eventually('ready again', async () => (await health(port, 'ready')).status === 200, 60_000, 250);
    await eventually('backlog applied and committed', async () => {
      const { committed, end } = await committedVsEnd(t.groupId, t.topic);
      // Event 2 is applied by whichever set is in effect when consumption resumes (old until the new records are read).
      const applied =
        (await protocol.inspect(`followed:${id}`)).tombstoneVersion === 2 ||
        (await protocol.inspect(`followed-v2:${id}`)).tombstoneVersion === 2;
      return committed === end && applied;
    });
    expect((await health(port, 'live')).status).toBe(200);
    await publish(producer, t.topic, [productEvent(id, 3, {})]);
    await eventually(
      "the recreated topic's mapping is in effect",
      async () => (await protocol.inspect(`followed-v2:${id}`)).tombstoneVersion === 3,
      20_000,
      100,
    );
    expect((await protocol.inspect(`followed:${id}`)).tombstoneVersion ?? 0).toBeLessThan(3);
  });
});
