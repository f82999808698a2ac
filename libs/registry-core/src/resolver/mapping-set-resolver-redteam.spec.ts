// Red team: what a granted team can make every event of another team's entity type cost. The
// fan-out cap bounds the work one event makes the shared invalidator do; these tests look for
// mappings that do work without counting against it, and for the owner's part being pushed out.
import type { EntityUpdated } from '@app/contracts';
import { Keyspaces, KeyspaceRecord } from '../keyspace/keyspaces';
import { registryLimits } from '../limits';
import type { Mapping } from '../types';
import { MappingSetResolver } from './mapping-set-resolver';

const RECORDS: KeyspaceRecord[] = [
  { kind: 'prefix', prefix: 'shop:', team: 'shop', version: 1 },
  { kind: 'prefix', prefix: 'promo:', team: 'promo', version: 1 },
  { kind: 'entityType', entityType: 'product', team: 'shop', grants: ['promo'], version: 1 },
];
const keyspaces = new Keyspaces(RECORDS);
const limits = registryLimits({ fanoutCap: 8 });

const owner: Mapping = {
  id: 'z-shop.product',
  entityType: 'product',
  owner: 'shop',
  version: 1,
  keys: [{ template: 'shop:product:{entityId}', action: 'delete' }],
  tags: [],
};

function event(overrides: Partial<EntityUpdated> = {}): EntityUpdated {
  return {
    eventId: 'e1',
    entityType: 'product',
    entityId: 'p1',
    version: 4,
    tenant: 'acme',
    occurredAt: '2026-01-01T00:00:00Z',
    after: { name: 'x' },
    ...overrides,
  };
}

/** `n` mappings of team promo with only namespaces (16 each, the most one mapping may list). */
function namespaceOnly(n: number): Mapping[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `a-promo.ns${i}`,
    entityType: 'product',
    owner: 'promo',
    version: 1,
    keys: [],
    tags: [],
    namespaces: Array.from({ length: 16 }, (_, j) => `promo:ns${i}-${j}:{entityId}`),
  }));
}

describe('fan-out vs work that does not count (red team)', () => {
  // Each namespace is one Redis script call per event (and its own dead letter when it fails).
  // The cap used to count keys + tags only: 50 namespace-only mappings of a granted team made
  // every product event bump 800 namespaces with the cap at 8, and the registry took them.
  it('namespaces count against the fan-out cap: a registry write of namespace-only mappings over it is refused', () => {
    expect(() => MappingSetResolver.compile([owner, ...namespaceOnly(50)], { limits, keyspaces })).toThrow(/FANOUT|fan-out/);
  });

  it('a follower (lenient) that holds them anyway applies at most the cap per event, the owner first', () => {
    const resolver = MappingSetResolver.compile([owner, ...namespaceOnly(50)], { limits, keyspaces, mode: 'lenient' });
    const r = resolver.resolve(event());
    expect(r.keys.map((k) => k.key)).toEqual(['shop:product:p1']);
    expect(r.keys.length + r.tags.length + (r.namespaces?.length ?? 0)).toBeLessThanOrEqual(limits.fanoutCap);
    expect((r.failed ?? []).every((f) => f.owner === 'promo' && f.code === 'FANOUT_LIMIT')).toBe(true);
  });

  it('one mapping over the cap with namespaces or purge URLs is refused on its own', () => {
    const ns: Mapping = { ...owner, id: 'shop.ns', namespaces: Array.from({ length: 8 }, (_, i) => `shop:ns${i}:`) };
    expect(() => MappingSetResolver.compile([ns], { limits, keyspaces })).toThrow(
      /1 keys \+ 0 tags \+ 8 namespaces \+ 0 purge URLs = 9 per event/,
    );
    const urls: Mapping = {
      ...owner,
      id: 'shop.urls',
      purge: { tags: false, urls: Array.from({ length: 8 }, (_, i) => `https://shop.example/${i}/{entityId}`) },
    };
    expect(() => MappingSetResolver.compile([urls], { limits })).toThrow(/8 purge URLs = 9 per event/);
  });

  // Holds: a granted team's tenant-specific mapping that sorts before the owner's still comes
  // after it (ownerFirst per tenant list), so it cannot push the owner's keys over the cap.
  it("a grantee's tenant mapping cannot push the owner's part over the cap", () => {
    const greedy: Mapping = {
      id: 'a-promo.acme',
      entityType: 'product',
      owner: 'promo',
      tenant: 'acme',
      version: 1,
      keys: Array.from({ length: 8 }, (_, i) => ({ template: `promo:p${i}:{entityId}`, action: 'delete' as const })),
      tags: [],
    };
    const resolver = MappingSetResolver.compile([owner, greedy], { limits, keyspaces, mode: 'lenient' });
    const r = resolver.resolve(event());
    expect(r.keys.map((k) => k.key)).toEqual(['shop:product:p1']);
    expect(r.failed?.map((f) => [f.mappingId, f.code])).toEqual([['a-promo.acme', 'FANOUT_LIMIT']]);
  });

  // Was open: the registry checked the fan-out of the WHOLE set at every write, so a granted team
  // that took the entity type's budget first locked the owner out of its own mapping changes.
  // The check now follows resolve order (owner first) and refuses only a written mapping that
  // falls beyond the cap.
  it('a grantee filling the budget does not lock the owner out of changing its own mapping', () => {
    const greedy: Mapping = {
      id: 'promo.product',
      entityType: 'product',
      owner: 'promo',
      version: 1,
      keys: Array.from({ length: 7 }, (_, i) => ({ template: `promo:p${i}:{entityId}`, action: 'delete' as const })),
      tags: [],
    };
    const ownerNext: Mapping = { ...owner, keys: [...owner.keys, { template: 'shop:product:{entityId}:price', action: 'delete' }] };
    expect(() => MappingSetResolver.compile([ownerNext, greedy], { limits, keyspaces, written: new Set([ownerNext.id]) })).not.toThrow();
    // the grantee's own write past the cap is still refused, and so is any over-cap set without `written`
    expect(() => MappingSetResolver.compile([ownerNext, greedy], { limits, keyspaces, written: new Set([greedy.id]) })).toThrow(
      expect.objectContaining({ code: 'FANOUT_LIMIT' }),
    );
    expect(() => MappingSetResolver.compile([ownerNext, greedy], { limits, keyspaces })).toThrow(
      expect.objectContaining({ code: 'FANOUT_LIMIT' }),
    );
  });
});
