// Registry keyspaces against the real Kafka broker: a team owns key prefixes and
// entity types (granted by an admin token); a mapping producing keys or tags outside its owner's
// prefixes, or attached to an entity type its team neither owns nor was granted, is 403 naming
// the prefix and the owning team. Keyspace changes live in the compacted topic and are audited
// in the same transaction; the audit never shows anything derived from a token.
import { createHash } from 'node:crypto';
import { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { loadMappingsYamlFile } from '@app/registry-core';
import { createRegistryApp, registryStarted } from '../../apps/registry/src/registry.app';
import { runCli } from '../../apps/registry/src/cli/run-cli';
import { stackEnv, uniqueName } from '../support/stack-env';

const SECRETS = { catalog: 'catalog-token', promo: 'promo-token', admin: 'admin-token' };
const TOKENS = `${SECRETS.catalog}=catalog:alice,${SECRETS.promo}=promo,${SECRETS.admin}=*:ops`;
const CATALOG = { authorization: `Bearer ${SECRETS.catalog}` };
const PROMO = { authorization: `Bearer ${SECRETS.promo}` };
const ADMIN = { authorization: `Bearer ${SECRETS.admin}` };
const [CATALOG_PRODUCT] = loadMappingsYamlFile(`${__dirname}/../../examples/mappings/catalog.yaml`);
const { id: _id, version: _version, ...PRODUCT_BODY } = CATALOG_PRODUCT;
/** The attack of the issue: promo's own entity type, catalog's key, warmed for 30 days. */
const PROMO_STEAL = {
  entityType: 'campaign',
  owner: 'promo',
  keys: [{ template: 'product:{entityId}', action: 'warm', ttlSeconds: 2_592_000 }],
  tags: [],
};
const PROMO_OWN = { entityType: 'campaign', owner: 'promo', keys: [{ template: 'promo:campaign:{entityId}', action: 'delete' }], tags: [] };

const SAMPLE_EVENT = {
  eventId: '7f1c2a4e-1b5d-4c1e-9a51-3f0e8d2b6c10',
  entityType: 'product',
  entityId: 'p-42',
  version: 7,
  tenant: 'acme',
  occurredAt: '2026-11-25T12:00:00.000Z',
  before: { categoryId: 'lighting' },
  after: { price: 24, categoryId: 'desk' },
};

describe('registry keyspaces (real Kafka)', () => {
  const topics = { KAFKA_MAPPINGS_TOPIC: uniqueName('registry-ks-mappings'), KAFKA_AUDIT_TOPIC: uniqueName('registry-ks-audit') };
  let app: INestApplication;

  async function start(): Promise<INestApplication> {
    const instance = await createRegistryApp({
      KAFKA_BROKERS: stackEnv.kafkaBrokers.join(','),
      REGISTRY_TOKENS: TOKENS,
      KEYSPACES_REQUIRED: false,
      LOG_LEVEL: 'silent',
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

  it('bootstrap: with no keyspace declared nothing is enforced; a first declaration that would strand stored mappings is 409; one apply declaring all turns it on', async () => {
    expect((await http().get('/keyspaces').set(PROMO).expect(200)).body).toEqual({
      enforced: false,
      required: false,
      prefixes: [],
      entityTypes: [],
      teams: [],
      topics: [],
    });
    // An existing deployment: mappings written before any ownership was declared.
    await http().put('/mappings/catalog.product').set(CATALOG).send(PRODUCT_BODY).expect(201);
    await http().put('/mappings/promo.campaign').set(PROMO).send(PROMO_OWN).expect(201);

    const partial = await http().put('/keyspaces/prefixes/product:').set(ADMIN).send({ team: 'catalog' }).expect(409);
    expect(partial.body.code).toBe('KEYSPACE_CONFLICT');
    expect(partial.body.message).toMatch(/mapping "catalog\.product" \(owner "catalog"\): entity type "product" is not owned by any team/);
    expect((await http().get('/keyspaces').set(ADMIN).expect(200)).body.enforced).toBe(false);

    const applied = await http()
      .post('/keyspaces/apply')
      .set(ADMIN)
      .send({
        prefixes: [
          { prefix: 'product:', team: 'catalog' },
          { prefix: 'category:', team: 'catalog' },
          { prefix: 'tenant:', team: 'catalog' },
          { prefix: 'promo:', team: 'promo' },
        ],
        entityTypes: [
          { entityType: 'product', team: 'catalog' },
          { entityType: 'campaign', team: 'promo' },
        ],
      })
      .expect(200);
    expect(applied.body.changes).toHaveLength(6);
    const view = (await http().get('/keyspaces').set(PROMO).expect(200)).body;
    expect(view.enforced).toBe(true);
    expect(view.prefixes.map((p: { prefix: string; team: string }) => `${p.prefix}=${p.team}`)).toEqual([
      'category:=catalog',
      'product:=catalog',
      'promo:=promo',
      'tenant:=catalog',
    ]);
    expect(view.entityTypes).toEqual([
      expect.objectContaining({ entityType: 'campaign', team: 'promo', grants: [] }),
      expect.objectContaining({ entityType: 'product', team: 'catalog', grants: [], version: 1, updatedBy: '*:ops' }),
    ]);
  });

  it("403 FOREIGN_KEYSPACE when promo registers catalog's key for its own entity type, naming the prefix and the owner; nothing stored", async () => {
    const res = await http().put('/mappings/promo.steal').set(PROMO).send(PROMO_STEAL).expect(403);
    expect(res.body).toMatchObject({ code: 'FOREIGN_KEYSPACE', field: 'keys[0].template' });
    expect(res.body.message).toContain('key template "product:{entityId}": prefix "product:" is owned by team "catalog"');
    await http().get('/mappings/promo.steal').set(PROMO).expect(404);
    // Not through apply, validate, or an admin writing it in promo's name either.
    expect(
      (
        await http()
          .post('/mappings/apply')
          .set(PROMO)
          .send({ mappings: [{ id: 'promo.steal', ...PROMO_STEAL }], prune: false })
          .expect(403)
      ).body.code,
    ).toBe('FOREIGN_KEYSPACE');
    expect(
      (
        await http()
          .post('/mappings/validate')
          .set(PROMO)
          .send({ id: 'promo.steal', ...PROMO_STEAL })
          .expect(403)
      ).body.code,
    ).toBe('FOREIGN_KEYSPACE');
    expect((await http().put('/mappings/promo.steal').set(ADMIN).send(PROMO_STEAL).expect(403)).body.code).toBe('FOREIGN_KEYSPACE');
    // Tags too, and templates that start with a variable.
    const tag = await http()
      .put('/mappings/promo.tag')
      .set(PROMO)
      .send({ ...PROMO_OWN, tags: ['tenant:{tenant}:products'] })
      .expect(403);
    expect(tag.body.message).toContain('tag template "tenant:{tenant}:products": prefix "tenant:" is owned by team "catalog"');
    const variable = await http()
      .put('/mappings/promo.var')
      .set(PROMO)
      .send({ ...PROMO_OWN, keys: [{ template: '{entityId}:promo', action: 'delete' }] })
      .expect(403);
    expect(variable.body.message).toContain('starts with a variable');
  });

  it("catalog's own mapping is accepted; explain names the owner of each key's prefix", async () => {
    await http()
      .put('/mappings/catalog.product')
      .set(CATALOG)
      .send({ ...PRODUCT_BODY, description: 'owned' })
      .expect(200);
    await http()
      .put('/mappings/catalog.detail')
      .set(CATALOG)
      .send({ ...PRODUCT_BODY, keys: [{ template: 'product:detail:{entityId}', action: 'delete' }], tags: [] })
      .expect(201);
    const explained = (await http().post('/explain').set(PROMO).send({ event: SAMPLE_EVENT }).expect(200)).body;
    expect(explained).toMatchObject({ outcome: 'apply', keyspacesEnforced: true });
    expect(explained.keys.warm).toEqual([expect.objectContaining({ key: 'product:p-42', keyspaceOwner: 'catalog' })]);
    expect(explained.tags).toEqual([expect.objectContaining({ tag: 'tenant:acme:products', keyspaceOwner: 'catalog' })]);
    // A candidate foreign mapping: explain says the invalidator would dead-letter its part only
    // (isolation by mapping), naming it and its team; catalog's keys are still applied.
    const candidate = { id: 'promo.steal', ...PROMO_STEAL, entityType: 'product' };
    const partial = (
      await http()
        .post('/explain')
        .set(PROMO)
        .send({ event: SAMPLE_EVENT, mappings: [candidate] })
        .expect(200)
    ).body;
    expect(partial).toMatchObject({
      outcome: 'partial',
      failed: [expect.objectContaining({ mappingId: 'promo.steal', owner: 'promo', code: 'FOREIGN_KEYSPACE' })],
    });
    expect(partial.keys.warm).toEqual([expect.objectContaining({ key: 'product:p-42', mappingId: 'catalog.product' })]);
  });

  it("another team's entity type is 403 until an admin grants it; the grantee's keys stay in its own prefixes", async () => {
    const onProduct = { ...PROMO_OWN, entityType: 'product', keys: [{ template: 'promo:product:{entityId}', action: 'delete' }] };
    const refused = await http().put('/mappings/promo.product').set(PROMO).send(onProduct).expect(403);
    expect(refused.body).toMatchObject({ code: 'FOREIGN_KEYSPACE', field: 'entityType' });
    expect(refused.body.message).toContain('entity type "product" is owned by team "catalog" and not granted to team "promo"');

    expect((await http().put('/keyspaces/entity-types/product/grants/promo').set(ADMIN).expect(200)).body).toMatchObject({
      entityType: 'product',
      team: 'catalog',
      grants: ['promo'],
    });
    await http().put('/mappings/promo.product').set(PROMO).send(onProduct).expect(201);
    // Granted the entity type, not catalog's keys.
    expect(
      (
        await http()
          .put('/mappings/promo.product')
          .set(PROMO)
          .send({ ...onProduct, keys: [{ template: 'product:{entityId}', action: 'delete' }] })
          .expect(403)
      ).body.message,
    ).toContain('prefix "product:" is owned by team "catalog"');
    // Revoking while promo's mapping needs the grant would strand it.
    expect((await http().delete('/keyspaces/entity-types/product/grants/promo').set(ADMIN).expect(409)).body.code).toBe(
      'KEYSPACE_CONFLICT',
    );
    await http().delete('/mappings/promo.product').set(PROMO).expect(204);
    await http().delete('/keyspaces/entity-types/product/grants/promo').set(ADMIN).expect(204);
    expect(
      (await http().get('/keyspaces').set(PROMO).expect(200)).body.entityTypes.find(
        (t: { entityType: string }) => t.entityType === 'product',
      ).grants,
    ).toEqual([]);
  });

  it('keyspace changes are admin-only (403 ADMIN_ONLY with a clear message), and overlapping or stranding changes are 409', async () => {
    const attempts = [
      () => http().put('/keyspaces/prefixes/product:').set(PROMO).send({ team: 'promo' }),
      () => http().delete('/keyspaces/prefixes/product:').set(CATALOG),
      () => http().put('/keyspaces/entity-types/product').set(PROMO).send({ team: 'promo' }),
      () => http().put('/keyspaces/entity-types/product/grants/promo').set(PROMO),
      () => http().delete('/keyspaces/entity-types/campaign').set(PROMO),
      () =>
        http()
          .post('/keyspaces/apply')
          .set(PROMO)
          .send({ prefixes: [{ prefix: 'product:', team: 'promo' }] }),
    ];
    for (const attempt of attempts) {
      const res = await attempt().expect(403);
      expect(res.body.code).toBe('ADMIN_ONLY');
      expect(res.body.message).toMatch(
        /needs an admin token \(team "\*"\); team "(promo|catalog)" may not change key prefix, entity type or topic ownership/,
      );
    }
    expect(
      (await http().get('/keyspaces').set(PROMO).expect(200)).body.prefixes.find((p: { prefix: string }) => p.prefix === 'product:').team,
    ).toBe('catalog');

    const overlap = await http().put('/keyspaces/prefixes/product:promo:').set(ADMIN).send({ team: 'promo' }).expect(409);
    expect(overlap.body.message).toContain('overlaps prefix "product:" owned by team "catalog"');
    const strand = await http().delete('/keyspaces/prefixes/product:').set(ADMIN).expect(409);
    expect(strand.body.message).toMatch(/mapping "catalog\.product".*prefix "product:" is not owned by any team/);
    expect((await http().put('/keyspaces/prefixes/bad{x}').set(ADMIN).send({ team: 'promo' }).expect(400)).body.code).toBe(
      'KEYSPACE_INVALID',
    );
    // A prefix nobody uses can be given and taken back.
    await http().put('/keyspaces/prefixes/promo-extra:').set(ADMIN).send({ team: 'promo' }).expect(201);
    await http().put('/keyspaces/prefixes/promo-extra:').set(ADMIN).send({ team: 'promo' }).expect(200);
    await http().delete('/keyspaces/prefixes/promo-extra:').set(ADMIN).expect(204);
  });

  it('audits keyspace changes in the same topic as mapping changes, and never shows anything derived from a token', async () => {
    const entries = (await http().get('/audit?limit=1000').set(PROMO).expect(200)).body.entries as {
      keyspace?: string;
      mappingId?: string;
      action: string;
      actor: { team: string; tokenId: string };
    }[];
    const grant = entries.find((e) => e.keyspace === 'keyspace:entity-type:product' && e.action === 'update');
    expect(grant).toMatchObject({
      actor: { team: '*', name: 'ops', tokenId: 'ops' },
      changes: expect.arrayContaining([expect.objectContaining({ path: 'grants' })]),
    });
    expect(entries.filter((e) => e.keyspace === 'keyspace:prefix:promo-extra:').map((e) => e.action)).toEqual(['delete', 'create']);
    expect(entries.find((e) => e.mappingId === 'promo.campaign')?.actor).toEqual({ team: 'promo', tokenId: 'promo#1' });
    const text = JSON.stringify(entries);
    for (const secret of Object.values(SECRETS)) {
      expect(text).not.toContain(secret);
      const hash = createHash('sha256').update(secret).digest('hex');
      for (let i = 0; i + 8 <= hash.length; i++) expect(text).not.toContain(hash.slice(i, i + 8));
    }
  });

  it('keeps keyspaces across a restart (they live in the compacted topic)', async () => {
    const before = (await http().get('/keyspaces').set(PROMO).expect(200)).body;
    await app.close();
    app = await start();
    expect((await http().get('/keyspaces').set(PROMO).expect(200)).body).toEqual(before);
    expect((await http().put('/mappings/promo.steal').set(PROMO).send(PROMO_STEAL).expect(403)).body.code).toBe('FOREIGN_KEYSPACE');
  });

  it('CLI: `keyspaces` lists ownership; `keyspaces-apply` declares a file with an admin token (a team token exits 1 with ADMIN_ONLY)', async () => {
    const server = app.getHttpServer();
    if (!server.listening) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const cli = async (argv: string[], token: string) => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await runCli(argv, {
        env: { REGISTRY_URL: url, REGISTRY_TOKEN: token },
        out: (t) => out.push(t),
        err: (t) => err.push(t),
      });
      return { code, out: out.join('\n'), err: err.join('\n') };
    };
    const listed = await cli(['keyspaces'], SECRETS.promo);
    expect(listed.code).toBe(0);
    expect(listed.out).toMatch(/enforced: yes/);
    expect(listed.out).toMatch(/prefix\s+"product:"\s+catalog/);

    const file = `${__dirname}/../../examples/keyspaces.yaml`;
    const refused = await cli(['keyspaces-apply', file], SECRETS.catalog);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/ADMIN_ONLY/);
    const applied = await cli(['keyspaces-apply', file], SECRETS.admin);
    expect(applied).toMatchObject({ code: 0, out: 'nothing to apply' });
  });
});
