// Source declarations (which Debezium change topic is which entity type, and which columns give
// id, tenant and version) are written by teams, so every field is hostile. Written before the
// code: what must never happen is that one team's declaration reads another team's table into
// its keys, freezes or drops another team's invalidations, or makes the invalidator slow or crash.
import { RegistryError } from '../errors';
import { KeyspaceRecord, Keyspaces } from '../keyspace/keyspaces';
import { cdcSourceViolations, MAX_CDC_COLUMNS } from './cdc-source';
import { CdcSources } from './cdc-sources';
import { CdcSourceDeclaration, decodeSourceRecord, sourceRecordKey, validateSourceDeclaration } from './source-declaration';
import { planSourceWrite, sourcesStrandedBy } from './source-plan';

const CATALOG_TOPIC = 'cdc.catalog.public.catalog_products';
const PROMO_TOPIC = 'cdc.promo.public.campaigns';

const RECORDS: KeyspaceRecord[] = [
  { kind: 'prefix', prefix: 'product:', team: 'catalog', version: 1 },
  { kind: 'prefix', prefix: 'promo:', team: 'promo', version: 1 },
  { kind: 'entityType', entityType: 'product', team: 'catalog', grants: ['promo'], version: 1 },
  { kind: 'entityType', entityType: 'campaign', team: 'promo', grants: [], version: 1 },
  { kind: 'topic', topic: CATALOG_TOPIC, team: 'catalog', version: 1 },
  { kind: 'topic', topic: PROMO_TOPIC, team: 'promo', version: 1 },
];
const keyspaces = new Keyspaces(RECORDS);

function declaration(overrides: Partial<CdcSourceDeclaration> = {}): CdcSourceDeclaration {
  return {
    topic: CATALOG_TOPIC,
    owner: 'catalog',
    entityType: 'product',
    idColumns: ['id'],
    versionColumn: 'version',
    tenantColumn: 'tenant',
    fields: { category_id: 'categoryId' },
    numericColumns: ['price'],
    excludeColumns: ['cost'],
    version: 1,
    ...overrides,
  };
}

/** What the registry does for a team token: owner must be the team, an existing record must be the team's. */
function asTeam(team: string) {
  return (change: { topic: string; before?: CdcSourceDeclaration; after?: CdcSourceDeclaration }) => {
    if (team === '*') return;
    if (change.before && change.before.owner !== team)
      throw new RegistryError('WRONG_TEAM', `source of team ${change.before.owner}`, 'owner');
    if (change.after && change.after.owner !== team) throw new RegistryError('WRONG_TEAM', `owner ${change.after.owner}`, 'owner');
  };
}

const stored = new Map([[CATALOG_TOPIC, declaration()]]);

function refused(run: () => unknown): RegistryError {
  try {
    run();
  } catch (error) {
    if (error instanceof RegistryError) return error;
    throw error;
  }
  throw new Error('expected a RegistryError');
}

describe('source declarations: hostile team', () => {
  it("promo cannot declare catalog's table: the topic is granted to catalog (FOREIGN_KEYSPACE naming topic and owner)", () => {
    const error = refused(() =>
      planSourceWrite(new Map(), [{ op: 'put', source: declaration({ owner: 'promo', entityType: 'campaign' }) }], {
        keyspaces,
        authorize: asTeam('promo'),
      }),
    );
    expect(error.code).toBe('FOREIGN_KEYSPACE');
    expect(error.field).toBe('topic');
    expect(error.message).toContain(`topic "${CATALOG_TOPIC}" is owned by team "catalog"`);
  });

  it('promo cannot declare its own topic as an entity type it does not own; a grant is not enough', () => {
    const granted = refused(() =>
      planSourceWrite(new Map(), [{ op: 'put', source: declaration({ topic: PROMO_TOPIC, owner: 'promo', entityType: 'product' }) }], {
        keyspaces,
        authorize: asTeam('promo'),
      }),
    );
    expect(granted.code).toBe('FOREIGN_KEYSPACE');
    expect(granted.field).toBe('entityType');
    expect(granted.message).toMatch(/entity type "product" is owned by team "catalog".*grant/);
    const unowned = refused(() =>
      planSourceWrite(new Map(), [{ op: 'put', source: declaration({ topic: PROMO_TOPIC, owner: 'promo', entityType: 'coupon' }) }], {
        keyspaces,
      }),
    );
    expect(unowned.message).toContain('entity type "coupon" is not owned by any team');
  });

  it('a topic nobody was granted cannot be declared once keyspaces are enforced', () => {
    const error = refused(() =>
      planSourceWrite(new Map(), [{ op: 'put', source: declaration({ topic: 'cdc.catalog.public.orders' }) }], { keyspaces }),
    );
    expect(error.code).toBe('FOREIGN_KEYSPACE');
    expect(error.message).toContain('topic "cdc.catalog.public.orders" is not owned by any team');
  });

  it("promo cannot take over, rewrite or delete catalog's declaration, nor write one in catalog's name", () => {
    const takeover = () =>
      planSourceWrite(stored, [{ op: 'put', source: declaration({ owner: 'promo', versionColumn: undefined }) }], {
        keyspaces,
        authorize: asTeam('promo'),
      });
    expect(refused(takeover).code).toBe('WRONG_TEAM');
    const inCatalogsName = () =>
      planSourceWrite(stored, [{ op: 'put', source: declaration({ versionColumn: 'updated_at' }) }], {
        keyspaces,
        authorize: asTeam('promo'),
      });
    expect(refused(inCatalogsName).code).toBe('WRONG_TEAM');
    const deletion = () => planSourceWrite(stored, [{ op: 'delete', topic: CATALOG_TOPIC }], { keyspaces, authorize: asTeam('promo') });
    expect(refused(deletion).code).toBe('WRONG_TEAM');
  });

  it('one declaration per topic: a second one is an update of the same record, never a second reader of the table', () => {
    const plan = planSourceWrite(stored, [{ op: 'put', source: declaration({ excludeColumns: ['cost', 'secret'] }) }], { keyspaces });
    expect(plan.changes.map((c) => [c.kind, c.key])).toEqual([['update', sourceRecordKey(CATALOG_TOPIC)]]);
    expect(plan.next.size).toBe(1);
    const twice = refused(() =>
      planSourceWrite(
        new Map(),
        [
          { op: 'put', source: declaration() },
          { op: 'put', source: declaration({ versionColumn: undefined }) },
        ],
        { keyspaces },
      ),
    );
    expect(twice.code).toBe('SOURCE_CONFLICT');
  });

  it('an entity type is fed by one version scheme only: an LSN-versioned table beside a version-column table is refused', () => {
    // An LSN (millions and more) is above any row version: such events would freeze the other table's (and the outbox's) invalidations.
    const second = declaration({ topic: 'cdc.catalog.archive.catalog_products', versionColumn: undefined });
    const withGrant = new Keyspaces([...RECORDS, { kind: 'topic', topic: second.topic, team: 'catalog', version: 1 }]);
    const error = refused(() => planSourceWrite(stored, [{ op: 'put', source: second }], { keyspaces: withGrant }));
    expect(error.code).toBe('SOURCE_CONFLICT');
    expect(error.message).toMatch(/versions by WAL position.*version column "version"/);
  });

  it("an admin may write any team's declaration, but not one that the invalidator would refuse (outside its owner's grants)", () => {
    expect(planSourceWrite(new Map(), [{ op: 'put', source: declaration() }], { keyspaces, authorize: asTeam('*') }).changes).toHaveLength(
      1,
    );
    const outside = refused(() =>
      planSourceWrite(new Map(), [{ op: 'put', source: declaration({ owner: 'promo' }) }], { keyspaces, authorize: asTeam('*') }),
    );
    expect(outside.code).toBe('FOREIGN_KEYSPACE');
  });

  it('an admin cannot strand a declaration: taking a topic or an entity type away from its declaring team is listed', () => {
    const sources = [declaration()];
    const withoutTopic = new Keyspaces(RECORDS.filter((r) => !(r.kind === 'topic' && r.topic === CATALOG_TOPIC)));
    expect(sourcesStrandedBy(keyspaces, withoutTopic, sources)).toEqual([
      expect.stringContaining(`source "${CATALOG_TOPIC}" (owner "catalog"): topic "${CATALOG_TOPIC}" is not owned by any team`),
    ]);
    const typeMoved = new Keyspaces(
      RECORDS.map((r) => (r.kind === 'entityType' && r.entityType === 'product' ? { ...r, team: 'promo', grants: ['catalog'] } : r)),
    );
    expect(sourcesStrandedBy(keyspaces, typeMoved, sources)).toHaveLength(1);
    expect(sourcesStrandedBy(keyspaces, keyspaces, sources)).toEqual([]);
  });

  it("a declaration written straight to the topic (not through the registry) for another team's table is refused by the invalidator, for that topic only", () => {
    const hostile = declaration({ topic: CATALOG_TOPIC, owner: 'promo', entityType: 'campaign' });
    const own = declaration({ topic: PROMO_TOPIC, owner: 'promo', entityType: 'campaign' });
    const view = new CdcSources([hostile, own], { keyspaces });
    const catalog = view.lookup(CATALOG_TOPIC);
    expect(catalog).toMatchObject({ code: 'FOREIGN_KEYSPACE' });
    expect('message' in catalog && catalog.message).toContain(`topic "${CATALOG_TOPIC}" is owned by team "catalog"`);
    expect(view.lookup(PROMO_TOPIC)).toMatchObject({ source: { entityType: 'campaign' } });
    expect(view.lookup('cdc.other.public.t')).toMatchObject({ code: 'CDC_NO_SOURCE' });
    expect('message' in view.lookup('cdc.other.public.t') && (view.lookup('cdc.other.public.t') as { message: string }).message).toContain(
      'cdc.other.public.t',
    );
  });

  it('bootstrap: without keyspaces any team may declare an unclaimed topic (first come), never take over a declared one; KEYSPACES_REQUIRED refuses them all', () => {
    const open = Keyspaces.NONE;
    expect(
      planSourceWrite(new Map(), [{ op: 'put', source: declaration({ owner: 'promo' }) }], { keyspaces: open, authorize: asTeam('promo') })
        .changes,
    ).toHaveLength(1);
    expect(
      refused(() =>
        planSourceWrite(stored, [{ op: 'put', source: declaration({ owner: 'promo' }) }], { keyspaces: open, authorize: asTeam('promo') }),
      ).code,
    ).toBe('WRONG_TEAM');
    expect(new CdcSources([declaration()], { keyspaces: open }).lookup(CATALOG_TOPIC)).toMatchObject({ source: { entityType: 'product' } });
    expect(new CdcSources([declaration()], { keyspaces: open, keyspacesRequired: true }).lookup(CATALOG_TOPIC)).toMatchObject({
      code: 'KEYSPACES_REQUIRED',
    });
  });

  describe('hostile content: refused with SOURCE_INVALID naming the field', () => {
    const invalid = (overrides: Record<string, unknown>) => {
      const result = validateSourceDeclaration({ ...declaration(), version: undefined, ...overrides });
      expect(result.source).toBeUndefined();
      return result.violations;
    };
    const fields = (overrides: Record<string, unknown>) => invalid(overrides).map((v) => v.field);

    it('object internals as a column or field name (__proto__, constructor, prototype), anywhere', () => {
      expect(fields({ idColumns: ['__proto__'] })).toContain('idColumns[0]');
      expect(fields({ excludeColumns: ['constructor'] })).toContain('excludeColumns[0]');
      expect(fields({ numericColumns: ['prototype'] })).toContain('numericColumns[0]');
      expect(fields({ versionColumn: '__proto__' })).toContain('versionColumn');
      expect(fields({ tenantColumn: 'constructor' })).toContain('tenantColumn');
      expect(fields({ fields: JSON.parse('{"__proto__":"x"}') })).toContain('fields.__proto__');
      expect(fields({ fields: { category_id: 'constructor' } })).toContain('fields.category_id');
      expect(invalid({ excludeColumns: ['constructor'] })[0].code).toBe('SOURCE_INVALID');
    });

    it('two columns renamed to one field, a rename onto another renamed column', () => {
      expect(invalid({ fields: { a: 'x', b: 'x' } })[0].message).toMatch(/two columns the same field name "x"/);
    });

    it('weird names: not identifiers, too long, empty, unicode look-alikes, SQL', () => {
      for (const name of ['', 'a b', 'id;drop table', 'é', 'ｉｄ', 'a'.repeat(64), '1abc', 'a-b', 'a.b'])
        expect(fields({ idColumns: [name] })).toContain('idColumns[0]');
      expect(fields({ fields: { 'a-b': 'x' } })).toContain('fields.a-b');
    });

    it('empty or absurd lists: no id column, thousands of columns, a map that is an array', () => {
      expect(fields({ idColumns: [] })).toContain('idColumns');
      const many = Array.from({ length: 5_000 }, (_v, i) => `c${i}`);
      expect(fields({ excludeColumns: many })).toContain('excludeColumns');
      expect(fields({ numericColumns: many })).toContain('numericColumns');
      expect(fields({ idColumns: many })).toContain('idColumns');
      expect(fields({ fields: Object.fromEntries(many.map((c) => [c, `f_${c}`])) })).toContain('fields');
      expect(fields({ fields: ['a', 'b'] })).toContain('fields');
      expect(fields({ idColumns: ['id', 'id'] })).toContain('idColumns');
    });

    it('unknown properties, a topic that is not a Kafka topic name, an owner or entity type that is not a name', () => {
      expect(fields({ table: 'public.x' })).toContain('table');
      for (const topic of ['', '..', '.', 'a/b', 'a b', 'x'.repeat(250), '{a}']) expect(fields({ topic })).toContain('topic');
      expect(fields({ entityType: 'prod*' })).toContain('entityType');
      expect(fields({ owner: 'team a' })).toContain('owner');
    });

    it('the limits stay where a per-record decode stays cheap', () => {
      expect(MAX_CDC_COLUMNS).toBeLessThanOrEqual(512);
      expect(
        validateSourceDeclaration({ ...declaration(), excludeColumns: Array.from({ length: MAX_CDC_COLUMNS }, (_v, i) => `c${i}`) })
          .violations,
      ).toEqual([]);
    });

    it('the env settings and the registry refuse the same names with the same rule (one implementation)', () => {
      const env = cdcSourceViolations(
        { entityType: 'product', idColumns: ['id'], fields: {}, numericColumns: [], excludeColumns: ['constructor'] },
        (field) => `CDC_${field}`,
      );
      expect(env[0].message).toMatch(/names __proto__, constructor or prototype: not allowed/);
    });
  });

  it('a stored record whose key is not its topic, or that is not JSON, is refused (the previous one stays in effect)', () => {
    const value = JSON.stringify(declaration());
    expect(decodeSourceRecord(sourceRecordKey(CATALOG_TOPIC), value)).toMatchObject({ topic: CATALOG_TOPIC, version: 1 });
    expect(decodeSourceRecord(sourceRecordKey(PROMO_TOPIC), value)).toBeInstanceOf(RegistryError);
    expect(decodeSourceRecord(sourceRecordKey(CATALOG_TOPIC), '{not json')).toBeInstanceOf(RegistryError);
    expect(decodeSourceRecord(sourceRecordKey(CATALOG_TOPIC), JSON.stringify({ ...declaration(), version: undefined }))).toBeInstanceOf(
      RegistryError,
    );
  });
});

describe('source declarations', () => {
  it('a record key can never collide with a mapping id or a keyspace record', () => {
    expect(sourceRecordKey(CATALOG_TOPIC)).toBe(`source:${CATALOG_TOPIC}`);
    // Mapping ids have no ":"; keyspace records start with "keyspace:".
    expect(sourceRecordKey('keyspace')).not.toMatch(/^keyspace:/);
  });

  it('round trip: what the store writes is what it reads back, normalised (property order, sorted lists, defaults)', () => {
    const result = validateSourceDeclaration({
      topic: CATALOG_TOPIC,
      owner: 'catalog',
      entityType: 'product',
      idColumns: ['id'],
      excludeColumns: ['secret', 'cost'],
    });
    expect(result.violations).toEqual([]);
    const written = { ...result.source!, version: 3, updatedAt: '2026-12-07T10:00:00.000Z', updatedBy: 'catalog:alice' };
    const read = decodeSourceRecord(sourceRecordKey(CATALOG_TOPIC), JSON.stringify(written));
    expect(read).toEqual({
      topic: CATALOG_TOPIC,
      owner: 'catalog',
      entityType: 'product',
      idColumns: ['id'],
      fields: {},
      numericColumns: [],
      excludeColumns: ['cost', 'secret'],
      version: 3,
      updatedAt: '2026-12-07T10:00:00.000Z',
      updatedBy: 'catalog:alice',
    });
    // Absent versionColumn = LSN versioning (and stays absent).
    expect(read).not.toHaveProperty('versionColumn');
  });

  it('a plan assigns versions, leaves unchanged declarations alone, and checks the expected version', () => {
    const plan = planSourceWrite(stored, [{ op: 'put', source: declaration({ version: 0 }) }], { keyspaces });
    expect(plan.changes).toEqual([]);
    expect(plan.unchanged).toEqual([sourceRecordKey(CATALOG_TOPIC)]);
    const changed = planSourceWrite(stored, [{ op: 'put', source: declaration({ numericColumns: [] }) }], { keyspaces, actor: 'catalog' });
    expect(changed.next.get(CATALOG_TOPIC)).toMatchObject({ version: 2, updatedBy: 'catalog', numericColumns: [] });
    expect(refused(() => planSourceWrite(stored, [{ op: 'put', source: declaration(), expectedVersion: 0 }], { keyspaces })).code).toBe(
      'VERSION_CONFLICT',
    );
    expect(refused(() => planSourceWrite(stored, [{ op: 'delete', topic: PROMO_TOPIC }], { keyspaces })).code).toBe('SOURCE_NOT_FOUND');
  });
});
