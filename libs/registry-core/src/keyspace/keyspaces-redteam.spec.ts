// Red team: what a team's mapping can still name outside its keyspaces. Keyspaces own key
// prefixes and entity types; the hosts a mapping makes the invalidator call (loader URLs) or
// purge (purge.urls) belong to nobody, and prefixes are compared case-sensitively although
// some CDNs compare surrogate keys without case. The open ones are skipped (see each comment).
import type { Mapping } from '../types';
import { KeyspaceRecord, Keyspaces } from './keyspaces';

const RECORDS: KeyspaceRecord[] = [
  { kind: 'prefix', prefix: 'shop:', team: 'shop', version: 1 },
  { kind: 'prefix', prefix: 'promo:', team: 'promo', version: 1 },
  { kind: 'entityType', entityType: 'product', team: 'shop', grants: ['promo'], version: 1 },
];
const keyspaces = new Keyspaces(RECORDS);

function mapping(overrides: Partial<Mapping>): Mapping {
  return { id: 'promo.product', entityType: 'product', owner: 'promo', keys: [{ template: 'promo:product:{entityId}', action: 'delete' }], tags: [], version: 1, ...overrides };
}

describe('keyspaces vs what a mapping names besides keys (red team)', () => {
  // OPEN: purge URLs and loader URLs are checked only for being public (checkTargetUrl), never
  // for whose they are. Team "promo" (granted the entity type) can make every product event
  // purge team "shop"'s pages at the CDN (Varnish: x-purge-host names shop's host; Fastly:
  // /purge/<shop's host>/...), and point warms at any public host. hostPatternProblem and
  // hostMatches (url/target-url.ts) exist for team host patterns but nothing declares or checks
  // them. Fix (not small): host ownership records next to the prefix ones (admin-written), a
  // FOREIGN_KEYSPACE violation for `purge.urls[i]` / `keys[i].warmFrom.loaderUrl` whose literal
  // host is not the team's (a template whose host is a placeholder is refused, as for keys),
  // and the same check in the invalidator's resolver.
  it("a mapping may not purge URLs on a host its team does not own", () => {
    const hostile = mapping({ purge: { tags: false, urls: ['https://www.shop.example/products/{entityId}'] } });
    expect(keyspaces.mappingViolations(hostile).map((v) => v.field)).toContain('purge.urls[0]');
    const placeholderHost = mapping({ purge: { urls: ['https://{after.host}/products/{entityId}'] } });
    expect(keyspaces.mappingViolations(placeholderHost).map((v) => v.field)).toContain('purge.urls[0]');
  });

  // OPEN: Cloudflare compares cache tags case-insensitively, Redis and the prefix records do
  // not: an admin can give team "promo" the prefix "SHOP:" (no conflict with "shop:"), and its
  // purged tag "SHOP:product:1" purges what team "shop" tagged "shop:product:1" at Cloudflare.
  // Fix (a policy choice): compare prefixes case-insensitively in conflictsOf/templateProblem
  // (or refuse upper-case prefixes and tags when a cloudflare target is configured).
  it.skip('a prefix that differs from another team\'s only by case conflicts with it', () => {
    expect(keyspaces.conflictsOf('SHOP:', 'promo').map((p) => p.prefix)).toEqual(['shop:']);
  });

  // Holds: a key, tag or namespace template of another team's prefix is refused.
  it("refuses another team's prefix in keys, tags and namespaces", () => {
    const hostile = mapping({ keys: [{ template: 'shop:product:{entityId}', action: 'delete' }], tags: ['shop:product:{entityId}'], namespaces: ['shop:'] });
    expect(keyspaces.mappingViolations(hostile).map((v) => v.field)).toEqual(['keys[0].template', 'tags[0]', 'namespaces[0]']);
  });
});
