// Red team: what a team's mapping could still name outside its keyspaces. Both findings are
// closed: hosts are owned by team records (loaderHosts, purgeHosts), and prefixes (key and
// surrogate-key) conflict when they overlap without regard to case.
import type { Mapping } from '../types';
import { KeyspaceRecord, Keyspaces } from './keyspaces';

const RECORDS: KeyspaceRecord[] = [
  { kind: 'prefix', prefix: 'shop:', team: 'shop', version: 1 },
  { kind: 'prefix', prefix: 'promo:', team: 'promo', version: 1 },
  { kind: 'entityType', entityType: 'product', team: 'shop', grants: ['promo'], version: 1 },
];
const keyspaces = new Keyspaces(RECORDS);

function mapping(overrides: Partial<Mapping>): Mapping {
  return {
    id: 'promo.product',
    entityType: 'product',
    owner: 'promo',
    keys: [{ template: 'promo:product:{entityId}', action: 'delete' }],
    tags: [],
    version: 1,
    ...overrides,
  };
}

describe('keyspaces vs what a mapping names besides keys (red team)', () => {
  // Was open: purge and loader URLs were checked only for being public, never for whose they
  // are, so team "promo" (granted the entity type) could purge team "shop"'s pages at the CDN.
  // Now a team purges only hosts its team record names (none here: no team record, no purge).
  it('a mapping may not purge URLs on a host its team does not own', () => {
    const hostile = mapping({ purge: { tags: false, urls: ['https://www.shop.example/products/{entityId}'] } });
    expect(keyspaces.mappingViolations(hostile).map((v) => v.field)).toContain('purge.urls[0]');
    const placeholderHost = mapping({ purge: { urls: ['https://{after.host}/products/{entityId}'] } });
    expect(keyspaces.mappingViolations(placeholderHost).map((v) => v.field)).toContain('purge.urls[0]');
  });

  // Was open: Cloudflare compares cache tags case-insensitively, Redis and the prefix records did
  // not, so an admin could give team "promo" the prefix "SHOP:" next to team "shop"'s "shop:",
  // and promo's purged tag "SHOP:product:1" would purge shop's "shop:product:1" at Cloudflare.
  it("a prefix that differs from another team's only by case conflicts with it", () => {
    expect(keyspaces.conflictsOf('SHOP:', 'promo').map((p) => p.prefix)).toEqual(['shop:']);
    const withSurrogates = new Keyspaces([
      ...RECORDS,
      { kind: 'team', team: 'shop', loaderHosts: [], purgeHosts: [], surrogateKeyPrefixes: ['shop:'], version: 1 },
    ]);
    expect(withSurrogates.surrogateConflictsOf('SHOP:product:', 'promo')).toEqual([{ prefix: 'shop:', team: 'shop' }]);
  });

  // Holds: a key, tag or namespace template of another team's prefix is refused.
  it("refuses another team's prefix in keys, tags and namespaces", () => {
    const hostile = mapping({
      keys: [{ template: 'shop:product:{entityId}', action: 'delete' }],
      tags: ['shop:product:{entityId}'],
      namespaces: ['shop:'],
    });
    expect(keyspaces.mappingViolations(hostile).map((v) => v.field)).toEqual(['keys[0].template', 'tags[0]', 'namespaces[0]']);
  });
});
