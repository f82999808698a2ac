// Replica-acknowledged apply on a Redis Cluster, across a master failover under traffic: the
// standalone failover test's twin (invalidator-replica-ack.e2e-spec.ts).
//
// A 3-master cluster with a replica per master, and two for master M. M announces the port of a
// TCP proxy in this test (cluster-announce-port), so its clients and its replicas reach it through
// the proxy, which can freeze and then drop the replication streams alone (clients keep being
// served): replicas that lag and then lose data, which loopback TCP never does on its own. The
// real invalidator process (REDIS_CLUSTER_NODES) consumes a stream of events the whole time; M's
// replication is frozen, a batch of events for keys on M is applied there, then M is killed -9,
// its replication streams dropped and one of its replicas promoted (CLUSTER FAILOVER TAKEOVER);
// the other follows it. Events keep coming through all of it. At the end every event the group
// committed must be invalidated in the cluster as it now is.
//   REDIS_WAIT_REPLICAS=1: nothing is committed past what the replicas acknowledged -> none missing.
//   REDIS_WAIT_REPLICAS=0: committed invalidations ARE missing after the failover (the risk).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis, { Cluster } from 'ioredis';
import type { Producer } from 'kafkajs';
import { CacheProtocol } from '@app/cache-protocol';
import { clusterSlot } from '@app/cache-protocol/slot';
import { EVENT_HEADERS, entityMessageKey } from '@app/contracts';
import { RedisNodeInfo, startClusterReplica, startRedisCluster, stopRedisNode } from '../../scripts/stack/redis';
import { InvalidatorProcess, spawnInvalidator } from '../../scripts/support/invalidator-process';
import { productEvent } from '../support/events';
import { FreezableLink, infoField } from '../support/freezable-link';
import { committedVsEnd, fillVersion, invalidatorTestEnv, processMetric } from '../support/invalidator-env';
import { eventually, kafka, uniqueName } from '../support/stack-env';

/** Keys of the frozen batch, all on master M (slots 0..5461 of startRedisCluster's even split). */
const ON_M = 30;
const M_LAST_SLOT = Math.ceil(16384 / 3) - 1;

interface Outcome {
  published: number;
  /** The group's committed offset right before M was killed. */
  committedBeforeFailover: number;
  /** Offsets of the batch applied on M while its replication was frozen. */
  frozenBatch: { first: number; last: number };
  /** Events the group committed whose invalidation is not in the cluster after the failover. */
  missing: string[];
}

async function clusterFailover(waitReplicas: number): Promise<Outcome> {
  const dir = mkdtempSync(join(tmpdir(), 'cluster-replica-ack-'));
  const nodes: RedisNodeInfo[] = [];
  const clients: (Redis | Cluster)[] = [];
  let link: FreezableLink | undefined;
  let invalidator: InvalidatorProcess | undefined;
  let producer: Producer | undefined;
  let traffic: Promise<void> | undefined;
  let trafficOn = true;
  const direct = (n: RedisNodeInfo) => {
    const c = new Redis({ port: n.port, host: '127.0.0.1', maxRetriesPerRequest: 1, retryStrategy: () => null });
    c.on('error', () => undefined);
    clients.push(c);
    return c;
  };
  /** `eventually`, and on timeout the replication state of every node and the invalidator's last lines. */
  const until = async (what: string, condition: () => Promise<boolean>, timeoutMs: number) => {
    try {
      await eventually(what, condition, timeoutMs, 100);
    } catch (error) {
      const states = await Promise.all(
        nodes.map(async (node) => {
          const c = new Redis({
            port: node.port,
            host: '127.0.0.1',
            maxRetriesPerRequest: 0,
            retryStrategy: () => null,
            lazyConnect: true,
          });
          c.on('error', () => undefined);
          try {
            await c.connect();
            const info = await c.info('replication');
            return `${node.port}: ${['role', 'master_port', 'master_link_status', 'master_repl_offset', 'slave_repl_offset', 'connected_slaves'].map((f) => `${f}=${infoField(info, f) ?? '-'}`).join(' ')}`;
          } catch (e) {
            return `${node.port}: ${(e as Error).message}`;
          } finally {
            c.disconnect();
          }
        }),
      );
      const said = invalidator?.output().trim().split('\n').slice(-20).join('\n') ?? '';
      throw new Error(`${(error as Error).message}\n--- nodes ---\n${states.join('\n')}\n--- invalidator ---\n${said}`);
    }
  };
  try {
    const masters = await startRedisCluster(join(dir, 'masters'), 3);
    nodes.push(...masters);
    const m = masters[0];
    link = new FreezableLink(m.port, { replicationOnly: true });
    const proxyPort = await link.listen();
    const toM = direct(m);
    const toOther = direct(masters[1]);
    await toM.config('SET', 'cluster-announce-port', String(proxyPort));
    await until(
      'the cluster knows M at the proxy port',
      async () => String(await toOther.call('CLUSTER', 'NODES')).includes(`127.0.0.1:${proxyPort}@`),
      20_000,
    );
    // M's two replicas replicate through the proxy; the others' directly. None promotes itself.
    for (const [i, master] of masters.slice(1).entries())
      nodes.push(await startClusterReplica(master, join(dir, `replica-${i + 1}`), { noFailover: true }));
    const r1 = await startClusterReplica(m, join(dir, 'r1'), { noFailover: true, masterAnnouncedPort: proxyPort });
    const r2 = await startClusterReplica(m, join(dir, 'r2'), { noFailover: true, masterAnnouncedPort: proxyPort });
    nodes.push(r1, r2);
    expect(link.replicationConnections).toBeGreaterThanOrEqual(2);

    const cluster = new Cluster([{ host: '127.0.0.1', port: masters[1].port }], { redisOptions: { maxRetriesPerRequest: 2 } });
    cluster.on('error', () => undefined);
    clients.push(cluster);
    const protocol = new CacheProtocol(cluster);
    const prefix = uniqueName('cf');
    const onM: string[] = [];
    for (let i = 0; onM.length < ON_M + 10; i += 1)
      if (clusterSlot(`product-summary:${prefix}-${i}`) <= M_LAST_SLOT) onM.push(`${prefix}-${i}`);
    for (const id of onM) await fillVersion(protocol, `product-summary:${id}`, 1, `summary-v1-${id}`, 600_000);
    const toR1 = direct(r1);
    const toR2 = direct(r2);
    await until(
      "M's replicas caught up with the pre-filled values",
      async () => {
        const offset = infoField(await toM.info('replication'), 'master_repl_offset');
        const r1At = infoField(await toR1.info('replication'), 'slave_repl_offset');
        const r2At = infoField(await toR2.info('replication'), 'slave_repl_offset');
        return offset !== undefined && r1At === offset && r2At === offset;
      },
      20_000,
    );

    const t = await invalidatorTestEnv({
      partitions: 1,
      redisClusterNodes: masters.map((n) => `127.0.0.1:${n.port}`).join(','),
      extra: { REDIS_WAIT_REPLICAS: String(waitReplicas), REDIS_WAIT_TIMEOUT_MS: '200', RETRY_INITIAL_MS: '50', RETRY_MAX_MS: '300' },
    });
    invalidator = await spawnInvalidator(t.env);
    producer = kafka('e2e-cluster-replica-ack').producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    // One partition, one send at a time: offset = baseOffset + index.
    const sent: { id: string; offset: number }[] = [];
    let sending = Promise.resolve();
    const send = (ids: string[]) =>
      (sending = sending.then(async () => {
        const [meta] = await producer!.send({
          topic: t.topic,
          acks: -1,
          messages: ids.map((id) => ({
            key: entityMessageKey('product', id),
            value: JSON.stringify(productEvent(id, 2, { price: 2 })),
            headers: { [EVENT_HEADERS.schemaVersion]: '1', [EVENT_HEADERS.contentType]: 'application/json' },
          })),
        });
        ids.forEach((id, i) => sent.push({ id, offset: Number(meta.baseOffset) + i }));
      }));
    const invalidatedIn = async (p: CacheProtocol, id: string) => {
      const seen = await p.inspect(`product-summary:${id}`);
      return seen.entry === undefined && (seen.tombstoneVersion ?? 0) >= 2;
    };

    // A: everything healthy.
    await send(onM.slice(0, 10));
    await until('batch A committed', async () => (await committedVsEnd(t.groupId, t.topic)).committed === 10, 30_000);
    // Traffic on every master from here to the end: one event every 100 ms, keys never cached (their
    // floors are the check). Held while batch B goes in, so B is the first chunk after the freeze
    // (a traffic chunk stuck on the replica ack before it would keep B from M).
    let n = 0;
    let held = false;
    traffic = (async () => {
      while (trafficOn) {
        if (!held) await send([`${prefix}-traffic-${(n += 1)}`]);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    await until('traffic flowing and committed', async () => n >= 10 && (await committedVsEnd(t.groupId, t.topic)).committed > 10, 30_000);
    held = true;
    await sending;
    await until('traffic so far committed', async () => (await committedVsEnd(t.groupId, t.topic)).committed === sent.length, 30_000);

    // B: M's replication frozen, then events for keys on M applied there.
    link.freeze();
    const batchB = onM.slice(10);
    await send(batchB);
    const frozenBatch = {
      first: sent.find((s) => s.id === batchB[0])!.offset,
      last: sent.find((s) => s.id === batchB[batchB.length - 1])!.offset,
    };
    await until(
      'batch B applied on M',
      async () => (await Promise.all(batchB.map((id) => invalidatedIn(protocol, id)))).every(Boolean),
      30_000,
    );
    if (waitReplicas > 0)
      await until(
        'a replica ack shortfall reported',
        async () => (await processMetric(invalidator!.port, 'invalidator_replica_ack_shortfalls_total')) > 0,
        15_000,
      );
    else await until('batch B committed', async () => (await committedVsEnd(t.groupId, t.topic)).committed > frozenBatch.last, 30_000);
    expect(link.heldBytes).toBeGreaterThan(0);
    held = false;

    // Failover under traffic: M dies with what its replicas never got; R1 takes over, R2 follows it.
    const { committed: committedBeforeFailover } = await committedVsEnd(t.groupId, t.topic);
    process.kill(m.pid, 'SIGKILL');
    await link.drop();
    await toR1.call('CLUSTER', 'FAILOVER', 'TAKEOVER');
    await until('R1 promoted', async () => infoField(await toR1.info('replication'), 'role') === 'master', 10_000);
    await until(
      'R2 replicates R1',
      async () => {
        const info = await toR2.info('replication');
        return infoField(info, 'master_port') === String(r1.port) && infoField(info, 'master_link_status') === 'up';
      },
      30_000,
    );
    const after = n;
    await until('traffic after the failover', () => Promise.resolve(n >= after + 10), 30_000);
    trafficOn = false;
    await traffic;
    await until(
      'the group committed everything published',
      async () => {
        const p = await committedVsEnd(t.groupId, t.topic);
        return p.committed === p.end && p.end === sent.length;
      },
      60_000,
    );

    const now = new Cluster([{ host: '127.0.0.1', port: masters[1].port }], { redisOptions: { maxRetriesPerRequest: 2 } });
    now.on('error', () => undefined);
    clients.push(now);
    const inCluster = new CacheProtocol(now);
    const missing: string[] = [];
    for (const { id } of sent) if (!(await invalidatedIn(inCluster, id))) missing.push(id);
    return { published: sent.length, committedBeforeFailover, frozenBatch, missing };
  } finally {
    trafficOn = false;
    await traffic?.catch(() => undefined);
    await producer?.disconnect().catch(() => undefined);
    if (invalidator && invalidator.child.exitCode === null && invalidator.child.signalCode === null) await invalidator.kill9();
    await link?.drop().catch(() => undefined);
    for (const c of clients) c.disconnect();
    for (const node of nodes) await stopRedisNode(node);
  }
}

describe('invalidator: replica-acknowledged apply on a Redis Cluster, across a master failover under traffic', () => {
  it('with REDIS_WAIT_REPLICAS=1 no committed invalidation is missing after the failover', async () => {
    const outcome = await clusterFailover(1);
    // nothing of the frozen batch was committed before M died ...
    expect(outcome.committedBeforeFailover).toBeLessThanOrEqual(outcome.frozenBatch.first);
    // ... and everything committed since is in the cluster as it is now
    expect(outcome.missing).toEqual([]);
  }, 180_000);

  it('with it off (0), committed invalidations ARE missing after the failover: the risk it removes', async () => {
    const outcome = await clusterFailover(0);
    expect(outcome.committedBeforeFailover).toBeGreaterThan(outcome.frozenBatch.last);
    expect(outcome.missing.length).toBeGreaterThan(0);
  }, 180_000);
});
