// Source declarations in files: a team's GitOps file (`sources:` next to `mappings:`), the topic
// grants of a `keyspaces:` section, and an invalidator's MAPPINGS_FILE (StaticMappingSource),
// whose declarations are checked against its keyspaces like the topic's.
import { RegistryError } from '../errors';
import { StaticMappingSource } from '../store/static-mapping-source';
import { keyspaceRecordsOf } from '../yaml/keyspaces-yaml';
import { parseMappingsDocument, parseTeamFile } from '../yaml/mappings-yaml';

const SOURCE = 'topic: cdc.catalog.public.catalog_products\n    owner: catalog\n    entityType: product\n    idColumns: [id]';

function errorOf(fn: () => unknown): RegistryError {
  try {
    fn();
  } catch (error) {
    if (error instanceof RegistryError) return error;
    throw error;
  }
  throw new Error('expected a RegistryError');
}

describe('source declarations in YAML', () => {
  it('a team file may hold sources next to its mappings, or sources alone; without the section they stay undefined', () => {
    const both = parseTeamFile(`mappings: []\nsources:\n  - ${SOURCE}\n    versionColumn: version\n`);
    expect(both.sources).toEqual([
      expect.objectContaining({ topic: 'cdc.catalog.public.catalog_products', versionColumn: 'version', version: 1 }),
    ]);
    expect(parseTeamFile(`sources:\n  - ${SOURCE}\n`).mappings).toEqual([]);
    expect(parseTeamFile('mappings: []').sources).toBeUndefined();
  });

  describe('hostile team', () => {
    it('every problem names its place in the file: a reserved name, a topic declared twice, two version schemes for one entity type', () => {
      expect(errorOf(() => parseTeamFile(`sources:\n  - ${SOURCE}\n    excludeColumns: [constructor]\n`)).field).toBe(
        'sources[0].excludeColumns[0]',
      );
      expect(errorOf(() => parseTeamFile(`sources:\n  - ${SOURCE}\n    fields: { __proto__: x }\n`)).field).toMatch(
        /^sources\[0\]\.fields/,
      );
      const twice = errorOf(() => parseTeamFile(`sources:\n  - ${SOURCE}\n  - ${SOURCE}\n`));
      expect(twice).toMatchObject({ code: 'SOURCE_CONFLICT', field: 'sources[1].topic' });
      const other = SOURCE.replace('catalog_products', 'archived_products');
      const schemes = errorOf(() => parseTeamFile(`sources:\n  - ${SOURCE}\n    versionColumn: version\n  - ${other}\n`));
      expect(schemes.code).toBe('SOURCE_CONFLICT');
      expect(errorOf(() => parseTeamFile('sources: { a: 1 }')).code).toBe('YAML_INVALID');
    });

    it("an invalidator's file: a declaration outside its owner's topic grant has its topic refused, the others are used", () => {
      const document = parseMappingsDocument(
        [
          'keyspaces:',
          '  prefixes: { "product:": catalog, "promo:": promo }',
          '  entityTypes: { product: catalog, campaign: promo }',
          '  topics: { cdc.catalog.public.catalog_products: catalog, cdc.promo.public.campaigns: promo }',
          'mappings: []',
          'sources:',
          '  - { topic: cdc.catalog.public.catalog_products, owner: promo, entityType: campaign, idColumns: [id] }',
          '  - { topic: cdc.promo.public.campaigns, owner: promo, entityType: campaign, idColumns: [id] }',
        ].join('\n'),
      );
      const source = StaticMappingSource.fromMappings(document.mappings, { keyspaces: document.keyspaces, sources: document.sources });
      expect(source.sources().lookup('cdc.catalog.public.catalog_products')).toMatchObject({ code: 'FOREIGN_KEYSPACE' });
      expect(source.sources().lookup('cdc.promo.public.campaigns')).toMatchObject({ source: { entityType: 'campaign' } });
    });

    it('a file with sources but no keyspaces is refused under KEYSPACES_REQUIRED', () => {
      const document = parseMappingsDocument(`mappings: []\nsources:\n  - ${SOURCE}\n`);
      expect(
        errorOf(() => StaticMappingSource.fromMappings(document.mappings, { sources: document.sources, keyspacesRequired: true })).code,
      ).toBe('KEYSPACES_REQUIRED');
    });
  });

  it('keyspaces: topics grants change topics to teams, checked like the other records', () => {
    expect(keyspaceRecordsOf({ topics: { 'cdc.catalog.public.catalog_products': 'catalog' } })).toEqual([
      { kind: 'topic', topic: 'cdc.catalog.public.catalog_products', team: 'catalog', version: 1 },
    ]);
    expect(errorOf(() => keyspaceRecordsOf({ topics: { 'a/b': 'catalog' } })).field).toBe('keyspaces.topics["a/b"]');
    expect(errorOf(() => keyspaceRecordsOf({ topics: { 'cdc.x.public.t': 'team a' } })).code).toBe('KEYSPACE_INVALID');
  });
});
