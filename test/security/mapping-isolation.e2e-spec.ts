// Isolation by mapping: one team's mapping can only ever fail its own part of an event. A
// granted team's template that gets an unsafe value, or a team's mapping outside its keyspace
// (written straight to the topic), dead-letters only that mapping's part, naming the mapping
// and the team; the entity type owner's keys are invalidated and the offset committed. A replay
// of that dead letter re-applies the whole event safely (the event was not remembered by dedupe).
// Real invalidator process, real Kafka and Redis, the registry's store on its compacted topic.
import Redis from 'ioredis';
import type { Producer } from 'kafkajs';
import { CacheProtocol } from '@app/cache-protocol';
import { DLQ_HEADERS } from '@app/contracts';
import { MappingStore } from '@app/registry-core';
import type { Mapping } from '@app/registry-core';
import { DeadLetterRecord, readDeadLetters, runDlqCli } from '../../apps/invalidator/src/cli/dlq-cli';
import { InvalidatorProcess, spawnInvalidator } from '../../scripts/support/invalidator-process';
import { productEvent, publish } from '../support/events';
import { committedVsEnd, invalidatorTestEnv, InvalidatorTestEnv } from '../support/invalidator-env';
import { eventually, kafka, redis, stackEnv, uniqueName } from '../support/stack-env';

const CATALOG: Mapping = {
  id: 'catalog.product',
  entityType: 'product',
  owner: 'catalog',
  keys: [{ template: 'product:{entityId}', action: 'tombstone', tombstoneTtlSeconds: 600 }],
  tags: [],
  version: 0,
};
/** promo was granted the entity type: its keys and tags in its own prefix; the tag takes the title. */
const promoMapping = (tag: string): Mapping => ({
  id: 'promo.product',
  entityType: 'product',
  owner: 'promo',
  keys: [{ template: 'promo:product:{entityId}', action: 'tombstone', tombstoneTtlSeconds: 600 }],
  tags: [tag],
  version: 0,
});

const header = (r: DeadLetterRecord, name: string) => (r.headers[name] === undefined ? undefined : String(r.headers[name]));

describe("isolation by mapping: one team's mapping fails only its own part of an event", () => {
  let registry: MappingStore;
  let t: InvalidatorTestEnv;
  let proc: InvalidatorProcess;
  let producer: Producer;
  let r: Redis;
  let protocol: CacheProtocol;
  let published = 0;

  const send = async (...events: ReturnType<typeof productEvent>[]) => {
    await publish(producer, t.topic, events);
    published += events.length;
  };
  const allCommitted = () =>
    eventually(
      'all published events committed',
      async () => {
        const { committed, end } = await committedVsEnd(t.groupId, t.topic);
        return end === published && committed === published;
      },
      30_000,
      100,
    );
  const deadLetters = () => readDeadLetters(kafka('e2e-isolation-dlq'), t.dlqTopic, 30_000);
  const dlq = async (args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runDlqCli([...args, '--brokers', stackEnv.kafkaBrokers.join(','), '--dlq-topic', t.dlqTopic], {
      env: {},
      out: (s) => out.push(s),
      err: (s) => err.push(s),
    });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };

  beforeAll(async () => {
    const mappingsTopic = uniqueName('cache-mappings');
    registry = new MappingStore({ brokers: stackEnv.kafkaBrokers, topic: mappingsTopic, createTopic: true, clientId: 'e2e-registry' });
    await registry.start();
    await registry.writeKeyspaces(
      [
        { op: 'put', record: { kind: 'prefix', prefix: 'product:', team: 'catalog', version: 0 } },
        { op: 'put', record: { kind: 'prefix', prefix: 'promo:', team: 'promo', version: 0 } },
        { op: 'put', record: { kind: 'entityType', entityType: 'product', team: 'catalog', grants: ['promo'], version: 0 } },
      ],
      { actor: 'e2e' },
    );
    await registry.put(CATALOG, { actor: 'e2e' });
    await registry.put(promoMapping('promo:title:{after.title}'), { actor: 'e2e' });
    t = await invalidatorTestEnv({ partitions: 1, extra: { MAPPINGS_SOURCE: 'kafka', KAFKA_MAPPINGS_TOPIC: mappingsTopic } });
    proc = await spawnInvalidator(t.env);
    producer = kafka('e2e-isolation-producer').producer({ idempotent: true, maxInFlightRequests: 1 });
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

  it("a granted team's tag gets a title with a space: the owner's key is invalidated and committed, only promo's part is dead-lettered; its replay re-applies safely", async () => {
    const id = uniqueName('p');
    await send({ ...productEvent(id, 7, { title: 'big lamp', slug: 'big-lamp' }) });
    await allCommitted();
    expect((await protocol.inspect(`product:${id}`)).tombstoneVersion).toBe(7);
    // promo's whole part is left out (its key too), not only the failing tag.
    expect((await protocol.inspect(`promo:product:${id}`)).tombstoneVersion).toBeUndefined();

    const letters = await deadLetters();
    expect(letters).toHaveLength(1);
    expect(header(letters[0], DLQ_HEADERS.reasonCode)).toBe('UNRESOLVABLE');
    expect(header(letters[0], DLQ_HEADERS.mapping)).toBe('promo.product');
    expect(header(letters[0], DLQ_HEADERS.team)).toBe('promo');
    expect(header(letters[0], DLQ_HEADERS.reason)).toMatch(/TEMPLATE_WIDENS_KEY.*after\.title/);
    const listed = await dlq(['list']);
    expect(listed.code).toBe(0);
    expect(listed.out).toMatch(/UNRESOLVABLE\s.*mapping promo\.product \(team promo\)/);

    // promo fixes its template. A probe event tells when the invalidator follows the fix: its
    // promo key is invalidated only once the new template is in effect.
    await registry.put(promoMapping('promo:title:{after.slug}'), { actor: 'e2e' });
    const probe = uniqueName('probe');
    await eventually(
      'the invalidator follows the fixed mapping',
      async () => {
        await send({ ...productEvent(probe, 1, { title: 'a b', slug: 'a-b' }) });
        await allCommitted();
        return (await protocol.inspect(`promo:product:${probe}`)).tombstoneVersion === 1;
      },
      30_000,
      500,
    );
    // The replay re-publishes the whole event: catalog's key is already at v7 (version-guarded,
    // nothing changes), promo's part is applied now. The event was not remembered by dedupe.
    const replay = await dlq(['replay', '--reason', 'UNRESOLVABLE', '--to-offset', '0', '--partition', '0']);
    expect(replay.code).toBe(0);
    published += 1;
    await allCommitted();
    expect((await protocol.inspect(`promo:product:${id}`)).tombstoneVersion).toBe(7);
    expect((await protocol.inspect(`product:${id}`)).tombstoneVersion).toBe(7);
  });

  it("a mapping outside its team's keyspace (written straight to the topic) dead-letters only its part, as FOREIGN_KEYSPACE naming mapping and team", async () => {
    const steal: Mapping = {
      id: 'promo.steal',
      entityType: 'product',
      owner: 'promo',
      keys: [{ template: 'product:{entityId}:promo', action: 'delete' }],
      tags: [],
      version: 1,
    };
    await producer.send({ topic: registry.topic, acks: -1, messages: [{ key: steal.id, value: JSON.stringify(steal) }] });
    await eventually('the registry store sees it too', () => registry.get('promo.steal') !== undefined);
    const before = (await deadLetters()).length;
    const id = uniqueName('p');
    // The invalidator follows the topic: wait until the stolen mapping is in effect there (its letter appears).
    await eventually(
      'the foreign mapping is in effect and refused',
      async () => {
        await send({ ...productEvent(id, 9, { title: 'x', slug: 'x' }) });
        await allCommitted();
        return (await deadLetters()).some((l) => header(l, DLQ_HEADERS.mapping) === 'promo.steal');
      },
      30_000,
      500,
    );
    expect((await protocol.inspect(`product:${id}`)).tombstoneVersion).toBe(9);
    expect((await protocol.inspect(`promo:product:${id}`)).tombstoneVersion).toBe(9);
    expect((await protocol.inspect(`product:${id}:promo`)).tombstoneVersion).toBeUndefined();
    const letters = (await deadLetters()).slice(before);
    const foreign = letters.filter((l) => header(l, DLQ_HEADERS.mapping) === 'promo.steal');
    expect(foreign.length).toBeGreaterThanOrEqual(1);
    expect(letters.every((l) => header(l, DLQ_HEADERS.mapping) === 'promo.steal')).toBe(true);
    expect(header(foreign[0], DLQ_HEADERS.reasonCode)).toBe('FOREIGN_KEYSPACE');
    expect(header(foreign[0], DLQ_HEADERS.team)).toBe('promo');
    expect(header(foreign[0], DLQ_HEADERS.reason)).toContain('prefix "product:" is owned by team "catalog"');
  });
});
