// A table CDC source declared in the registry by the team that owns the table, against the real
// Kafka broker, a real invalidator process (EVENT_FORMAT=debezium, no CDC_* settings) and Redis.
// The registry refuses what a hostile team could try (another team's topic, an entity type it is
// only granted, object internals, absurd lists, taking a declaration over, stranding one); the
// invalidator decodes each Debezium record with its topic's current declaration: a changed
// declaration applies to the next records, a deleted one dead-letters them CDC_NO_SOURCE naming
// the topic, and declaring it again lets the partition go on. The Debezium records are written
// here with kafkajs in the shape the PostgreSQL connector writes (test/cdc runs Connect itself).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Redis from 'ioredis';
import type { Producer } from 'kafkajs';
import { stringify } from 'yaml';
import { CacheProtocol } from '@app/cache-protocol';
import { DLQ_HEADERS } from '@app/contracts';
import { runCli } from '../../apps/registry/src/cli/run-cli';
import { InvalidatorProcess, spawnInvalidator } from '../../scripts/support/invalidator-process';
import { readDlqTopic } from '../support/dlq';
import { fillVersion, invalidatorTestEnv, InvalidatorTestEnv, processMetric } from '../support/invalidator-env';
import { startTestRegistry, TestRegistry } from '../support/registry-env';
import { createTopic, eventually, kafka, redis, uniqueName } from '../support/stack-env';

const CATALOG_MAPPING = {
  entityType: 'product',
  owner: 'catalog',
  keys: [
    { template: 'product:{entityId}', action: 'warm', warmFrom: 'after', ttlSeconds: 600 },
    { template: 'category:{before.categoryId}:products', action: 'delete' },
  ],
  tags: [],
};

const DECLARATION = {
  owner: 'catalog',
  entityType: 'product',
  idColumns: ['id'],
  versionColumn: 'version',
  tenantColumn: 'tenant',
  fields: { category_id: 'categoryId' },
  numericColumns: ['price'],
  excludeColumns: ['cost'],
};

describe('a table CDC source declared in the registry (registry + invalidator, real Kafka and Redis)', () => {
  let registry: TestRegistry;
  let t: InvalidatorTestEnv;
  let proc: InvalidatorProcess | undefined;
  let producer: Producer;
  let r: Redis;
  let protocol: CacheProtocol;
  const catalogTopic = uniqueName('cdc.catalog.public.catalog_products');
  const promoTopic = uniqueName('cdc.promo.public.campaigns');
  let lsn = 26_000_000;

  /** A Debezium (PostgreSQL connector, JSON without schemas) change record of catalog_products. */
  const change = async (op: 'c' | 'u', before: Record<string, unknown> | null, after: Record<string, unknown>) => {
    lsn += 1_000;
    const value = {
      before,
      after,
      source: {
        version: '3.6.1.Final',
        connector: 'postgresql',
        name: 'cdc.catalog',
        ts_ms: Date.now(),
        db: 'shop',
        schema: 'public',
        table: 'catalog_products',
        lsn,
      },
      op,
      ts_ms: Date.now(),
    };
    await producer.send({ topic: catalogTopic, messages: [{ key: JSON.stringify({ id: after.id }), value: JSON.stringify(value) }] });
  };
  const row = (version: number, categoryId: string) => ({
    id: 'p-1',
    tenant: 'acme',
    name: 'Desk lamp',
    price: `${10 + version}.50`,
    category_id: categoryId,
    cost: '3.10',
    version,
  });
  const page = async () => {
    const entry = (await protocol.inspect('product:p-1')).entry;
    return entry ? { version: entry.version, value: JSON.parse(entry.payload) as Record<string, unknown> } : undefined;
  };
  const applied = (what: string, condition: () => Promise<boolean>) =>
    eventually(what, condition, 30_000, 200).catch((error: Error) => {
      throw new Error(`${error.message}\n--- invalidator output ---\n${proc?.output().slice(-4000)}`);
    });

  beforeAll(async () => {
    registry = await startTestRegistry(['catalog', 'promo']);
    await registry
      .http()
      .post('/keyspaces/apply')
      .set(registry.as('*'))
      .send({
        prefixes: [
          { prefix: 'product:', team: 'catalog' },
          { prefix: 'category:', team: 'catalog' },
          { prefix: 'promo:', team: 'promo' },
        ],
        entityTypes: [
          { entityType: 'product', team: 'catalog', grants: ['promo'] },
          { entityType: 'campaign', team: 'promo' },
        ],
        topics: [
          { topic: catalogTopic, team: 'catalog' },
          { topic: promoTopic, team: 'promo' },
        ],
      })
      .expect(200);
    await registry.http().put('/mappings/catalog.product').set(registry.as('catalog')).send(CATALOG_MAPPING).expect(201);
    await createTopic(catalogTopic, 1);
    t = await invalidatorTestEnv({
      partitions: 1,
      extra: {
        KAFKA_TOPIC: catalogTopic,
        EVENT_FORMAT: 'debezium',
        MAPPINGS_SOURCE: 'kafka',
        KAFKA_MAPPINGS_TOPIC: registry.mappingsTopic,
        KEYSPACES_REQUIRED: 'true',
        LOG_LEVEL: 'info',
      },
    });
    producer = kafka('e2e-registry-cdc').producer();
    await producer.connect();
    r = redis();
    protocol = new CacheProtocol(r);
  });

  afterAll(async () => {
    await producer?.disconnect();
    if (proc && proc.child.exitCode === null) await proc.terminate();
    await registry?.close();
    r?.disconnect();
  });

  describe('hostile team (registry API)', () => {
    it("promo cannot declare catalog's table, nor declare its own topic as catalog's entity type (a grant is not enough): 403 naming topic or type and owner", async () => {
      const foreignTopic = await registry
        .http()
        .put(`/sources/${catalogTopic}`)
        .set(registry.as('promo'))
        .send({ ...DECLARATION, owner: 'promo', entityType: 'campaign' })
        .expect(403);
      expect(foreignTopic.body).toMatchObject({ code: 'FOREIGN_KEYSPACE', field: 'topic' });
      expect(foreignTopic.body.message).toContain(`topic "${catalogTopic}" is owned by team "catalog"`);
      const grantedType = await registry
        .http()
        .put(`/sources/${promoTopic}`)
        .set(registry.as('promo'))
        .send({ ...DECLARATION, owner: 'promo' })
        .expect(403);
      expect(grantedType.body).toMatchObject({ code: 'FOREIGN_KEYSPACE', field: 'entityType' });
      expect(grantedType.body.message).toMatch(/entity type "product" is owned by team "catalog" \(a grant/);
      // Nor in catalog's name.
      expect(
        (await registry.http().put(`/sources/${catalogTopic}`).set(registry.as('promo')).send(DECLARATION).expect(403)).body.code,
      ).toBe('WRONG_TEAM');
      await registry.http().get(`/sources/${catalogTopic}`).set(registry.as('promo')).expect(404);
    });

    it('object internals, absurd lists, weird names and unknown fields are 400 naming the field, never a 500', async () => {
      const put = (body: string | object) =>
        registry.http().put(`/sources/${catalogTopic}`).set(registry.as('catalog')).set('content-type', 'application/json').send(body);
      const internals = await put('{"owner":"catalog","entityType":"product","idColumns":["id"],"fields":{"constructor":"x"}}').expect(400);
      expect(internals.body).toMatchObject({ code: 'REQUEST_INVALID', field: 'fields.constructor' });
      const proto = await put('{"owner":"catalog","entityType":"product","idColumns":["id"],"fields":{"__proto__":"x"}}').expect(400);
      expect(proto.body.field).toBe('fields.__proto__');
      const many = await put({ ...DECLARATION, excludeColumns: Array.from({ length: 5_000 }, (_v, i) => `c${i}`) }).expect(400);
      expect(many.body).toMatchObject({ code: 'REQUEST_INVALID', field: 'excludeColumns' });
      const reserved = await put({ ...DECLARATION, numericColumns: ['prototype'] }).expect(400);
      expect(reserved.body).toMatchObject({ code: 'SOURCE_INVALID', field: 'numericColumns[0]' });
      const twice = await put({ ...DECLARATION, fields: { a: 'x', b: 'x' } }).expect(400);
      expect(twice.body.code).toBe('SOURCE_INVALID');
      expect((await put({ ...DECLARATION, idColumns: [] }).expect(400)).body.field).toBe('idColumns');
      expect((await put({ ...DECLARATION, idColumns: ['id; drop table x'] }).expect(400)).body.field).toBe('idColumns[0]');
      expect((await put({ ...DECLARATION, table: 'public.x' }).expect(400)).body.field).toBe('table');
      await registry.http().get(`/sources/${catalogTopic}`).set(registry.as('catalog')).expect(404);
    });
  });

  it('catalog declares its table (201, ETag, audited); promo can neither rewrite nor delete it; an admin cannot take the topic away while it is declared', async () => {
    const created = await registry.http().put(`/sources/${catalogTopic}`).set(registry.as('catalog')).send(DECLARATION).expect(201);
    expect(created.headers.etag).toBe('"1"');
    expect(created.body).toMatchObject({ topic: catalogTopic, owner: 'catalog', entityType: 'product', version: 1, updatedBy: 'catalog' });
    const listed = await registry.http().get('/sources?owner=catalog').set(registry.as('promo')).expect(200);
    expect(listed.body.sources.map((s: { topic: string }) => s.topic)).toEqual([catalogTopic]);
    const takeover = await registry
      .http()
      .put(`/sources/${catalogTopic}`)
      .set(registry.as('promo'))
      .send({ ...DECLARATION, owner: 'promo', versionColumn: undefined })
      .expect(403);
    expect(takeover.body.code).toBe('WRONG_TEAM');
    expect((await registry.http().delete(`/sources/${catalogTopic}`).set(registry.as('promo')).expect(403)).body.code).toBe('WRONG_TEAM');
    const strand = await registry.http().delete(`/keyspaces/topics/${catalogTopic}`).set(registry.as('*')).expect(409);
    expect(strand.body.code).toBe('KEYSPACE_CONFLICT');
    expect(strand.body.message).toContain(`source "${catalogTopic}" (owner "catalog")`);
    const audit = await registry.http().get(`/audit?source=${catalogTopic}`).set(registry.as('promo')).expect(200);
    expect(audit.body.entries).toEqual([expect.objectContaining({ source: catalogTopic, action: 'create', toVersion: 1 })]);
  });

  it('the invalidator (EVENT_FORMAT=debezium, no CDC_* settings) applies Debezium records with the declaration: entity type, id, tenant, version column, renames, decimals, exclusions', async () => {
    proc = await spawnInvalidator(t.env);
    await change('c', null, row(1, 'lighting'));
    // A create raises the floor (a warm replaces a cached value, never creates one); a reader then fills.
    await applied('floor of product:p-1 at version 1', async () => (await protocol.inspect('product:p-1')).tombstoneVersion === 1);
    await fillVersion(protocol, 'product:p-1', 1, JSON.stringify({ id: 'p-1', version: 1 }));
    await change('u', row(1, 'lighting'), row(2, 'desk'));
    await applied('product:p-1 warmed at version 2', async () => (await page())?.version === 2);
    const warmed = (await page())!.value;
    expect(warmed).toMatchObject({ id: 'p-1', tenant: 'acme', name: 'Desk lamp', categoryId: 'desk', price: 12.5, version: 2 });
    expect(warmed).not.toHaveProperty('cost');
    expect(warmed).not.toHaveProperty('category_id');
    expect(await processMetric(proc.port, 'invalidator_source_info', { source: 'cdc:product' })).toBe(1);
    expect(proc.output()).toContain(`table declared by the registry: topic ${catalogTopic} is entity type product`);
  });

  it('a changed declaration applies to the next records (hot), a deleted one dead-letters them CDC_NO_SOURCE naming the topic, declaring it again lets the partition go on', async () => {
    /** The invalidator logs each change of the declarations it follows (LOG_LEVEL=info). */
    const followed = () => proc!.output().split('source declarations changed').length - 1;
    const seen = followed();
    await registry
      .http()
      .put(`/sources/${catalogTopic}`)
      .set(registry.as('catalog'))
      .send({ ...DECLARATION, excludeColumns: ['cost', 'name'] })
      .expect(200);
    await applied('declaration change followed', async () => followed() > seen);
    await change('u', row(2, 'desk'), row(3, 'office'));
    await applied('product:p-1 at version 3', async () => (await page())?.version === 3);
    expect((await page())!.value).not.toHaveProperty('name');

    await registry.http().delete(`/sources/${catalogTopic}`).set(registry.as('catalog')).expect(204);
    await applied(
      'source label undeclared',
      async () => (await processMetric(proc!.port, 'invalidator_source_info', { source: 'cdc:undeclared' })) === 1,
    );
    await change('u', row(3, 'office'), row(4, 'garden'));
    await applied('CDC_NO_SOURCE dead letter', async () =>
      (await readDlqTopic(t.dlqTopic)).some((d) => d.headers[DLQ_HEADERS.reasonCode] === 'CDC_NO_SOURCE'),
    );
    const letter = (await readDlqTopic(t.dlqTopic)).find((d) => d.headers[DLQ_HEADERS.reasonCode] === 'CDC_NO_SOURCE')!;
    expect(letter.headers[DLQ_HEADERS.reason]).toContain(catalogTopic);
    expect(letter.headers[DLQ_HEADERS.originTopic]).toBe(catalogTopic);
    expect((await page())!.version).toBe(3); // nothing applied without a declaration

    await registry.http().put(`/sources/${catalogTopic}`).set(registry.as('catalog')).send(DECLARATION).expect(201);
    await applied(
      'source label back',
      async () => (await processMetric(proc!.port, 'invalidator_source_info', { source: 'cdc:product' })) === 1,
    );
    await change('u', row(4, 'garden'), row(5, 'kitchen'));
    await applied('product:p-1 at version 5', async () => (await page())?.version === 5);
    expect(proc!.child.exitCode).toBeNull();
  });

  it('CLI: a team file with `sources:` next to `mappings:` is diffed (exit 3) and applied; `sources` lists them', async () => {
    const server = registry.app.getHttpServer();
    if (!server.listening) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const cli = async (argv: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await runCli(argv, {
        env: { REGISTRY_URL: url, REGISTRY_TOKEN: 'promo-token' },
        out: (s) => out.push(s),
        err: (s) => err.push(s),
      });
      return { code, out: out.join('\n'), err: err.join('\n') };
    };
    const file = join(mkdtempSync(join(tmpdir(), 'team-')), 'promo.yaml');
    writeFileSync(
      file,
      stringify({
        mappings: [
          { id: 'promo.campaign', entityType: 'campaign', owner: 'promo', keys: [{ template: 'promo:{entityId}', action: 'delete' }] },
        ],
        sources: [{ topic: promoTopic, owner: 'promo', entityType: 'campaign', idColumns: ['id'] }],
      }),
    );
    const diff = await cli(['diff', file]);
    expect(diff).toMatchObject({ code: 3 });
    expect(diff.out).toContain(`+ source ${promoTopic} (entityType campaign, owner promo, version WAL position (LSN))`);
    expect((await cli(['apply', file])).code).toBe(0);
    expect((await cli(['diff', file])).code).toBe(0);
    const listed = await cli(['sources', '--owner', 'promo']);
    expect(listed.out).toContain(`topic: ${promoTopic}`);
    // A file naming catalog's (declared) topic is refused whole: exit 1, nothing written, promo's own declaration not pruned.
    writeFileSync(file, stringify({ sources: [{ topic: catalogTopic, owner: 'promo', entityType: 'campaign', idColumns: ['id'] }] }));
    const refused = await cli(['apply', file]);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/WRONG_TEAM at owner: source "cdc\.catalog[^"]*" belongs to team "catalog"/);
    expect((await cli(['sources', '--owner', 'promo'])).out).toContain(`topic: ${promoTopic}`);
    expect((await registry.http().get(`/sources/${catalogTopic}`).set(registry.as('promo')).expect(200)).body.owner).toBe('catalog');
  });

  it("hostile team: a declaration of catalog's table written straight to the mappings topic (past the registry) never reads catalog's rows into promo's entity type: the topic's row changes are dead-lettered FOREIGN_KEYSPACE", async () => {
    const hostile = { ...DECLARATION, topic: catalogTopic, owner: 'promo', entityType: 'campaign', version: 9 };
    await producer.send({ topic: registry.mappingsTopic, messages: [{ key: `source:${catalogTopic}`, value: JSON.stringify(hostile) }] });
    await applied(
      'source label no longer product',
      async () => (await processMetric(proc!.port, 'invalidator_source_info', { source: 'cdc:undeclared' })) === 1,
    );
    await change('u', row(5, 'kitchen'), row(6, 'attic'));
    await applied('FOREIGN_KEYSPACE dead letter', async () =>
      (await readDlqTopic(t.dlqTopic)).some((d) => d.headers[DLQ_HEADERS.reasonCode] === 'FOREIGN_KEYSPACE'),
    );
    const letter = (await readDlqTopic(t.dlqTopic)).find((d) => d.headers[DLQ_HEADERS.reasonCode] === 'FOREIGN_KEYSPACE')!;
    expect(letter.headers[DLQ_HEADERS.reason]).toContain(`topic "${catalogTopic}" is owned by team "catalog"`);
    expect((await page())!.version).toBe(5);
    expect(await r.exists('promo:p-1')).toBe(0);
  });
});
