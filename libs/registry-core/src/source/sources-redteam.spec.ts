// Red-team cases for source declarations, beyond sources-hostile.spec.ts: a declaration the
// invalidators refuse must not steer the registry's checks, and a live declaration must not be
// switched to a version scheme below what Redis already holds for its entity type.
import { RegistryError } from '../errors';
import { KeyspaceRecord, Keyspaces } from '../keyspace/keyspaces';
import { CdcSources } from './cdc-sources';
import { CdcSourceDeclaration } from './source-declaration';
import { planSourceWrite } from './source-plan';

const CATALOG_TOPIC = 'cdc.catalog.public.catalog_products';
const PROMO_TOPIC = 'cdc.promo.public.campaigns';

const ARCHIVE_TOPIC = 'cdc.catalog.archive.catalog_products';

const RECORDS: KeyspaceRecord[] = [
  { kind: 'entityType', entityType: 'product', team: 'catalog', grants: ['promo'], version: 1 },
  { kind: 'entityType', entityType: 'catalog_item', team: 'catalog', grants: [], version: 1 },
  { kind: 'entityType', entityType: 'campaign', team: 'promo', grants: [], version: 1 },
  { kind: 'topic', topic: CATALOG_TOPIC, team: 'catalog', version: 1 },
  { kind: 'topic', topic: ARCHIVE_TOPIC, team: 'catalog', version: 1 },
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
    fields: {},
    numericColumns: [],
    excludeColumns: [],
    version: 1,
    ...overrides,
  };
}

function refused(run: () => unknown): RegistryError {
  try {
    run();
  } catch (error) {
    if (error instanceof RegistryError) return error;
    throw error;
  }
  throw new Error('expected a RegistryError');
}

describe('source declarations: red team', () => {
  it("a declaration the invalidators refuse (written past the registry for another team's entity type) cannot veto the owner's declaration by the one-scheme rule", () => {
    // promo writes straight to the compacted topic: its own topic, catalog's entity type, LSN versioning.
    const forged = declaration({ topic: PROMO_TOPIC, owner: 'promo', versionColumn: undefined });
    expect(new CdcSources([forged], { keyspaces }).lookup(PROMO_TOPIC)).toMatchObject({ code: 'FOREIGN_KEYSPACE' });
    const current = new Map([[PROMO_TOPIC, forged]]);
    const plan = planSourceWrite(current, [{ op: 'put', source: declaration() }], { keyspaces });
    expect(plan.changes.map((c) => [c.kind, c.topic])).toEqual([['create', CATALOG_TOPIC]]);
    // Declarations in force still count: catalog's own LSN-versioned second table is refused.
    const own = new Map([[CATALOG_TOPIC, declaration()]]);
    const second = declaration({ topic: ARCHIVE_TOPIC, versionColumn: undefined });
    expect(refused(() => planSourceWrite(own, [{ op: 'put', source: second }], { keyspaces })).code).toBe('SOURCE_CONFLICT');
  });

  it('a live declaration cannot be switched from WAL positions to a version column: every key of the type already holds an LSN above any row version', () => {
    const lsn = new Map([[CATALOG_TOPIC, declaration({ versionColumn: undefined })]]);
    const error = refused(() => planSourceWrite(lsn, [{ op: 'put', source: declaration() }], { keyspaces }));
    expect(error.code).toBe('SOURCE_CONFLICT');
    expect(error.field).toBe('versionColumn');
    expect(error.message).toMatch(/WAL position.*version column "version".*namespace/);
    // The other way (a column to the LSN) only raises versions; a new entity type starts fresh.
    const column = new Map([[CATALOG_TOPIC, declaration()]]);
    expect(planSourceWrite(column, [{ op: 'put', source: declaration({ versionColumn: undefined }) }], { keyspaces }).changes).toHaveLength(
      1,
    );
    expect(planSourceWrite(lsn, [{ op: 'put', source: declaration({ entityType: 'catalog_item' }) }], { keyspaces }).changes).toHaveLength(
      1,
    );
  });
});
