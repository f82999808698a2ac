// The registry API against the real Kafka broker of the stack: every refusal a team can run
// into (400 bad template / unknown field / fan-out, 401, 403 wrong team, 409), explain, the
// audit, and that mappings and audit survive a restart (they live in Kafka, not in memory).
import { createHash } from 'node:crypto';
import { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { loadMappingsYamlFile } from '@app/registry-core';
import { createRegistryApp, registryStarted } from '../../apps/registry/src/registry.app';
import { stackEnv, uniqueName } from '../support/stack-env';

const TOKENS = 'catalog-token=catalog:alice,search-token=search,admin-token=*';
const CATALOG = { authorization: 'Bearer catalog-token' };
const SEARCH = { authorization: 'Bearer search-token' };
const ADMIN = { authorization: 'Bearer admin-token' };
const [CATALOG_PRODUCT] = loadMappingsYamlFile(`${__dirname}/../../examples/mappings/catalog.yaml`);
const { id: _id, version: _version, ...PRODUCT_BODY } = CATALOG_PRODUCT;

const SAMPLE_EVENT = {
  eventId: '7f1c2a4e-1b5d-4c1e-9a51-3f0e8d2b6c10',
  entityType: 'product',
  entityId: 'p-42',
  version: 7,
  tenant: 'acme',
  occurredAt: '2026-11-25T12:00:00.000Z',
  before: { name: 'Desk lamp', price: 19.5, categoryId: 'lighting' },
  after: { name: 'Desk lamp', price: 24, categoryId: 'desk' },
};

describe('registry API (real Kafka)', () => {
  const topics = { KAFKA_MAPPINGS_TOPIC: uniqueName('registry-api-mappings'), KAFKA_AUDIT_TOPIC: uniqueName('registry-api-audit') };
  let app: INestApplication;

  async function start(): Promise<INestApplication> {
    const instance = await createRegistryApp({
      KAFKA_BROKERS: stackEnv.kafkaBrokers.join(','),
      REGISTRY_TOKENS: TOKENS,
      FANOUT_CAP: 8,
      KEYSPACES_REQUIRED: false,
      LOG_LEVEL: 'error',
      ...topics,
    });
    await registryStarted(instance);
    return instance;
  }
  const http = () => request(app.getHttpServer());

  beforeAll(async () => {
    app = await start();
  });
  afterAll(async () => {
    await app?.close();
  });

  it('is ready once the topics are read, and serves the OpenAPI document', async () => {
    await http().get('/health/live').expect(200);
    await http().get('/health/ready').expect(200);
    const docs = await http().get('/docs-json').expect(200);
    expect(Object.keys(docs.body.paths)).toEqual(
      expect.arrayContaining(['/mappings', '/mappings/{id}', '/mappings/validate', '/explain', '/audit']),
    );
    expect(docs.body.components.schemas.KeyRuleDto.properties.template.example).toBe('category:{after.categoryId}:products');
  });

  it('401 without a token or with an unknown one', async () => {
    const missing = await http().get('/mappings').expect(401);
    expect(missing.body.code).toBe('NOT_AUTHENTICATED');
    expect(missing.headers['www-authenticate']).toMatch(/^Bearer/);
    expect((await http().put('/mappings/x').set({ authorization: 'Bearer nope' }).send(PRODUCT_BODY).expect(401)).body.code).toBe(
      'NOT_AUTHENTICATED',
    );
    expect((await http().get('/mappings').set({ authorization: 'Basic abc' }).expect(401)).body.code).toBe('NOT_AUTHENTICATED');
  });

  it('400 for a bad template, naming the field and the reason', async () => {
    const body = { ...PRODUCT_BODY, keys: [{ template: 'product:*', action: 'delete' }] };
    const res = await http().put('/mappings/catalog.bad').set(CATALOG).send(body).expect(400);
    expect(res.body).toMatchObject({ code: 'TEMPLATE_SYNTAX', field: 'keys[0].template' });
    expect(res.body.message).toMatch(/"\*" is not allowed/);
    const empty = await http()
      .put('/mappings/catalog.bad')
      .set(CATALOG)
      .send({ ...PRODUCT_BODY, keys: [{ template: 'product::{entityId}', action: 'delete' }] })
      .expect(400);
    expect(empty.body.code).toBe('TEMPLATE_SYNTAX');
  });

  it('400 for a template field the event does not have', async () => {
    const res = await http()
      .put('/mappings/catalog.bad')
      .set(CATALOG)
      .send({ ...PRODUCT_BODY, keys: [{ template: 'product:{sku}', action: 'delete' }] })
      .expect(400);
    expect(res.body).toMatchObject({ code: 'TEMPLATE_UNKNOWN_FIELD', field: 'keys[0].template' });
    expect(res.body.message).toMatch(/entityId, entityType, tenant, version, after.<field>, before.<field>/);
  });

  it('400 for a malformed body, naming each wrong field', async () => {
    const res = await http()
      .put('/mappings/catalog.bad')
      .set(CATALOG)
      .send({ ...PRODUCT_BODY, keys: [{ template: 'product:{entityId}', action: 'purge' }], colour: 'red' })
      .expect(400);
    expect(res.body.code).toBe('REQUEST_INVALID');
    expect(res.body.violations.map((v: { field: string }) => v.field).sort()).toEqual(['colour', 'keys[0].action']);
    await http().get('/mappings/catalog.bad').set(CATALOG).expect(404);
  });

  it('400 FANOUT_LIMIT for one mapping over the cap and for mappings of one entity type that together exceed it', async () => {
    const nine = Array.from({ length: 9 }, (_, i) => ({ template: `k${i}:{entityId}`, action: 'delete' }));
    const single = await http()
      .put('/mappings/catalog.wide')
      .set(CATALOG)
      .send({ ...PRODUCT_BODY, entityType: 'wide', keys: nine, tags: [] })
      .expect(400);
    expect(single.body).toMatchObject({ code: 'FANOUT_LIMIT', field: 'keys' });

    const five = (p: string) => Array.from({ length: 5 }, (_, i) => ({ template: `${p}${i}:{entityId}`, action: 'delete' }));
    await http()
      .put('/mappings/catalog.wide-a')
      .set(CATALOG)
      .send({ ...PRODUCT_BODY, entityType: 'wide', keys: five('a'), tags: [] })
      .expect(201);
    const combined = await http()
      .put('/mappings/catalog.wide-b')
      .set(CATALOG)
      .send({ ...PRODUCT_BODY, entityType: 'wide', tenant: 'acme', keys: five('b'), tags: [] })
      .expect(400);
    expect(combined.body.code).toBe('FANOUT_LIMIT');
    expect(combined.body.message).toMatch(
      /catalog\.wide-a, catalog\.wide-b together resolve up to 10 keys \+ tags \+ namespaces \+ purge URLs per event, over the fan-out cap of 8/,
    );
    await http().delete('/mappings/catalog.wide-a').set(CATALOG).expect(204);
  });

  it('creates, reads, updates with optimistic concurrency, and deletes a mapping', async () => {
    const created = await http().put('/mappings/catalog.product').set(CATALOG).send(PRODUCT_BODY).expect(201);
    expect(created.body).toMatchObject({ id: 'catalog.product', owner: 'catalog', version: 1, updatedBy: 'catalog:alice' });
    expect(created.headers.etag).toBe('"1"');
    // The same content again is not a change: no new version.
    expect((await http().put('/mappings/catalog.product').set(CATALOG).send(PRODUCT_BODY).expect(200)).body.version).toBe(1);

    const changed = { ...PRODUCT_BODY, keys: [{ ...PRODUCT_BODY.keys[0], ttlSeconds: 600 }, ...PRODUCT_BODY.keys.slice(1)] };
    const conflict = await http().put('/mappings/catalog.product').set(CATALOG).set('If-Match', '"7"').send(changed).expect(409);
    expect(conflict.body.code).toBe('VERSION_CONFLICT');
    const updated = await http().put('/mappings/catalog.product').set(CATALOG).set('If-Match', '"1"').send(changed).expect(200);
    expect(updated.body.version).toBe(2);
    expect((await http().get('/mappings/catalog.product').set(SEARCH).expect(200)).body.keys[0].ttlSeconds).toBe(600);
    expect(
      (await http().get('/mappings?entityType=product').set(SEARCH).expect(200)).body.mappings.map((m: { id: string }) => m.id),
    ).toEqual(['catalog.product']);

    await http()
      .put('/mappings/catalog.temp')
      .set(CATALOG)
      .send({ ...PRODUCT_BODY, entityType: 'temp' })
      .expect(201);
    await http().delete('/mappings/catalog.temp').set(CATALOG).expect(204);
    expect((await http().get('/mappings/catalog.temp').set(CATALOG).expect(404)).body.code).toBe('MAPPING_NOT_FOUND');
    await http().delete('/mappings/catalog.temp').set(CATALOG).expect(404);
  });

  it("403 when a team touches another team's mapping or creates one in another team's name", async () => {
    await http().put('/mappings/catalog.product').set(CATALOG).send(PRODUCT_BODY);
    const before = (await http().get('/mappings/catalog.product').set(CATALOG).expect(200)).body;

    const takeover = await http()
      .put('/mappings/catalog.product')
      .set(SEARCH)
      .send({ ...PRODUCT_BODY, owner: 'search', tags: [] })
      .expect(403);
    expect(takeover.body).toMatchObject({ code: 'WRONG_TEAM' });
    expect(takeover.body.message).toMatch(/belongs to team "catalog"; team "search" may not change it/);
    expect((await http().delete('/mappings/catalog.product').set(SEARCH).expect(403)).body.code).toBe('WRONG_TEAM');
    expect((await http().put('/mappings/search.fake').set(SEARCH).send(PRODUCT_BODY).expect(403)).body.code).toBe('WRONG_TEAM');

    expect((await http().get('/mappings/catalog.product').set(CATALOG).expect(200)).body).toEqual(before);
    // An admin token may change every team's mappings.
    await http()
      .put('/mappings/catalog.product')
      .set(ADMIN)
      .send({ ...PRODUCT_BODY, description: 'reviewed by platform' })
      .expect(200);
  });

  it('validates without saving', async () => {
    const candidate = { ...PRODUCT_BODY, id: 'catalog.candidate', entityType: 'candidate' };
    const ok = await http().post('/mappings/validate').set(SEARCH).send(candidate).expect(200);
    expect(ok.body).toMatchObject({ valid: true, mapping: { id: 'catalog.candidate', version: 0 } });
    expect(ok.body.changes).toEqual([{ path: '(mapping)', after: expect.objectContaining({ id: 'catalog.candidate' }) }]);
    await http().get('/mappings/catalog.candidate').set(SEARCH).expect(404);
    const bad = await http()
      .post('/mappings/validate')
      .set(SEARCH)
      .send({ ...candidate, tags: ['t:{after}'] })
      .expect(400);
    expect(bad.body).toMatchObject({ code: 'TEMPLATE_UNKNOWN_FIELD', field: 'tags[0]' });
  });

  it('explains exactly the keys and tags a sample event touches, per action', async () => {
    await http().put('/mappings/catalog.product').set(CATALOG).send(PRODUCT_BODY);
    const res = await http().post('/explain').set(SEARCH).send({ event: SAMPLE_EVENT }).expect(200);
    expect(res.body.outcome).toBe('apply');
    expect(res.body.keys.warm).toEqual([
      {
        key: 'product:p-42',
        mappingId: 'catalog.product',
        template: 'product:{entityId}',
        tombstoneTtlSeconds: 60,
        ttlSeconds: 3600,
        warmFrom: 'after',
        valueBytes: Buffer.byteLength(JSON.stringify(SAMPLE_EVENT.after)),
      },
    ]);
    expect(res.body.keys.delete.map((k: { key: string }) => k.key)).toEqual(['category:desk:products', 'category:lighting:products']);
    expect(res.body.keys.tombstone).toEqual([]);
    expect(res.body.tags).toEqual([{ tag: 'tenant:acme:products', mappingId: 'catalog.product', template: 'tenant:{tenant}:products' }]);
    expect(res.body.fanout).toBe(4);

    // A create (no before) and a delete (no after).
    const { before: _b, ...create } = SAMPLE_EVENT;
    expect((await http().post('/explain').set(SEARCH).send({ event: create }).expect(200)).body.skipped).toEqual([
      { mappingId: 'catalog.product', template: 'category:{before.categoryId}:products', missingField: 'before.categoryId' },
    ]);
    const { after: _a, ...deletion } = SAMPLE_EVENT;
    const deleted = (await http().post('/explain').set(SEARCH).send({ event: deletion }).expect(200)).body;
    expect(deleted.keys.tombstone.map((k: { key: string }) => k.key)).toEqual(['product:p-42']);

    // A hostile value: the event would be dead-lettered, nothing deleted.
    const hostile = (
      await http()
        .post('/explain')
        .set(SEARCH)
        .send({ event: { ...SAMPLE_EVENT, after: { categoryId: '*' } } })
        .expect(200)
    ).body;
    expect(hostile).toMatchObject({ outcome: 'rejected', error: { code: 'TEMPLATE_WIDENS_KEY' } });
  });

  it('explains with candidate mappings without saving them, and refuses an invalid event', async () => {
    const candidate = {
      ...CATALOG_PRODUCT,
      id: 'search.product',
      owner: 'search',
      keys: [{ template: 'search:product:{entityId}', action: 'delete' }],
      tags: [],
    };
    const res = await http()
      .post('/explain')
      .set(SEARCH)
      .send({ event: SAMPLE_EVENT, mappings: [candidate] })
      .expect(200);
    expect(res.body.keys.delete.map((k: { key: string }) => k.key)).toContain('search:product:p-42');
    await http().get('/mappings/search.product').set(SEARCH).expect(404);

    const invalid = await http()
      .post('/explain')
      .set(SEARCH)
      .send({ event: { ...SAMPLE_EVENT, version: 'seven' } })
      .expect(400);
    expect(invalid.body).toMatchObject({ code: 'EVENT_INVALID', field: 'event.version' });
  });

  it('audits every change: who, when, versions and the field-level diff, newest first', async () => {
    const id = uniqueName('catalog.audited');
    await http()
      .put(`/mappings/${id}`)
      .set(CATALOG)
      .send({ ...PRODUCT_BODY, entityType: 'audited' })
      .expect(201);
    await http()
      .put(`/mappings/${id}`)
      .set(ADMIN)
      .send({ ...PRODUCT_BODY, entityType: 'audited', tags: ['tenant:{tenant}:all'] })
      .expect(200);
    await http().delete(`/mappings/${id}`).set(CATALOG).expect(204);
    // Refused attempts change nothing and leave no entry.
    await http().put(`/mappings/${id}`).set(SEARCH).send(PRODUCT_BODY).expect(403);

    const { entries } = (await http().get(`/audit?mappingId=${id}`).set(SEARCH).expect(200)).body;
    expect(entries.map((e: { action: string }) => e.action)).toEqual(['delete', 'update', 'create']);
    const [deleted, updated, created] = entries;
    expect(created).toMatchObject({ mappingId: id, actor: { team: 'catalog', name: 'alice' }, toVersion: 1 });
    // The token id is the configured name (or "<team>#<n>"), never derived from the secret.
    expect(created.actor.tokenId).toBe('alice');
    expect(updated.actor.tokenId).toBe('*#1');
    expect(updated).toMatchObject({
      actor: { team: '*' },
      fromVersion: 1,
      toVersion: 2,
      changes: [{ path: 'tags[0]', before: 'tenant:{tenant}:products', after: 'tenant:{tenant}:all' }],
    });
    expect(deleted).toMatchObject({ fromVersion: 2, changes: [{ path: '(mapping)', before: expect.objectContaining({ id }) }] });
    expect(Date.now() - Date.parse(created.at)).toBeLessThan(60_000);
    const text = JSON.stringify((await http().get('/audit?limit=1000').set(SEARCH).expect(200)).body.entries);
    for (const secret of ['catalog-token', 'search-token', 'admin-token']) {
      expect(text).not.toContain(secret);
      // No 8-character piece of the token's SHA-256 (a digest prefix would allow offline guessing of weak tokens).
      const hash = createHash('sha256').update(secret).digest('hex');
      for (let i = 0; i + 8 <= hash.length; i++) expect(text).not.toContain(hash.slice(i, i + 8));
    }
  });

  it('applies a file in one go: dry-run diff, apply, and pruning only of the file owners', async () => {
    await http()
      .put('/mappings/search.product')
      .set(SEARCH)
      .send({ ...PRODUCT_BODY, owner: 'search', tags: [] })
      .expect(201);
    await http()
      .put('/mappings/catalog.stale')
      .set(CATALOG)
      .send({ ...PRODUCT_BODY, entityType: 'stale' })
      .expect(201);
    const file = [{ ...CATALOG_PRODUCT, description: 'from git' }];

    const dry = (await http().post('/mappings/apply').set(CATALOG).send({ mappings: file, dryRun: true }).expect(200)).body;
    expect(dry.diff.changed.map((c: { id: string }) => c.id)).toEqual(['catalog.product']);
    expect(dry.diff.removed.map((m: { id: string }) => m.id)).toEqual(['catalog.stale']);
    await http().get('/mappings/catalog.stale').set(CATALOG).expect(200);

    await http().post('/mappings/apply').set(CATALOG).send({ mappings: file }).expect(200);
    await http().get('/mappings/catalog.stale').set(CATALOG).expect(404);
    expect((await http().get('/mappings/catalog.product').set(CATALOG).expect(200)).body.description).toBe('from git');
    // The search team's mapping is not in catalog's file and is left alone.
    await http().get('/mappings/search.product').set(SEARCH).expect(200);
    // Applying another team's file is refused as a whole.
    expect((await http().post('/mappings/apply').set(SEARCH).send({ mappings: file }).expect(403)).body.code).toBe('WRONG_TEAM');
  });

  it('keeps mappings and audit across a restart (they live in Kafka)', async () => {
    const before = (await http().get('/mappings').set(CATALOG).expect(200)).body.mappings;
    const auditBefore = (await http().get('/audit?limit=1000').set(CATALOG).expect(200)).body.entries;
    expect(before.length).toBeGreaterThan(0);
    await app.close();
    app = await start();
    expect((await http().get('/mappings').set(CATALOG).expect(200)).body.mappings).toEqual(before);
    expect((await http().get('/audit?limit=1000').set(CATALOG).expect(200)).body.entries).toEqual(auditBefore);
  });
});
