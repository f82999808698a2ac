// The fields of the invalidator's other sinks (loader warms, namespace bumps, purges):
// validation with the field named, URL template safety, YAML round trip, explain, keyspaces.
import type { EntityUpdated } from '@app/contracts';
import { Keyspaces } from '../keyspace/keyspaces';
import { registryLimits } from '../limits';
import { MappingSetResolver } from '../resolver/mapping-set-resolver';
import { compileTemplate } from '../template/key-template';
import { dumpMappingsYaml, parseMappingsYaml } from '../yaml/mappings-yaml';
import { validateMapping } from './validate-mapping';

const base = {
  id: 'catalog.product',
  entityType: 'product',
  owner: 'catalog',
  keys: [{ template: 'product:{entityId}', action: 'warm', warmFrom: { loaderUrl: 'http://catalog:3000/products/{entityId}' } }],
  tags: ['product:{entityId}:pages'],
};

function violations(input: unknown) {
  return validateMapping(input, registryLimits()).violations.map((v) => [v.field, v.code]);
}

const event = (over: Partial<EntityUpdated> = {}): EntityUpdated =>
  ({
    schemaVersion: 1,
    eventId: 'e-1',
    entityType: 'product',
    entityId: '42',
    tenant: 'acme',
    version: 7,
    occurredAt: '2025-01-01T00:00:00.000Z',
    after: { price: 12, slug: 'red shoe' },
    ...over,
  }) as EntityUpdated;

describe('loader URL template safety', () => {
  it('accepts a template whose scheme, host and port are literal', () => {
    expect(violations(base)).toEqual([]);
    expect(
      violations({
        ...base,
        keys: [
          { template: 'p:{entityId}', action: 'warm', warmFrom: { loaderUrl: 'https://catalog.internal/p?id={entityId}&t={tenant}' } },
        ],
      }),
    ).toEqual([]);
  });

  it.each([
    'http://{after.host}/products/{entityId}',
    'http://catalog{tenant}.internal/products/{entityId}',
    'http://catalog:{after.port}/products/{entityId}',
    'https://catalog.internal{entityId}',
    'http://user@catalog/{entityId}',
  ])('refuses %s with 400 TEMPLATE_UNSAFE_URL naming the field', (loaderUrl) => {
    expect(violations({ ...base, keys: [{ template: 'p:{entityId}', action: 'warm', warmFrom: { loaderUrl } }] })).toEqual([
      ['keys[0].warmFrom.loaderUrl', 'TEMPLATE_UNSAFE_URL'],
    ]);
  });

  it('URL-encodes values, so no value can add a path segment, a query or a host', () => {
    const t = compileTemplate('http://catalog:3000/products/{after.slug}?t={tenant}', 'loaderUrl');
    expect(t.render(event({ after: { slug: 'red-shoe' } }))).toBe('http://catalog:3000/products/red-shoe?t=acme');
    // "/" "#" "@" "&" "=" are encoded; whitespace, "?" and ":" are refused before (key-segment rules).
    expect(t.render(event({ after: { slug: 'a/b#d@e&x=1' } }))).toBe('http://catalog:3000/products/a%2Fb%23d%40e%26x%3D1?t=acme');
    expect(() => t.render(event({ after: { slug: 'evil.com:80' } }))).toThrow(expect.objectContaining({ code: 'TEMPLATE_WIDENS_KEY' }));
  });

  it('refuses dot segments as values (they would move the path)', () => {
    const t = compileTemplate('http://catalog:3000/products/{after.slug}', 'loaderUrl');
    expect(() => t.render(event({ after: { slug: '..' } }))).toThrow(expect.objectContaining({ code: 'TEMPLATE_WIDENS_KEY' }));
  });
});

describe('namespaces', () => {
  const withNs = { ...base, namespaces: ['pricing:{tenant}:'] };

  it('are validated as key prefixes, naming the field', () => {
    expect(violations(withNs)).toEqual([]);
    expect(violations({ ...base, namespaces: ['~n:x'] })).toEqual([['namespaces[0]', 'TEMPLATE_SYNTAX']]);
    expect(violations({ ...base, namespaces: ['pricing:{nope}'] })).toEqual([['namespaces[0]', 'TEMPLATE_UNKNOWN_FIELD']]);
    expect(violations({ ...base, namespaces: ['pricing::'] })).toEqual([['namespaces[0]', 'TEMPLATE_SYNTAX']]);
    expect(violations({ ...base, namespaces: ['a:', 'a:'] })).toEqual([['namespaces[1]', 'MAPPING_INVALID']]);
    expect(violations({ ...base, namespaces: 'pricing:' })).toContainEqual(['namespaces', 'MAPPING_INVALID']);
    expect(violations({ ...base, namespaces: [''] })).toContainEqual(['namespaces', 'MAPPING_INVALID']);
  });

  it('a mapping may consist of namespaces only', () => {
    expect(violations({ ...base, keys: [], tags: [], namespaces: ['pricing:{tenant}:'] })).toEqual([]);
  });

  it('resolve and explain render them', () => {
    const resolver = MappingSetResolver.compile([validateMapping(withNs).mapping!]);
    expect(resolver.resolve(event()).namespaces).toEqual([{ namespace: 'pricing:acme:', mappingId: 'catalog.product' }]);
    const x = resolver.explain(event());
    expect(x.namespaces).toEqual([{ namespace: 'pricing:acme:', mappingId: 'catalog.product', template: 'pricing:{tenant}:' }]);
    // An event without tenant: the namespace template contributes nothing (listed as skipped).
    expect(resolver.resolve(event({ tenant: undefined })).namespaces).toBeUndefined();
    expect(resolver.explain(event({ tenant: undefined })).skipped).toContainEqual({
      mappingId: 'catalog.product',
      template: 'pricing:{tenant}:',
      missingField: 'tenant',
    });
  });

  it('fall under keyspace ownership like key templates', () => {
    const keyspaces = new Keyspaces([
      { kind: 'prefix', prefix: 'product:', team: 'catalog', version: 1 },
      { kind: 'prefix', prefix: 'pricing:', team: 'pricing', version: 1 },
      { kind: 'entityType', entityType: 'product', team: 'catalog', grants: [], version: 1 },
      // The loader of the mapping is one of catalog's hosts (team hosts record).
      { kind: 'team', team: 'catalog', loaderHosts: ['catalog'], purgeHosts: [], surrogateKeyPrefixes: [], version: 1 },
    ]);
    const found = keyspaces.mappingViolations(validateMapping(withNs).mapping!);
    expect(found.map((v) => [v.field, v.code])).toEqual([['namespaces[0]', 'FOREIGN_KEYSPACE']]);
    expect(found[0].message).toContain('owned by team "pricing"');
  });
});

describe('purge', () => {
  it('validates the shape and the URL templates, naming the field', () => {
    expect(violations({ ...base, purge: {} })).toEqual([]);
    expect(violations({ ...base, purge: { tags: 'yes' } })).toEqual([['purge.tags', 'MAPPING_INVALID']]);
    expect(violations({ ...base, purge: { urls: ['https://{after.host}/x'] } })).toEqual([['purge.urls[0]', 'TEMPLATE_UNSAFE_URL']]);
    expect(violations({ ...base, purge: { urls: ['https://shop/p/{nope}'] } })).toEqual([['purge.urls[0]', 'TEMPLATE_UNKNOWN_FIELD']]);
    expect(violations({ ...base, purge: { tags: false } })).toEqual([['purge', 'MAPPING_INVALID']]);
    expect(violations({ ...base, tags: [], purge: {} })).toEqual([['purge.tags', 'MAPPING_INVALID']]);
    expect(violations({ ...base, purge: { colour: 1 } })).toEqual([['purge.colour', 'MAPPING_INVALID']]);
    expect(violations({ ...base, purge: 3 })).toContainEqual(['purge', 'MAPPING_INVALID']);
  });

  it('resolves tags (surrogate keys) and URLs; explain shows them', () => {
    const mapping = validateMapping({ ...base, purge: { urls: ['https://shop.example/products/{entityId}'] } }).mapping!;
    const resolver = MappingSetResolver.compile([mapping]);
    expect(resolver.resolve(event()).purge).toEqual({ tags: ['product:42:pages'], urls: ['https://shop.example/products/42'] });
    const x = resolver.explain(event());
    expect(x.purge).toEqual({
      tags: ['product:42:pages'],
      urls: [
        { url: 'https://shop.example/products/42', mappingId: 'catalog.product', template: 'https://shop.example/products/{entityId}' },
      ],
    });
    // No purge rule: nothing for HTTP caches.
    expect(MappingSetResolver.compile([validateMapping(base).mapping!]).resolve(event()).purge).toBeUndefined();
  });
});

describe('YAML', () => {
  it('round-trips the new fields and leaves mappings without them unchanged', () => {
    const text = `mappings:
  - id: catalog.product
    entityType: product
    owner: catalog
    keys:
      - template: "product:{entityId}"
        action: warm
        warmFrom: { loaderUrl: "http://catalog:3000/products/{entityId}" }
    tags: ["product:{entityId}:pages"]
    namespaces: ["pricing:{tenant}:"]
    purge: { tags: true, urls: ["https://shop.example/products/{entityId}"] }
`;
    const [mapping] = parseMappingsYaml(text);
    expect(mapping.namespaces).toEqual(['pricing:{tenant}:']);
    expect(mapping.purge).toEqual({ tags: true, urls: ['https://shop.example/products/{entityId}'] });
    expect(parseMappingsYaml(dumpMappingsYaml([mapping]))).toEqual([mapping]);
    const [plain] = parseMappingsYaml(dumpMappingsYaml([validateMapping(base).mapping!]));
    expect('namespaces' in plain || 'purge' in plain).toBe(false);
  });

  it('names the field of a bad URL in a file', () => {
    const text = `mappings:
  - id: a
    entityType: product
    owner: catalog
    keys: [{ template: "p:{entityId}", action: warm, warmFrom: { loaderUrl: "http://{after.host}/p" } }]
`;
    expect(() => parseMappingsYaml(text)).toThrow(
      expect.objectContaining({ code: 'TEMPLATE_UNSAFE_URL', field: 'mappings[0].keys[0].warmFrom.loaderUrl' }),
    );
  });
});
