// The invalidator against a 3-master Redis Cluster: effects grouped by slot, scripts that never
// cross slots, tags spanning nodes. Keys land on every node and all are invalidated.
import type { Cluster } from 'ioredis';
import type { Producer } from 'kafkajs';
import { CacheProtocol } from '@app/cache-protocol';
import { clusterSlot } from '@app/cache-protocol/slot';
import { loadInvalidatorConfig } from '../../apps/invalidator/src/config/invalidator.config';
import { RunningInvalidator, startInvalidator } from '../../apps/invalidator/src/bootstrap';
import { productEvent, publish } from '../support/events';
import { committedVsEnd, fillAggregate, fillVersion, invalidatorTestEnv, InvalidatorTestEnv } from '../support/invalidator-env';
import { eventually, kafka, redisCluster, stackEnv, uniqueName } from '../support/stack-env';

describe('invalidator on a Redis Cluster (real Kafka + 3 masters)', () => {
  let t: InvalidatorTestEnv;
  let running: RunningInvalidator;
  let producer: Producer;
  let cluster: Cluster;
  let protocol: CacheProtocol;

  beforeAll(async () => {
    const nodes = stackEnv.redisClusterNodes.map((n) => `${n.host}:${n.port}`).join(',');
    t = await invalidatorTestEnv({ redisClusterNodes: nodes });
    running = await startInvalidator(loadInvalidatorConfig(t.env));
    producer = kafka('e2e-cluster').producer();
    await producer.connect();
    cluster = redisCluster();
    protocol = new CacheProtocol(cluster);
  });

  afterAll(async () => {
    await producer?.disconnect();
    await running?.close();
    cluster?.disconnect();
  });

  it('applies warms, tombstones, listing deletes and tag purges on every node without CROSSSLOT', async () => {
    const prefix = uniqueName('cl');
    const tenant = 'acme';
    const ids = Array.from({ length: 60 }, (_, i) => `${prefix}-${i}`);
    // a tenant listing that joined the tenant tag, and one category listing per product
    const tagged = `tenant-page:${prefix}`;
    const got = await protocol.leaseGet(tagged, { leaseTtlMs: 5_000 });
    if (got.kind !== 'miss') throw new Error('expected a miss');
    expect(
      await protocol.fill(got.lease, 0, '[]', { ttlMs: 60_000, tags: await protocol.readTagEpochs([`tenant:${tenant}:products`]) }),
    ).toBe('filled');
    for (const id of ids) await fillAggregate(protocol, `category:c-${id}:products`, '[]');
    // half of the product pages cached by readers at v3: the warm rewrites those; on the others
    // (nothing cached) it leaves only its floor (a warm never creates a value)
    const cached = new Set(ids.filter((_, i) => i % 2 === 0));
    for (const id of cached) await fillVersion(protocol, `product:${id}`, 3, '{"price":3}');
    const owners = new Set(ids.map((id) => cluster.slots[clusterSlot(`product:${id}`)]?.[0]));
    expect(owners.size).toBe(3); // the keys really span the three masters

    await publish(
      producer,
      t.topic,
      ids.map((id) => productEvent(id, 4, { categoryId: `c-${id}`, price: 4 })),
    );
    await eventually('all committed', async () => {
      const { committed, end } = await committedVsEnd(t.groupId, t.topic);
      return end === ids.length && committed === end;
    });
    for (const id of ids) {
      const page = await protocol.inspect(`product:${id}`);
      expect(page.tombstoneVersion).toBe(4);
      expect(page.entry?.version).toBe(cached.has(id) ? 4 : undefined);
      expect((await protocol.inspect(`product-summary:${id}`)).tombstoneVersion).toBe(4);
      expect((await protocol.inspect(`category:c-${id}:products`)).entry).toBeUndefined();
    }
    expect((await protocol.inspect(tagged)).entry).toBeUndefined(); // purged through the tenant tag
    const metrics = await (await fetch(`http://127.0.0.1:${running.port}/metrics`)).text();
    expect(metrics).not.toMatch(/invalidator_redis_retries_total [1-9]/);
  });
});
