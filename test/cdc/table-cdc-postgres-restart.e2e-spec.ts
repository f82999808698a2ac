// Table CDC across a PostgreSQL restart: a PostgreSQL of this test's own (the stack's is shared
// with other test files), Kafka Connect + Debezium on catalog_products, the invalidator with
// EVENT_FORMAT=debezium, real Kafka and Redis. Rows change before, during and after a fast
// restart of the database (every client, Debezium's replication connection included, is cut);
// the connector resumes from its replication slot and every change reaches Redis: each cached page
// ends at its row's last version.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import type Redis from 'ioredis';
import { CacheProtocol } from '@app/cache-protocol';
import { CatalogStore } from '../../examples/catalog/src/store/catalog-store';
import { PRODUCTS_CDC_SETTINGS, PRODUCTS_TABLE } from '../../examples/catalog/src/store/catalog-schema';
import { connectRequest, tableConnectorConfig, stopConnect } from '../../scripts/stack/connect';
import { PostgresInfo, restartPostgres, startPostgres, stopPostgres } from '../../scripts/stack/postgres';
import { InvalidatorProcess, spawnInvalidator } from '../../scripts/support/invalidator-process';
import { startTestConnector, TestConnector, uniqueSlot } from '../support/cdc';
import { fillVersion, invalidatorTestEnv } from '../support/invalidator-env';
import { createTopic, eventually, redis, uniqueName } from '../support/stack-env';

const CONNECTOR = 'catalog-products-cdc-restart';

describe('CDC: a PostgreSQL restart loses no row change', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cdc-pg-'));
  let pg: PostgresInfo;
  let sql: Client;
  let store: CatalogStore;
  let cdc: TestConnector;
  let invalidator: InvalidatorProcess;
  let r: Redis;
  let protocol: CacheProtocol;
  const slot = uniqueSlot('cdc_restart');
  const topic = `${slot}.public.${PRODUCTS_TABLE}`;

  beforeAll(async () => {
    // As root the server runs as the postgres OS user, which must reach the folder (mkdtemp makes it 0700).
    chmodSync(dir, 0o755);
    pg = await startPostgres(join(dir, 'postgres'));
    sql = new Client({ connectionString: pg.url });
    await sql.connect();
    store = await CatalogStore.open({ databaseUrl: pg.url, poolSize: 2 });
    await sql.query(`ALTER TABLE ${PRODUCTS_TABLE} REPLICA IDENTITY FULL`);
    const t = await invalidatorTestEnv({ partitions: 3 });
    await createTopic(topic, 3);
    cdc = await startTestConnector(sql, {
      name: CONNECTOR,
      slot,
      tables: [PRODUCTS_TABLE],
      config: tableConnectorConfig({ port: pg.port, database: 'postgres', table: PRODUCTS_TABLE, slot, publication: slot }),
    });
    invalidator = await spawnInvalidator({
      ...t.env,
      KAFKA_TOPIC: topic,
      ...PRODUCTS_CDC_SETTINGS,
    });
    r = redis();
    protocol = new CacheProtocol(r);
  }, 240_000);

  afterAll(async () => {
    await invalidator?.terminate();
    await store?.close().catch(() => undefined);
    // The database goes with its folder: no slot to drop, only the worker to stop.
    if (cdc) {
      await connectRequest(cdc.connect, 'DELETE', `/connectors/${CONNECTOR}`).catch(() => undefined);
      await stopConnect(cdc.connect);
    }
    await sql?.end().catch(() => undefined);
    if (pg) await stopPostgres(pg);
    rmSync(dir, { recursive: true, force: true });
    r?.disconnect();
  });

  const versions = (ids: string[]) => Promise.all(ids.map(async (id) => (await protocol.inspect(`product:${id}`)).entry?.version));

  it('rows changed before, during and after a fast restart all reach Redis at their last version', async () => {
    const prefix = uniqueName('pgr');
    const ids = Array.from({ length: 100 }, (_, i) => `${prefix}-${i}`);
    await sql.query('BEGIN');
    for (const id of ids)
      await sql.query(
        `INSERT INTO ${PRODUCTS_TABLE} (id, tenant, name, price, category_id, version, updated_at) VALUES ($1, 'acme', 'Item', 5, 'c', 1, now())`,
        [id],
      );
    await sql.query('COMMIT');
    await eventually(
      '100 floors at version 1',
      async () =>
        (await Promise.all(ids.map(async (id) => (await protocol.inspect(`product:${id}`)).tombstoneVersion))).every((v) => v === 1),
      90_000,
      250,
    );
    for (const id of ids) await fillVersion(protocol, `product:${id}`, 1, JSON.stringify({ id, version: 1 }));

    const update = (client: Client, version: number) =>
      Promise.all(
        ids.map((id) => client.query(`UPDATE ${PRODUCTS_TABLE} SET version = $2::int, price = $2::numeric WHERE id = $1`, [id, version])),
      );
    await update(sql, 2);
    // Fast restart: every session is cut, Debezium's replication connection too.
    await store.close();
    await sql.end().catch(() => undefined);
    pg = await restartPostgres(pg);
    sql = new Client({ connectionString: pg.url });
    await sql.connect();
    await update(sql, 3);
    await update(sql, 4);

    try {
      await eventually('every page at version 4', async () => (await versions(ids)).every((v) => v === 4), 180_000, 500);
    } catch (error) {
      const said = invalidator.output().trim().split('\n').slice(-20).join('\n');
      throw new Error(`${(error as Error).message}\n--- invalidator ---\n${said}\n--- connect log: ${cdc.connect.logFile} ---`);
    }
  }, 300_000);
});
