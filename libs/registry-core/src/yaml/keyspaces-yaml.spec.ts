import type { EntityUpdated } from '@app/contracts';
import { RegistryError } from '../errors';
import { StaticMappingSource } from '../store/static-mapping-source';
import type { Mapping } from '../types';
import { keyspaceRecordsOf } from './keyspaces-yaml';
import { parseMappingsDocument, parseMappingsYaml } from './mappings-yaml';

function errorOf(fn: () => unknown): RegistryError {
  try {
    fn();
  } catch (error) {
    if (error instanceof RegistryError) return error;
    throw error;
  }
  throw new Error('expected a RegistryError');
}

const event: EntityUpdated = { eventId: 'e', entityType: 'product', entityId: 'p1', version: 2, occurredAt: '2026-01-01T00:00:00Z' };
const mapping = (overrides: Partial<Mapping>): Mapping => ({
  id: 'catalog.product',
  entityType: 'product',
  owner: 'catalog',
  keys: [{ template: 'product:{entityId}', action: 'delete' }],
  tags: [],
  version: 0,
  ...overrides,
});

describe("keyspaceRecordsOf (a file's keyspaces: section)", () => {
  it("turns prefixes and entity types (team, or { team, grants }) into the topic's records", () => {
    const records = keyspaceRecordsOf({
      prefixes: { 'product:': 'catalog', 'search:': 'search' },
      entityTypes: { product: { team: 'catalog', grants: ['search'] }, campaign: 'promo' },
    });
    expect(records).toEqual([
      { kind: 'prefix', prefix: 'product:', team: 'catalog', version: 1 },
      { kind: 'prefix', prefix: 'search:', team: 'search', version: 1 },
      { kind: 'entityType', entityType: 'product', team: 'catalog', grants: ['search'], version: 1 },
      { kind: 'entityType', entityType: 'campaign', team: 'promo', grants: [], version: 1 },
    ]);
  });

  it('names the field of every bad record', () => {
    const error = errorOf(() =>
      keyspaceRecordsOf({
        prefixes: { '~x:': 'catalog', 'ok:': 'b a d' },
        entityTypes: { product: { team: 'catalog', grants: ['g', 'b a d'], extra: 1 }, 'b a d': 'catalog' },
        prefix: {},
      }),
    );
    expect(error.code).toBe('KEYSPACE_INVALID');
    expect(error.violations.map((v) => v.field)).toEqual([
      'keyspaces.prefix',
      'keyspaces.prefixes["~x:"]',
      'keyspaces.prefixes["ok:"]',
      'keyspaces.entityTypes.product.extra',
      'keyspaces.entityTypes.product.grants[1]',
      'keyspaces.entityTypes["b a d"]',
    ]);
    expect(error.message).toMatch(/keyspaces\.prefixes\["~x:"\]: a key prefix must not start with "~"/);
    expect(errorOf(() => keyspaceRecordsOf(['product:'])).field).toBe('keyspaces');
    expect(errorOf(() => keyspaceRecordsOf({ prefixes: ['product:'] })).field).toBe('keyspaces.prefixes');
  });

  it('refuses overlapping prefixes of two teams, naming the later one and the owner of the other', () => {
    const error = errorOf(() => keyspaceRecordsOf({ prefixes: { 'product:': 'catalog', 'product:x': 'promo' } }));
    expect(error).toMatchObject({ code: 'KEYSPACE_CONFLICT', field: 'keyspaces.prefixes["product:x"]' });
    expect(error.message).toMatch(/overlaps prefix "product:" owned by team "catalog"/);
    expect(keyspaceRecordsOf({ prefixes: { 'product:': 'catalog', 'product:x': 'catalog' } })).toHaveLength(2);
  });
});

describe('mapping files with keyspaces', () => {
  it("an invalidator's file may declare keyspaces; a team's GitOps file may not", () => {
    const text = 'keyspaces:\n  prefixes: { "product:": catalog }\n  entityTypes: { product: catalog }\nmappings: []\n';
    expect(parseMappingsDocument(text).keyspaces).toHaveLength(2);
    expect(parseMappingsDocument('mappings: []').keyspaces).toBeUndefined();
    expect(errorOf(() => parseMappingsYaml(text)).code).toBe('YAML_INVALID');
    expect(errorOf(() => parseMappingsDocument('mappings: []\nother: 1')).message).toMatch(/unknown top-level field\(s\) other/);
  });

  it('StaticMappingSource enforces them like the topic: a foreign mapping refuses the events it matches', () => {
    const keyspaces = keyspaceRecordsOf({ prefixes: { 'product:': 'catalog', 'promo:': 'promo' }, entityTypes: { product: 'catalog' } });
    const source = StaticMappingSource.fromMappings([mapping({}), mapping({ id: 'promo.steal', owner: 'promo' })], { keyspaces });
    expect(source.keyspaces().enforced).toBe(true);
    expect(source.current().resolve(event)).toMatchObject({ failed: [{ mappingId: 'promo.steal', code: 'FOREIGN_KEYSPACE' }] });
    const own = StaticMappingSource.fromMappings([mapping({})], { keyspaces });
    expect(
      own
        .current()
        .resolve(event)
        .keys.map((k) => k.key),
    ).toEqual(['product:p1']);
  });

  it('KEYSPACES_REQUIRED: mappings without any keyspace are refused up front', () => {
    expect(errorOf(() => StaticMappingSource.fromMappings([mapping({})], { keyspacesRequired: true })).code).toBe('KEYSPACES_REQUIRED');
    expect(StaticMappingSource.fromMappings([], { keyspacesRequired: true }).current().mappingCount).toBe(0);
    expect(
      StaticMappingSource.fromMappings([mapping({})], { keyspacesRequired: false })
        .current()
        .resolve(event).keys,
    ).toHaveLength(1);
  });
});
