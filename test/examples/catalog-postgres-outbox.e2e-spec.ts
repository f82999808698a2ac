// example-catalog's store and outbox on the real PostgreSQL (the stack's, started on demand) and the
// real Kafka: a change writes its product row and its outbox row in one transaction (a change that
// rolls back leaves neither, and nothing is published); several relays draining one outbox table at
// once publish every row, none twice, none skipped (FOR UPDATE SKIP LOCKED + a lease); a row is
// marked sent only after Kafka acknowledged it; a crashed relay's claim runs out.
import { Client, Pool } from 'pg';
import { EntityUpdated } from '@app/contracts';
import { EntityPublisher, OutboxRelay, PostgresOutbox } from '@app/publisher';
import { createLogger } from '@app/telemetry';
import { CatalogStore } from '../../examples/catalog/src/store/catalog-store';
import { OUTBOX_TABLE, PRODUCTS_TABLE } from '../../examples/catalog/src/store/catalog-schema';
import { freshDatabase, pgClient, TestDatabase } from '../support/postgres';
import { createTopic, eventually, kafka, stackEnv, uniqueName } from '../support/stack-env';

const silent = createLogger('e2e', 'silent');
const mug = { id: 'mug', tenant: 'acme', name: 'Mug', price: 9.5, categoryId: 'kitchen' };

/** Every message of `topic` (from the beginning) once `count` arrived; the consumer is stopped. */
async function readTopic(topic: string, count: number): Promise<EntityUpdated[]> {
  const received: EntityUpdated[] = [];
  const consumer = kafka('e2e-outbox-reader').consumer({ groupId: uniqueName('outbox-reader'), maxWaitTimeInMs: 100 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void received.push(JSON.parse(String(message.value)) as EntityUpdated) });
    await eventually(`${count} messages on ${topic}`, () => received.length >= count, 30_000);
  } finally {
    await consumer.disconnect();
  }
  return received;
}

/** Messages ever written to the topic (the sum of the partitions' end offsets): duplicates count. */
async function topicMessageCount(topic: string): Promise<number> {
  const admin = kafka('e2e-outbox-admin').admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}

describe('example-catalog on PostgreSQL: the transactional outbox', () => {
  let db: TestDatabase;
  let sql: Client;
  const closers: (() => Promise<unknown>)[] = [];

  beforeEach(async () => {
    db = await freshDatabase('outbox');
    sql = await pgClient(db.url);
  });
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
    await sql.end();
    await db.drop();
  });

  async function openStore(): Promise<CatalogStore> {
    const store = await CatalogStore.open({ databaseUrl: db.url, poolSize: 4 });
    closers.push(() => store.close());
    return store;
  }

  function publisher(topic: string, brokers = stackEnv.kafkaBrokers): EntityPublisher {
    const p = new EntityPublisher({ brokers, topic, logger: silent, closeTimeoutMs: 500 });
    closers.push(() => p.disconnect());
    return p;
  }

  const outboxRows = async () =>
    (
      await sql.query<{ id: string; version: number; sent: boolean; claimed_by: string | null }>(
        `SELECT id, (event->>'version')::int AS version, sent_at IS NOT NULL AS sent, claimed_by FROM ${OUTBOX_TABLE} ORDER BY seq`,
      )
    ).rows;

  it('commits the product row and its outbox row together, the version taken from the row', async () => {
    const store = await openStore();
    await store.create(mug, 'req-1');
    // 20 concurrent changes of one product: each waits for the row lock, so each gets its own version.
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.update('mug', { price: 10 + i })));
    expect(results.map((r) => r.product.version).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 2));

    const product = (await sql.query(`SELECT version, price FROM ${PRODUCTS_TABLE} WHERE id = 'mug'`)).rows[0];
    expect(product.version).toBe(21);
    const rows = await outboxRows();
    expect(rows.map((r) => r.version)).toEqual(Array.from({ length: 21 }, (_, i) => i + 1)); // one row per version, in commit order
    const last = (await sql.query(`SELECT event FROM ${OUTBOX_TABLE} ORDER BY seq DESC LIMIT 1`)).rows[0].event as EntityUpdated;
    expect(last.after).toMatchObject({ version: 21, price: Number(product.price) });
    expect((await sql.query(`SELECT trace_id FROM ${OUTBOX_TABLE} ORDER BY seq LIMIT 1`)).rows[0].trace_id).toBe('req-1');
    expect(await store.counts()).toEqual({ products: 1, outboxPending: 21, outboxFailed: 0 });
  });

  it('a change whose transaction rolls back leaves neither row, and nothing is published', async () => {
    const topic = uniqueName('outbox-rollback');
    await createTopic(topic, 1);
    const store = await openStore();
    await store.create(mug);
    // The outbox insert fails inside the change's transaction, after the product row was updated.
    await sql.query(`CREATE FUNCTION refuse_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.event->>'version' = '2' THEN RAISE EXCEPTION 'outbox refused (test)'; END IF; RETURN NEW; END $$`);
    await sql.query(`CREATE TRIGGER refuse_outbox BEFORE INSERT ON ${OUTBOX_TABLE} FOR EACH ROW EXECUTE FUNCTION refuse_outbox()`);
    await expect(store.update('mug', { price: 99 })).rejects.toMatchObject({
      code: 'DATABASE_UNAVAILABLE',
      message: expect.stringContaining('outbox refused'),
    });
    // An event that would be refused rolls the inserted product back too.
    await expect(store.create({ ...mug, id: 'a*b' })).rejects.toMatchObject({ code: 'EVENT_INVALID' });

    expect(await store.get('mug')).toMatchObject({ version: 1, price: 9.5 });
    expect(await store.get('a*b')).toBeUndefined();
    expect((await outboxRows()).map((r) => r.version)).toEqual([1]);

    await sql.query(`DROP TRIGGER refuse_outbox ON ${OUTBOX_TABLE}`);
    await store.update('mug', { price: 12 }); // the next change takes version 2: the rolled-back one left no gap
    const relay = new OutboxRelay(store.outbox, publisher(topic), { logger: silent });
    await expect(relay.drain()).resolves.toBe(2);
    const messages = await readTopic(topic, 2);
    expect(messages.map((e) => [e.entityId, e.version, e.after?.price])).toEqual([
      ['mug', 1, 9.5],
      ['mug', 2, 12],
    ]);
    expect(await topicMessageCount(topic)).toBe(2);
  });

  it('a relay whose Kafka fails marks nothing sent and gives its claim back; a working relay then sends every row', async () => {
    const topic = uniqueName('outbox-kafka-down');
    await createTopic(topic, 3);
    const store = await openStore();
    for (const id of ['a', 'b', 'c']) await store.create({ ...mug, id });
    const down = new OutboxRelay(new PostgresOutbox(ownPool(db.url, closers), { table: OUTBOX_TABLE }), publisher(topic, ['127.0.0.1:1']), {
      logger: silent,
    });
    await expect(down.drain()).rejects.toThrow();
    expect(await outboxRows()).toEqual([
      expect.objectContaining({ sent: false, claimed_by: null }),
      expect.objectContaining({ sent: false, claimed_by: null }),
      expect.objectContaining({ sent: false, claimed_by: null }),
    ]);

    const up = new OutboxRelay(store.outbox, publisher(topic), { logger: silent });
    await expect(up.drain()).resolves.toBe(3);
    expect((await outboxRows()).every((r) => r.sent)).toBe(true);
    expect((await readTopic(topic, 3)).map((e) => e.entityId).sort()).toEqual(['a', 'b', 'c']);
  });

  it('two relays draining at once publish every row exactly once (SKIP LOCKED): none skipped, none twice', async () => {
    const topic = uniqueName('outbox-two-relays');
    await createTopic(topic, 3);
    const store = await openStore();
    const products = Array.from({ length: 10 }, (_, i) => `p${i}`);
    for (const id of products) await store.create({ ...mug, id });
    for (let round = 1; round < 15; round++) await Promise.all(products.map((id) => store.update(id, { price: round })));
    const total = 150;
    expect((await store.counts()).outboxPending).toBe(total);

    const relays = ['one', 'two'].map(
      (name) =>
        new OutboxRelay(new PostgresOutbox(ownPool(db.url, closers), { table: OUTBOX_TABLE, claimer: name }), publisher(topic), {
          batchSize: 5,
          logger: silent,
        }),
    );
    const sent = await Promise.all(relays.map((relay) => relay.drain()));
    expect(sent[0] + sent[1]).toBe(total);

    const rows = await outboxRows();
    expect(rows.filter((r) => !r.sent)).toEqual([]);
    // Both really took part: each row was sent by the relay that claimed it.
    expect(new Set(rows.map((r) => r.claimed_by))).toEqual(new Set(['one', 'two']));
    const messages = await readTopic(topic, total);
    const ids = messages.map((e) => e.eventId);
    expect(new Set(ids).size).toBe(total);
    expect(new Set(ids)).toEqual(new Set(rows.map((r) => r.id)));
    expect(await topicMessageCount(topic)).toBe(total); // nothing published twice
  });

  it('a relay that claimed rows and died holds them only until its lease runs out; then another relay takes them', async () => {
    const store = await openStore();
    await store.create(mug);
    await store.update('mug', { price: 11 });
    const crashed = new PostgresOutbox(ownPool(db.url, closers), { table: OUTBOX_TABLE, leaseMs: 1_500, claimer: 'crashed' });
    const other = new PostgresOutbox(ownPool(db.url, closers), { table: OUTBOX_TABLE, claimer: 'other' });
    expect((await crashed.unsent(10)).map((r) => r.event.version)).toEqual([1, 2]); // ... and never marks them
    expect(await other.unsent(10)).toEqual([]);
    let taken: number[] = [];
    await eventually(
      'the lease of the crashed relay to run out',
      async () => {
        taken = (await other.unsent(10)).map((r) => r.event.version);
        return taken.length > 0;
      },
      10_000,
      100,
    );
    expect(taken).toEqual([1, 2]);
    await other.markSent((await outboxRows()).map((r) => r.id));
    expect(await store.counts()).toMatchObject({ outboxPending: 0 });
  });
});

/** A pool of its own (another relay process, as far as PostgreSQL can tell), ended after the test. */
function ownPool(url: string, closers: (() => Promise<unknown>)[]): Pool {
  const pool = new Pool({ connectionString: url, max: 2 });
  pool.on('error', () => undefined);
  closers.push(() => pool.end());
  return pool;
}
