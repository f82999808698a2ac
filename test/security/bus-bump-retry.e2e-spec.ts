// A namespace bump that landed in Redis during an apply attempt that failed as a whole is still
// announced on the bus once the retry succeeds (the retry finds it already bumped: "skipped").
// The first attempt fails on the second namespace of the mapping (its version record is a
// string, so the bump script answers WRONGTYPE) after the first namespace was bumped; the test
// then repairs the record and the retry goes through. A reader holding a value under the first
// namespace in its L1 must then drop it (real invalidator, real Redis, the reader in-process).
import { writeFileSync } from 'node:fs';
import Redis from 'ioredis';
import { stringify } from 'yaml';
import type { Producer } from 'kafkajs';
import { namespaceKey, namespaceVersionsKey } from '@app/cache-protocol';
import { spawnInvalidator, InvalidatorProcess } from '../../scripts/support/invalidator-process';
import { productEvent, publish } from '../support/events';
import { invalidatorTestEnv } from '../support/invalidator-env';
import { busMessages, L1Reader, startL1Reader } from '../support/l1-client';
import { eventually, kafka, redis, uniqueName } from '../support/stack-env';

describe('bus: namespace bumps of a failed apply attempt are announced after the retry', () => {
  const streamKey = `~bus{${uniqueName('bump-retry')}}`;
  const prefix = uniqueName('nsr');
  const nsA = `${prefix}-a:`;
  const nsB = `${prefix}-b:`;
  const listKey = `${nsA}list`;
  let invalidator: InvalidatorProcess | undefined;
  let reader: L1Reader | undefined;
  let producer: Producer;
  let db: Redis;
  let topic: string;

  beforeAll(async () => {
    db = redis();
    const env = await invalidatorTestEnv({
      partitions: 1,
      extra: { BUS_ENABLED: 'true', BUS_STREAM_KEY: streamKey, BUS_HEARTBEAT_MS: '100' },
    });
    topic = env.topic;
    writeFileSync(
      env.mappingsFile,
      stringify({
        mappings: [
          {
            id: 'bump-retry.product',
            entityType: 'product',
            owner: 'catalog',
            description: 'two namespaces bumped by every product event',
            keys: [{ template: `${prefix}:{entityId}`, action: 'tombstone', tombstoneTtlSeconds: 600 }],
            tags: [],
            namespaces: [nsA, nsB],
          },
        ],
      }),
    );
    // The second namespace's version record has the wrong type: its bump fails until repaired.
    await db.set(namespaceVersionsKey(nsB), 'not a hash');
    invalidator = await spawnInvalidator(env.env);
    producer = kafka('bump-retry').producer();
    await producer.connect();
    reader = await startL1Reader({ streamKey, maxStalenessMs: 1000, namespaces: [nsA] });
  }, 120_000);

  afterAll(async () => {
    await producer?.disconnect();
    await reader?.close();
    await invalidator?.terminate();
    db?.disconnect();
  }, 60_000);

  it('the first namespace, bumped in the failed attempt, is announced and dropped from L1', async () => {
    await reader!.setDb(listKey, 1);
    expect(await reader!.read(listKey)).toBe(1);
    expect(await reader!.read(listKey)).toBe(1);
    expect(reader!.client.l1Stats().entries).toBe(1);
    await reader!.setDb(listKey, 2);
    await publish(producer, topic, [productEvent('1', 2, { price: 2 })]);
    // Attempt 1: the first namespace is bumped, the second fails; the apply is retried.
    await eventually(`${nsA} bumped in Redis`, async () => (await db.get(namespaceKey(nsA))) === '1', 30_000);
    expect(await db.get(namespaceKey(nsB))).toBeNull();
    await db.del(namespaceVersionsKey(nsB));
    await eventually(`${nsB} bumped by the retry`, async () => (await db.get(namespaceKey(nsB))) === '1', 30_000);
    await eventually(
      `the bus announces ${nsA} at generation 1 (it was bumped by the failed attempt)`,
      async () => (await busMessages(db, streamKey)).some((m) => m.kind === 'inv' && m.namespaces.some(([ns, g]) => ns === nsA && g >= 1)),
      10_000,
    );
    await eventually(`the reader serves ${listKey} v2`, async () => (await reader!.read(listKey)) === 2, 10_000);
  }, 120_000);

  it('a cleanly stopped invalidator says bye after its last heartbeat (readers stop waiting for it)', async () => {
    await invalidator!.terminate();
    invalidator = undefined;
    const messages = await busMessages(db, streamKey);
    const last = messages.filter((m) => m.kind !== 'inv').pop();
    expect(last).toMatchObject({ kind: 'bye' });
    expect(messages.some((m) => m.kind === 'hb' && m.source === last!.source)).toBe(true);
  }, 60_000);
});
