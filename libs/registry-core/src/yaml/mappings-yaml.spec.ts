import { join } from 'node:path';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { RegistryError } from '../errors';
import { diffMappingSets, formatMappingSetDiff, isEmptyDiff } from '../diff/mapping-diff';
import { StaticMappingSource } from '../store/static-mapping-source';
import { dumpMappingsYaml, loadMappingsYamlFile, parseMappingsYaml } from './mappings-yaml';

const EXAMPLE = join(__dirname, '..', '..', '..', '..', 'examples', 'mappings', 'catalog.yaml');

function errorOf(fn: () => unknown): RegistryError {
  try {
    fn();
  } catch (error) {
    return error as RegistryError;
  }
  throw new Error('expected a RegistryError');
}

describe('mapping YAML', () => {
  it('loads the example file of the shop', () => {
    const [product] = loadMappingsYamlFile(EXAMPLE);
    expect(product).toMatchObject({ id: 'catalog.product', entityType: 'product', owner: 'catalog', tags: ['tenant:{tenant}:products'] });
    expect(product.keys.map((k) => [k.template, k.action])).toEqual([
      ['product:{entityId}', 'warm'],
      ['category:{after.categoryId}:products', 'delete'],
      ['category:{before.categoryId}:products', 'delete'],
    ]);
  });

  it('round-trips through dump and parse', () => {
    const mappings = loadMappingsYamlFile(EXAMPLE);
    expect(parseMappingsYaml(dumpMappingsYaml(mappings))).toEqual(mappings);
  });

  it('names the wrong entry and field', () => {
    const text = `mappings:
  - id: a
    entityType: product
    owner: catalog
    keys: [{ template: "product:{entityId}", action: delete }]
  - id: b
    entityType: product
    owner: catalog
    keys: [{ template: "product:{sku}", action: delete }]
`;
    const error = errorOf(() => parseMappingsYaml(text));
    expect([error.code, error.field]).toEqual(['TEMPLATE_UNKNOWN_FIELD', 'mappings[1].keys[0].template']);
  });

  it('refuses duplicate ids, bad YAML and other document shapes', () => {
    const entry = `  - { id: a, entityType: product, owner: c, keys: [{ template: "p:{entityId}", action: delete }] }\n`;
    expect(errorOf(() => parseMappingsYaml(`mappings:\n${entry}${entry}`)).code).toBe('DUPLICATE_MAPPING_ID');
    expect(errorOf(() => parseMappingsYaml('mappings: [')).code).toBe('YAML_INVALID');
    expect(errorOf(() => parseMappingsYaml('- a')).code).toBe('YAML_INVALID');
    expect(errorOf(() => parseMappingsYaml(`mappings: []\nextra: 1`)).code).toBe('YAML_INVALID');
    expect(parseMappingsYaml('mappings: []')).toEqual([]);
  });
});

describe('mapping set diff', () => {
  const [product] = loadMappingsYamlFile(EXAMPLE);
  const other = { ...product, id: 'search.product', owner: 'search' };

  it('lists field-level changes, additions and (scoped) removals', () => {
    const changed = { ...product, keys: [{ ...product.keys[0], ttlSeconds: 60 }, ...product.keys.slice(1)], version: 9 };
    const added = { ...product, id: 'catalog.category', entityType: 'category' };
    const diff = diffMappingSets([product, other], [changed, added], { prune: new Set(['catalog']) });
    expect(diff.added.map((m) => m.id)).toEqual(['catalog.category']);
    expect(diff.changed).toEqual([
      expect.objectContaining({ id: 'catalog.product', changes: [{ path: 'keys[0].ttlSeconds', before: 3600, after: 60 }] }),
    ]);
    // search's mapping is not in catalog's file, and catalog's file never prunes another team.
    expect(diff.removed).toEqual([]);
    expect(diffMappingSets([product, other], [product]).removed.map((m) => m.id)).toEqual(['search.product']);
    expect(formatMappingSetDiff(diff)).toBe(
      [
        '+ catalog.category (entityType category, owner catalog, 3 keys, 1 tags)',
        '~ catalog.product',
        '    keys[0].ttlSeconds: 3600 -> 60',
      ].join('\n'),
    );
  });

  it('ignores versions and change metadata', () => {
    const diff = diffMappingSets([{ ...product, version: 3, updatedAt: 'x', updatedBy: 'y' }], [product]);
    expect(isEmptyDiff(diff)).toBe(true);
  });
});

describe('StaticMappingSource', () => {
  it('serves a YAML file and reloads it, keeping the old set when the new file is wrong', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mappings-'));
    const path = join(dir, 'm.yaml');
    writeFileSync(path, 'mappings:\n  - { id: a, entityType: product, owner: c, keys: [{ template: "p:{entityId}", action: delete }] }\n');
    const source = StaticMappingSource.fromYamlFile(path);
    const seen: string[][] = [];
    source.onChange((_, ids) => seen.push(ids));
    const e = { eventId: 'e', entityType: 'product', entityId: 'x1', version: 1, occurredAt: '' };
    expect(
      source
        .current()
        .resolve(e)
        .keys.map((k) => k.key),
    ).toEqual(['p:x1']);

    writeFileSync(path, 'mappings:\n  - { id: a, entityType: product, owner: c, keys: [{ template: "q:{entityId}", action: delete }] }\n');
    source.reload();
    expect(
      source
        .current()
        .resolve(e)
        .keys.map((k) => k.key),
    ).toEqual(['q:x1']);
    expect(seen).toEqual([['a']]);

    writeFileSync(path, 'mappings:\n  - { id: a, entityType: product, owner: c, keys: [{ template: "q:{nope}", action: delete }] }\n');
    expect(() => source.reload()).toThrow(expect.objectContaining({ code: 'TEMPLATE_UNKNOWN_FIELD' }));
    expect(
      source
        .current()
        .resolve(e)
        .keys.map((k) => k.key),
    ).toEqual(['q:x1']);
  });
});
