// Replica-acknowledged apply: a primary that acknowledged effects and dies
// before replicating them must not take committed invalidations with it.
//
// A primary redis-server and a replica, linked THROUGH a TCP proxy in this test that can freeze
// the primary→replica stream (hold the bytes) and drop it (discard them): a replication link
// that lags and then loses data, which loopback TCP never does on its own. The real invalidator
// process writes to the primary; the link is frozen; events are published; the primary is
// killed -9, the link dropped, the replica promoted. Then every event whose offset the consumer
// group committed must be invalidated on the promoted replica.
//   REDIS_WAIT_REPLICAS=1: nothing is committed past what the replica acknowledged → none missing.
//   REDIS_WAIT_REPLICAS=0 (default): committed invalidations ARE missing (the documented risk).
// Then every after-apply effect at once in one invalidator (REDIS_WAIT_REPLICAS=1, namespace
// bumps, the bus): each is observed in Redis, and the replica ack covers the namespace bumps (a
// chunk of bumps alone is not committed while the link is frozen, and is once it thaws).
import { writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import type { Producer } from 'kafkajs';
import { stringify } from 'yaml';
import { CacheProtocol, namespaceKey } from '@app/cache-protocol';
import { EVENT_HEADERS, entityMessageKey } from '@app/contracts';
import { RedisNodeInfo, startRedisNode, stopRedisNode } from '../../scripts/stack/redis';
import { productEvent, publish } from '../support/events';
import { committedVsEnd, fillVersion, invalidatorTestEnv, processMetric } from '../support/invalidator-env';
import { busMessages } from '../support/l1-client';
import { FreezableLink, infoField } from '../support/freezable-link';
import { InvalidatorProcess, spawnInvalidator } from '../../scripts/support/invalidator-process';
import { eventually, kafka, uniqueName } from '../support/stack-env';

const PREFILLED = 40;

interface Outcome {
  committed: number;
  published: number;
  /** Committed events whose invalidation is not on the promoted replica. */
  missing: string[];
  invalidator: InvalidatorProcess;
}

/**
 * One failover scenario. Batch A is published and drained while the link is healthy; the link is
 * frozen; batch B is published and applied on the primary; then primary killed, link dropped,
 * replica promoted, and the committed events are checked against the promoted replica.
 */
async function failover(waitReplicas: number): Promise<Outcome> {
  const dir = mkdtempSync(join(tmpdir(), 'replica-ack-'));
  const nodes: RedisNodeInfo[] = [];
  const clients: Redis[] = [];
  let link: FreezableLink | undefined;
  let invalidator: InvalidatorProcess | undefined;
  let producer: Producer | undefined;
  try {
    const primaryNode = await startRedisNode(join(dir, 'primary'));
    nodes.push(primaryNode);
    const replicaNode = await startRedisNode(join(dir, 'replica'));
    nodes.push(replicaNode);
    link = new FreezableLink(primaryNode.port);
    const linkPort = await link.listen();
    const primary = new Redis({ port: primaryNode.port, host: '127.0.0.1', maxRetriesPerRequest: 1, retryStrategy: () => null });
    const replica = new Redis({ port: replicaNode.port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
    for (const c of [primary, replica]) {
      c.on('error', () => undefined);
      clients.push(c);
    }
    await replica.call('REPLICAOF', '127.0.0.1', String(linkPort));
    await eventually(
      'replica linked to the primary through the proxy',
      async () => infoField(await replica.info('replication'), 'master_link_status') === 'up',
      20_000,
      100,
    );

    // Cached values the events will invalidate: product-summary:{id} at version 1 (tombstone rule).
    const ids = Array.from({ length: PREFILLED }, (_, i) => `${uniqueName('p')}-${i}`);
    const onPrimary = new CacheProtocol(primary);
    for (const id of ids) await fillVersion(onPrimary, `product-summary:${id}`, 1, `summary-v1-${id}`, 600_000);
    const caughtUp = async () => {
      const offset = infoField(await primary.info('replication'), 'master_repl_offset');
      return offset !== undefined && infoField(await replica.info('replication'), 'slave_repl_offset') === offset;
    };
    await eventually('replica caught up with the pre-filled values', caughtUp, 20_000, 50);

    const t = await invalidatorTestEnv({
      partitions: 1,
      redisUrl: `redis://127.0.0.1:${primaryNode.port}`,
      extra: {
        REDIS_WAIT_REPLICAS: String(waitReplicas),
        REDIS_WAIT_TIMEOUT_MS: '200',
        RETRY_INITIAL_MS: '50',
        RETRY_MAX_MS: '300',
        LOG_LEVEL: 'warn',
      },
    });
    invalidator = await spawnInvalidator(t.env);
    producer = kafka('e2e-replica-ack').producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();

    // Offsets: one partition, one send per batch → offset = baseOffset + index.
    const sent: { id: string; offset: number }[] = [];
    const send = async (batch: string[]) => {
      const [meta] = await producer!.send({
        topic: t.topic,
        acks: -1,
        messages: batch.map((id) => ({
          key: entityMessageKey('product', id),
          value: JSON.stringify(productEvent(id, 2, { price: 2 })),
          headers: { [EVENT_HEADERS.schemaVersion]: '1', [EVENT_HEADERS.contentType]: 'application/json' },
        })),
      });
      batch.forEach((id, i) => sent.push({ id, offset: Number(meta.baseOffset) + i }));
    };
    const summaryInvalidated = async (protocol: CacheProtocol, id: string) => {
      const seen = await protocol.inspect(`product-summary:${id}`);
      return seen.entry === undefined && (seen.tombstoneVersion ?? 0) >= 2;
    };

    // A: healthy link. With WAIT on, this proves a replica ack lets the chunk commit.
    const batchA = ids.slice(0, 10);
    await send(batchA);
    await eventually('batch A committed', async () => (await committedVsEnd(t.groupId, t.topic)).committed === batchA.length, 30_000, 100);

    // B: link frozen, then the events are applied on the primary.
    link.freeze();
    const batchB = ids.slice(10);
    await send(batchB);
    await eventually(
      'batch B applied on the primary',
      async () => (await Promise.all(batchB.map((id) => summaryInvalidated(onPrimary, id)))).every(Boolean),
      30_000,
      100,
    );
    if (waitReplicas > 0) {
      await eventually(
        'a replica ack shortfall reported',
        async () =>
          /invalidator_replica_ack_shortfalls_total \d*[1-9]/.test(
            await (await fetch(`http://127.0.0.1:${invalidator!.port}/metrics`)).text(),
          ),
        15_000,
        100,
      );
    } else {
      await eventually('batch B committed', async () => (await committedVsEnd(t.groupId, t.topic)).committed === sent.length, 30_000, 100);
    }
    expect(link.heldBytes).toBeGreaterThan(0);

    // Failover: the primary dies with unreplicated effects; the held bytes are lost.
    process.kill(primaryNode.pid, 'SIGKILL');
    await invalidator.kill9();
    const { committed } = await committedVsEnd(t.groupId, t.topic);
    await link.drop();
    await replica.call('REPLICAOF', 'NO', 'ONE');
    await eventually('replica promoted', async () => infoField(await replica.info('replication'), 'role') === 'master', 10_000, 100);

    const onReplica = new CacheProtocol(replica);
    const missing: string[] = [];
    for (const { id, offset } of sent) if (offset < committed && !(await summaryInvalidated(onReplica, id))) missing.push(id);
    return { committed, published: sent.length, missing, invalidator };
  } finally {
    await producer?.disconnect().catch(() => undefined);
    if (invalidator && invalidator.child.exitCode === null && invalidator.child.signalCode === null) await invalidator.kill9();
    await link?.drop().catch(() => undefined);
    for (const c of clients) c.disconnect();
    for (const n of nodes) await stopRedisNode(n);
  }
}

describe('invalidator: replica-acknowledged apply across a failover', () => {
  it('with REDIS_WAIT_REPLICAS=1 no committed invalidation is missing on the promoted replica', async () => {
    const outcome = await failover(1);
    expect(outcome.committed).toBe(10); // batch A (acknowledged); nothing of batch B
    expect(outcome.missing).toEqual([]);
  });

  it('with it off (0), committed invalidations ARE missing on the promoted replica: the risk it removes', async () => {
    const outcome = await failover(0);
    expect(outcome.committed).toBe(outcome.published);
    expect(outcome.missing.length).toBeGreaterThan(0);
  });
});

describe('invalidator: replica ack, namespace bumps and the bus, all on in one invalidator', () => {
  it('applies keys and bumps, announces them, and commits only what the replica acknowledged, bumps included', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'replica-ack-all-'));
    const nodes: RedisNodeInfo[] = [];
    const clients: Redis[] = [];
    let link: FreezableLink | undefined;
    let invalidator: InvalidatorProcess | undefined;
    let producer: Producer | undefined;
    try {
      const primaryNode = await startRedisNode(join(dir, 'primary'));
      nodes.push(primaryNode);
      const replicaNode = await startRedisNode(join(dir, 'replica'));
      nodes.push(replicaNode);
      link = new FreezableLink(primaryNode.port);
      const linkPort = await link.listen();
      const primary = new Redis({ port: primaryNode.port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
      const replica = new Redis({ port: replicaNode.port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
      for (const c of [primary, replica]) {
        c.on('error', () => undefined);
        clients.push(c);
      }
      await replica.call('REPLICAOF', '127.0.0.1', String(linkPort));
      await eventually(
        'replica linked to the primary through the proxy',
        async () => infoField(await replica.info('replication'), 'master_link_status') === 'up',
        20_000,
        100,
      );

      const prefix = uniqueName('all-on');
      const productNs = `${prefix}-catalog:`;
      const priceNs = `${prefix}-prices:`;
      const streamKey = `~bus{${prefix}}`;
      const key = `${prefix}:1`;
      await fillVersion(new CacheProtocol(primary), key, 1, 'v1', 600_000);
      const t = await invalidatorTestEnv({
        partitions: 1,
        redisUrl: `redis://127.0.0.1:${primaryNode.port}`,
        extra: {
          REDIS_WAIT_REPLICAS: '1',
          REDIS_WAIT_TIMEOUT_MS: '200',
          BUS_ENABLED: 'true',
          BUS_STREAM_KEY: streamKey,
          BUS_HEARTBEAT_MS: '200',
          RETRY_INITIAL_MS: '50',
          RETRY_MAX_MS: '300',
        },
      });
      writeFileSync(
        t.mappingsFile,
        stringify({
          mappings: [
            {
              id: 'all-on.product',
              entityType: 'product',
              owner: 'catalog',
              keys: [{ template: `${prefix}:{entityId}`, action: 'tombstone', tombstoneTtlSeconds: 600 }],
              tags: [],
              namespaces: [productNs],
            },
            // A chunk of this entity type writes namespace bumps and nothing else.
            { id: 'all-on.price-list', entityType: 'price-list', owner: 'pricing', keys: [], tags: [], namespaces: [priceNs] },
          ],
        }),
      );
      invalidator = await spawnInvalidator(t.env);
      producer = kafka('e2e-replica-ack-all-on').producer();
      await producer.connect();

      // 1: healthy link. Committed means the replica holds the key's tombstone AND the bump.
      await publish(producer, t.topic, [productEvent('1', 2, { price: 2 })]);
      await eventually('product event committed', async () => (await committedVsEnd(t.groupId, t.topic)).committed === 1, 30_000, 100);
      const onReplica = new CacheProtocol(replica);
      const seen = await onReplica.inspect(key);
      expect(seen.entry).toBeUndefined();
      expect(seen.tombstoneVersion).toBe(2);
      expect(await replica.get(namespaceKey(productNs))).toBe('1');
      await eventually(
        'the bus announced the key and the bump',
        async () =>
          (await busMessages(primary, streamKey)).some(
            (m) =>
              m.kind === 'inv' &&
              m.keys.some(([k, v]) => k === key && v === 2) &&
              m.namespaces.some(([ns, g]) => ns === productNs && g === 1),
          ),
        10_000,
        100,
      );

      // 2: frozen link, a chunk of namespace bumps only: bumped on the primary and announced, but
      // the WAIT that follows the bumps gets no ack, so nothing is committed until the link thaws.
      link.freeze();
      const shortfalls = await processMetric(invalidator.port, 'invalidator_replica_ack_shortfalls_total');
      await publish(producer, t.topic, [{ ...productEvent('9', 1, { price: 9 }), entityType: 'price-list' }]);
      await eventually('price list bumped on the primary', async () => (await primary.get(namespaceKey(priceNs))) === '1', 30_000, 100);
      await eventually(
        'the bus announced the price-list bump',
        async () =>
          (await busMessages(primary, streamKey)).some(
            (m) => m.kind === 'inv' && m.namespaces.some(([ns, g]) => ns === priceNs && g === 1),
          ),
        10_000,
        100,
      );
      await eventually(
        'a replica ack shortfall after the bump',
        async () => (await processMetric(invalidator!.port, 'invalidator_replica_ack_shortfalls_total')) > shortfalls,
        15_000,
        100,
      );
      expect((await committedVsEnd(t.groupId, t.topic)).committed).toBe(1);
      expect(await replica.get(namespaceKey(priceNs))).toBeNull();
      link.thaw();
      await eventually(
        'price-list event committed after the thaw',
        async () => (await committedVsEnd(t.groupId, t.topic)).committed === 2,
        30_000,
        100,
      );
      expect(await replica.get(namespaceKey(priceNs))).toBe('1');
      // the retries found the bump already applied: the generation moved once
      expect(await primary.get(namespaceKey(priceNs))).toBe('1');
    } finally {
      await producer?.disconnect().catch(() => undefined);
      await invalidator?.terminate().catch(() => undefined);
      await link?.drop().catch(() => undefined);
      for (const c of clients) c.disconnect();
      for (const n of nodes) await stopRedisNode(n);
    }
  }, 120_000);
});
