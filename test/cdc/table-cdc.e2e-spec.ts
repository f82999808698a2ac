// Change data capture of a table, no outbox and no publisher: real PostgreSQL (logical decoding),
// real Kafka Connect + Debezium's PostgreSQL connector on catalog_products, real Kafka, an
// invalidator with EVENT_FORMAT=debezium on the connector's topic, real Redis. The guarantees of
// the event path hold for row changes: a transaction that changes 1,000 rows invalidates all
// 1,000 keys; a row changed twice in one transaction is applied at its newest version and every
// category it passed through is invalidated; a delete tombstones the row's key and drops its
// category listing, and the null-valued record Debezium writes after it is skipped, not
// dead-lettered; an invalidator killed with SIGKILL mid-stream loses nothing; a delete whose
// old row is missing (REPLICA IDENTITY DEFAULT) is dead-lettered naming the fix.
import type { Client } from 'pg';
import type Redis from 'ioredis';
import { CacheProtocol } from '@app/cache-protocol';
import { DLQ_HEADERS } from '@app/contracts';
import { CatalogStore } from '../../examples/catalog/src/store/catalog-store';
import { PRODUCTS_CDC_SETTINGS, PRODUCTS_TABLE } from '../../examples/catalog/src/store/catalog-schema';
import { tableConnectorConfig } from '../../scripts/stack/connect';
import { InvalidatorProcess, spawnInvalidator } from '../../scripts/support/invalidator-process';
import { startTestConnector, TestConnector, uniqueSlot } from '../support/cdc';
import { committedVsEnd, fillAggregate, fillVersion, invalidatorTestEnv, InvalidatorTestEnv } from '../support/invalidator-env';
import { freshDatabase, pgClient, TestDatabase } from '../support/postgres';
import { createTopic, eventually, kafka, redis, uniqueName } from '../support/stack-env';

const CONNECTOR = 'catalog-products-cdc';

describe('CDC: row changes of catalog_products through Debezium (no outbox)', () => {
  let t: InvalidatorTestEnv;
  let db: TestDatabase;
  let sql: Client;
  let store: CatalogStore;
  let cdc: TestConnector;
  let invalidator: InvalidatorProcess;
  let r: Redis;
  let protocol: CacheProtocol;
  let env: Record<string, string>;
  const slot = uniqueSlot('cdc_products');
  const topic = `${slot}.public.${PRODUCTS_TABLE}`;

  beforeAll(async () => {
    t = await invalidatorTestEnv({ partitions: 3 });
    await createTopic(topic, 3);
    env = {
      ...t.env,
      KAFKA_TOPIC: topic,
      ...PRODUCTS_CDC_SETTINGS,
      CHUNK_SIZE: '100',
    };
    db = await freshDatabase('cdc_table');
    sql = await pgClient(db.url);
    store = await CatalogStore.open({ databaseUrl: db.url, poolSize: 4 });
    // An update's and a delete's old row: without it the old category could never be invalidated.
    await sql.query(`ALTER TABLE ${PRODUCTS_TABLE} REPLICA IDENTITY FULL`);
    const port = Number(new URL(db.url).port);
    cdc = await startTestConnector(sql, {
      name: CONNECTOR,
      slot,
      tables: [PRODUCTS_TABLE],
      config: tableConnectorConfig({ port, database: db.name, table: PRODUCTS_TABLE, slot, publication: slot }),
    });
    invalidator = await spawnInvalidator(env);
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

  /** `eventually`, and on timeout what the invalidator said last and where Connect logs. */
  const applied = async (what: string, condition: () => Promise<boolean>, timeoutMs = 90_000) => {
    try {
      await eventually(what, condition, timeoutMs, 250);
    } catch (error) {
      const said = invalidator.output().trim().split('\n').slice(-30).join('\n');
      throw new Error(`${(error as Error).message}\n--- invalidator ---\n${said}\n--- connect log: ${cdc.connect.logFile} ---`);
    }
  };

  const insertRows = async (ids: string[], categoryId: string) => {
    await sql.query('BEGIN');
    for (let i = 0; i < ids.length; i += 500) {
      const slice = ids.slice(i, i + 500);
      const values = slice.map((_, j) => `($${j + 1}, 'acme', 'Item', 5.00, '${categoryId}', 1, now())`).join(', ');
      await sql.query(`INSERT INTO ${PRODUCTS_TABLE} (id, tenant, name, price, category_id, version, updated_at) VALUES ${values}`, slice);
    }
    await sql.query('COMMIT');
  };

  const versionsOf = async (ids: string[]) => Promise.all(ids.map(async (id) => (await protocol.inspect(`product:${id}`)).entry?.version));

  it('one transaction changing 1,000 rows invalidates all 1,000 keys, each at its row version', async () => {
    const prefix = uniqueName('bulk');
    const ids = Array.from({ length: 1_000 }, (_, i) => `${prefix}-${i}`);
    await insertRows(ids, 'bulk-old');
    // The creates leave floors at version 1; readers then cache every page at version 1 and both listings.
    await applied('1,000 floors at version 1', async () => {
      const floors = await Promise.all(ids.map(async (id) => (await protocol.inspect(`product:${id}`)).tombstoneVersion));
      return floors.every((v) => v === 1);
    });
    for (const id of ids) await fillVersion(protocol, `product:${id}`, 1, JSON.stringify({ id, version: 1 }));
    await fillAggregate(protocol, 'category:bulk-old:products', '[]');
    await fillAggregate(protocol, 'category:bulk-new:products', '[]');

    await sql.query(
      `UPDATE ${PRODUCTS_TABLE} SET price = price + 1, category_id = 'bulk-new', version = version + 1, updated_at = now() WHERE id LIKE $1`,
      [`${prefix}-%`],
    );
    await applied('all 1,000 pages rewritten at version 2', async () => (await versionsOf(ids)).every((v) => v === 2));
    const page = JSON.parse((await protocol.inspect(`product:${ids[7]}`)).entry!.payload) as { price: number; categoryId: string };
    expect(page).toMatchObject({ price: 6, categoryId: 'bulk-new' });
    expect((await protocol.inspect('category:bulk-old:products')).entry).toBeUndefined();
    expect((await protocol.inspect('category:bulk-new:products')).entry).toBeUndefined();
  }, 240_000);

  it('a row moved twice in one transaction: newest version applied, every category it passed through invalidated', async () => {
    const id = uniqueName('mover');
    await store.create({ id, tenant: 'acme', name: 'Lamp', price: 20, categoryId: 'cat-a' });
    await applied('floor at version 1', async () => (await protocol.inspect(`product:${id}`)).tombstoneVersion === 1);
    await fillVersion(protocol, `product:${id}`, 1, JSON.stringify({ id, version: 1 }));
    for (const c of ['cat-a', 'cat-b', 'cat-c']) await fillAggregate(protocol, `category:${c}:products`, '[]');

    await sql.query('BEGIN');
    await sql.query(`UPDATE ${PRODUCTS_TABLE} SET category_id = 'cat-b', version = 2 WHERE id = $1`, [id]);
    await sql.query(`UPDATE ${PRODUCTS_TABLE} SET category_id = 'cat-c', version = 3 WHERE id = $1`, [id]);
    await sql.query('COMMIT');

    await applied('page at version 3', async () => (await protocol.inspect(`product:${id}`)).entry?.version === 3);
    expect(JSON.parse((await protocol.inspect(`product:${id}`)).entry!.payload)).toMatchObject({ categoryId: 'cat-c', version: 3 });
    for (const c of ['cat-a', 'cat-b', 'cat-c']) expect((await protocol.inspect(`category:${c}:products`)).entry).toBeUndefined();
  }, 120_000);

  it('a delete tombstones the key and drops its listing; the null record after it is skipped, committed, never dead-lettered', async () => {
    const id = uniqueName('gone');
    await store.create({ id, tenant: 'acme', name: 'Vase', price: 30, categoryId: 'cat-del' });
    await applied('floor at version 1', async () => (await protocol.inspect(`product:${id}`)).tombstoneVersion === 1);
    await fillVersion(protocol, `product:${id}`, 1, JSON.stringify({ id, version: 1 }));
    await fillAggregate(protocol, 'category:cat-del:products', '[]');

    await sql.query(`DELETE FROM ${PRODUCTS_TABLE} WHERE id = $1`, [id]);
    await applied('page gone, floor at version 2', async () => {
      const k = await protocol.inspect(`product:${id}`);
      return k.entry === undefined && k.tombstoneVersion === 2;
    });
    expect((await protocol.inspect('category:cat-del:products')).entry).toBeUndefined();
    // Everything on the topic, the null-valued record included, is committed.
    await applied('group committed to the end of the CDC topic', async () => {
      const p = await committedVsEnd(t.groupId, topic);
      return p.committed === p.end;
    });
    expect(await deadLetterCodes()).toEqual([]);
  }, 120_000);

  it('an invalidator killed with SIGKILL mid-stream loses nothing: the next one applies every change', async () => {
    const prefix = uniqueName('kill');
    const ids = Array.from({ length: 200 }, (_, i) => `${prefix}-${i}`);
    await insertRows(ids, 'kill-cat');
    await applied('200 floors at version 1', async () =>
      (await Promise.all(ids.map(async (id) => (await protocol.inspect(`product:${id}`)).tombstoneVersion))).every((v) => v === 1),
    );
    for (const id of ids) await fillVersion(protocol, `product:${id}`, 1, JSON.stringify({ id, version: 1 }));

    // Five rounds of updates, one transaction per row per round; the invalidator is killed after the first.
    const writer = (async () => {
      for (let round = 2; round <= 6; round += 1) {
        for (const id of ids)
          await sql.query(`UPDATE ${PRODUCTS_TABLE} SET version = $2::int, price = $3::numeric WHERE id = $1`, [id, round, round]);
        if (round === 2) await invalidator.kill9();
      }
    })();
    await writer;
    invalidator = await spawnInvalidator(env);
    await applied('every page at version 6', async () => (await versionsOf(ids)).every((v) => v === 6), 120_000);
  }, 240_000);

  it('a delete without the old row (REPLICA IDENTITY DEFAULT) is dead-lettered CDC_MISSING_COLUMNS, and the partition goes on', async () => {
    const id = uniqueName('keyonly');
    await store.create({ id, tenant: 'acme', name: 'Cup', price: 3, categoryId: 'cat-k' });
    await applied('floor at version 1', async () => (await protocol.inspect(`product:${id}`)).tombstoneVersion === 1);
    await sql.query(`ALTER TABLE ${PRODUCTS_TABLE} REPLICA IDENTITY DEFAULT`);
    try {
      await sql.query(`DELETE FROM ${PRODUCTS_TABLE} WHERE id = $1`, [id]);
      await applied('a CDC_MISSING_COLUMNS dead letter', async () => (await deadLetterCodes()).includes('CDC_MISSING_COLUMNS'));
      await applied('group committed to the end of the CDC topic', async () => {
        const p = await committedVsEnd(t.groupId, topic);
        return p.committed === p.end;
      });
    } finally {
      await sql.query(`ALTER TABLE ${PRODUCTS_TABLE} REPLICA IDENTITY FULL`);
    }
  }, 120_000);

  /** The reason codes of every dead letter so far. */
  async function deadLetterCodes(): Promise<string[]> {
    const admin = kafka('cdc-dlq-admin').admin();
    await admin.connect();
    const end = (await admin.fetchTopicOffsets(t.dlqTopic)).reduce((sum, p) => sum + Number(p.high), 0);
    await admin.disconnect();
    if (end === 0) return [];
    const codes: string[] = [];
    const consumer = kafka('cdc-dlq-reader').consumer({ groupId: uniqueName('cdc-dlq'), maxWaitTimeInMs: 100 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: t.dlqTopic, fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }) => void codes.push(String(message.headers?.[DLQ_HEADERS.reasonCode])) });
      await eventually('every dead letter read', () => codes.length >= end, 30_000);
    } finally {
      await consumer.disconnect();
    }
    return codes;
  }
});
