// Namespace bumps are guarded once per (entity, version), and the entity includes its tenant:
// tenant acme's product 1 at v5 must not make tenant globex's product 1 at v3 look like an
// older replay (before, the guard keyed on "product:1" and globex's change was never
// invalidated). Real invalidator process, real Kafka and Redis.
import { writeFileSync } from 'node:fs';
import Redis from 'ioredis';
import type { Producer } from 'kafkajs';
import { stringify } from 'yaml';
import { namespaceKey, namespaceVersionsKey } from '@app/cache-protocol';
import { InvalidatorProcess, spawnInvalidator } from '../../scripts/support/invalidator-process';
import { productEvent, publish } from '../support/events';
import { committedVsEnd, invalidatorTestEnv } from '../support/invalidator-env';
import { eventually, kafka, redis, uniqueName } from '../support/stack-env';

describe('namespace bumps: the once-per-entity-version guard includes the tenant', () => {
  const namespace = `${uniqueName('pricing')}:`;
  let proc: InvalidatorProcess;
  let producer: Producer;
  let r: Redis;
  let groupId: string;
  let topic: string;

  beforeAll(async () => {
    const t = await invalidatorTestEnv({ partitions: 1 });
    ({ groupId, topic } = t);
    // One namespace shared by every tenant's products (e.g. a price list all tenants read).
    const mappings = [{ id: 'pricing.product', entityType: 'product', owner: 'pricing', keys: [], tags: [], namespaces: [namespace] }];
    writeFileSync(t.mappingsFile, stringify({ mappings }));
    proc = await spawnInvalidator(t.env);
    producer = kafka('e2e-ns-tenant').producer();
    await producer.connect();
    r = redis();
  });

  afterAll(async () => {
    await producer?.disconnect();
    if (proc && proc.child.exitCode === null) await proc.terminate();
    r?.disconnect();
  });

  it('acme product 1 v5, then globex product 1 v3: both bump the namespace', async () => {
    await publish(producer, topic, [{ ...productEvent('1', 5, { price: 5 }), tenant: 'acme' }]);
    await eventually('acme bumped', async () => (await r.get(namespaceKey(namespace))) === '1');
    await publish(producer, topic, [{ ...productEvent('1', 3, { price: 3 }), tenant: 'globex' }]);
    await eventually('globex event committed', async () => {
      const { committed, end } = await committedVsEnd(groupId, topic);
      return end === 2 && committed === 2;
    });
    expect(await r.get(namespaceKey(namespace))).toBe('2');
    // A replay of globex's event is still recognised as one (the guard still works per tenant).
    await publish(producer, topic, [{ ...productEvent('1', 3, { price: 3 }), tenant: 'globex' }]);
    await eventually('replay committed', async () => {
      const { committed, end } = await committedVsEnd(groupId, topic);
      return end === 3 && committed === 3;
    });
    expect(await r.get(namespaceKey(namespace))).toBe('2');
    // Old-format records ("product:1", written before the tenant was part of the identity) are
    // never consulted: new identities contain "|", which no entity type or id can.
    expect(Object.keys(await r.hgetall(namespaceVersionsKey(namespace))).every((field) => field.includes('|'))).toBe(true);
  });
});
