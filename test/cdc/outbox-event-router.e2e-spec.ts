// The catalog's outbox table read from PostgreSQL's WAL instead of drained by the polling relay:
// real PostgreSQL (logical decoding, pgoutput), real Kafka Connect with Debezium's PostgreSQL
// connector and its outbox event router, real Kafka, the real invalidator and Redis. A change
// committed by the catalog store (product row + outbox row in one transaction, no relay running)
// reaches Redis as the same entity.updated event the relay would have published: keyed
// entityType:entityId (so it lands on the partition the publisher would pick), warmed at the
// row's version; a rolled-back change never appears; the connector restarting loses nothing.
import type { Client } from 'pg';
import type Redis from 'ioredis';
import { CacheProtocol } from '@app/cache-protocol';
import type { EntityUpdated } from '@app/contracts';
import { CatalogStore } from '../../examples/catalog/src/store/catalog-store';
import { OUTBOX_TABLE } from '../../examples/catalog/src/store/catalog-schema';
import { connectRequest, outboxConnectorConfig, waitForConnectorRunning } from '../../scripts/stack/connect';
import { InvalidatorProcess, spawnInvalidator } from '../../scripts/support/invalidator-process';
import { fillVersion, invalidatorTestEnv, InvalidatorTestEnv } from '../support/invalidator-env';
import { startTestConnector, TestConnector, uniqueSlot } from '../support/cdc';
import { freshDatabase, pgClient, TestDatabase } from '../support/postgres';
import { eventually, kafka, redis, uniqueName } from '../support/stack-env';

const CONNECTOR = 'catalog-outbox';

describe('CDC: the catalog outbox through Debezium (no relay)', () => {
  let t: InvalidatorTestEnv;
  let db: TestDatabase;
  let sql: Client;
  let store: CatalogStore;
  let cdc: TestConnector;
  let invalidator: InvalidatorProcess;
  let r: Redis;
  let protocol: CacheProtocol;
  const slot = uniqueSlot('cdc_outbox');

  beforeAll(async () => {
    t = await invalidatorTestEnv({ partitions: 3 });
    db = await freshDatabase('cdc');
    sql = await pgClient(db.url);
    store = await CatalogStore.open({ databaseUrl: db.url, poolSize: 4 });
    const port = Number(new URL(db.url).port);
    cdc = await startTestConnector(sql, {
      name: CONNECTOR,
      slot,
      tables: [OUTBOX_TABLE],
      publish: 'insert',
      config: outboxConnectorConfig({ port, database: db.name, table: OUTBOX_TABLE, slot, publication: slot, topic: t.topic }),
    });
    invalidator = await spawnInvalidator(t.env);
    r = redis();
    protocol = new CacheProtocol(r);
  }, 240_000);

  afterAll(async () => {
    await invalidator?.terminate();
    await store?.close();
    await cdc?.close();
    await sql?.end();
    await db?.drop();
    r?.disconnect();
  });

  const pageOf = async (id: string) => (await protocol.inspect(`product:${id}`)).entry;

  /** `eventually`, and on timeout what the invalidator and the Connect worker said last. */
  const applied = async (what: string, condition: () => Promise<boolean>) => {
    try {
      await eventually(what, condition, 60_000, 200);
    } catch (error) {
      const said = invalidator.output().trim().split('\n').slice(-30).join('\n');
      throw new Error(`${(error as Error).message}\n--- invalidator ---\n${said}\n--- connect (${cdc.connect.logFile}) ---`);
    }
  };

  it('a committed change reaches Redis at the row version; the record is keyed like the publisher; a rollback publishes nothing', async () => {
    const mug = { id: uniqueName('mug'), tenant: 'acme', name: 'Mug', price: 9.5, categoryId: 'kitchen' };
    await store.create(mug, 'trace-1');
    // Not cached yet: the create leaves a floor at version 1 (a warm rewrites a cached value, never creates one).
    await applied('product page floored at version 1', async () => (await protocol.inspect(`product:${mug.id}`)).tombstoneVersion === 1);
    // A reader caches version 1; the next change rewrites it in place.
    await fillVersion(protocol, `product:${mug.id}`, 1, JSON.stringify({ ...mug, version: 1 }));
    await store.update(mug.id, { price: 11 });
    await applied('product page warmed at version 2', async () => (await pageOf(mug.id))?.version === 2);
    expect((JSON.parse((await pageOf(mug.id))!.payload) as { price: number }).price).toBe(11);

    // A transaction that rolls back writes no WAL record Debezium emits.
    const ghost = uniqueName('ghost');
    await sql.query('BEGIN');
    await sql.query(`INSERT INTO ${OUTBOX_TABLE} (id, event, aggregate_key) VALUES ($1, $2::jsonb, $3)`, [
      ghost,
      JSON.stringify({ eventId: ghost }),
      `product:${ghost}`,
    ]);
    await sql.query('ROLLBACK');

    // The records on the topic: exactly the two committed events, keyed entityType:entityId, values the stored events.
    const seen: { key: string; event: EntityUpdated }[] = [];
    const consumer = kafka('cdc-reader').consumer({ groupId: uniqueName('cdc-reader'), maxWaitTimeInMs: 100 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: t.topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) =>
          void seen.push({ key: String(message.key), event: JSON.parse(String(message.value)) as EntityUpdated }),
      });
      await eventually('both records read', () => seen.length >= 2, 30_000);
    } finally {
      await consumer.disconnect();
    }
    const mine = seen.filter((s) => s.event.entityId === mug.id).sort((a, b) => a.event.version - b.event.version);
    expect(mine.map((s) => [s.key, s.event.entityType, s.event.version])).toEqual([
      [`product:${mug.id}`, 'product', 1],
      [`product:${mug.id}`, 'product', 2],
    ]);
    expect(seen.some((s) => s.event.eventId === ghost)).toBe(false);
    // The outbox rows were never touched by a relay: the WAL carried them.
    const unsent = await sql.query(`SELECT count(*)::int AS n FROM ${OUTBOX_TABLE} WHERE sent_at IS NULL`);
    expect(unsent.rows[0].n).toBe(2);
  }, 120_000);

  it('changes committed while the connector is restarted are all delivered (the slot keeps them)', async () => {
    const ids = Array.from({ length: 20 }, (_, i) => `${uniqueName('cup')}-${i}`);
    await connectRequest(cdc.connect, 'POST', `/connectors/${CONNECTOR}/restart?includeTasks=true&onlyFailed=false`);
    for (const id of ids) await store.create({ id, tenant: 'acme', name: 'Cup', price: 3, categoryId: 'kitchen' });
    await waitForConnectorRunning(cdc.connect, CONNECTOR, 60_000);
    await applied('every cup floored at version 1', async () =>
      (await Promise.all(ids.map((id) => protocol.inspect(`product:${id}`)))).every((k) => k.tombstoneVersion === 1),
    );
  }, 120_000);
});
