// The resolve step, isolation by mapping: a mapping outside its owner team's key prefixes (one
// that reached the topic without the registry API), or one whose template gets an unsafe value,
// dead-letters only its own part of the event, naming the mapping and its team; the other
// mappings' parts are applied.
import type { EntityUpdated } from '@app/contracts';
import type { InboundMessage } from '@app/kafka';
import { Keyspaces, Mapping, MappingSetResolver } from '@app/registry-core';
import { resolveEffects } from './resolve';
import { coalesce } from './coalesce';
import type { KeyEffect } from '@app/cache-protocol/effects';
import type { EntityChange } from './coalesce';

const keyspaces = new Keyspaces([
  { kind: 'prefix', prefix: 'product:', team: 'catalog', version: 1 },
  { kind: 'prefix', prefix: 'promo:', team: 'promo', version: 1 },
  { kind: 'entityType', entityType: 'product', team: 'catalog', grants: ['promo'], version: 1 },
  { kind: 'entityType', entityType: 'widget', team: 'catalog', grants: [], version: 1 },
]);
const catalog: Mapping = {
  id: 'catalog.product',
  entityType: 'product',
  owner: 'catalog',
  keys: [{ template: 'product:{entityId}', action: 'delete' }],
  tags: [],
  version: 1,
};
const widget: Mapping = {
  id: 'catalog.widget',
  entityType: 'widget',
  owner: 'catalog',
  keys: [{ template: 'product:widget-{entityId}', action: 'delete' }],
  tags: [],
  version: 1,
};
const promo: Mapping = {
  id: 'promo.steal',
  entityType: 'product',
  owner: 'promo',
  keys: [
    { template: 'product:{entityId}', action: 'warm', ttlSeconds: 2_592_000 },
    { template: 'promo:{entityId}', action: 'delete' },
  ],
  tags: [],
  version: 1,
};

function change(entityType: string, entityId: string): EntityChange {
  const event = {
    eventId: `e-${entityId}`,
    entityType,
    entityId,
    version: 2,
    occurredAt: '2026-01-01T00:00:00Z',
    after: { a: 1 },
  } as EntityUpdated;
  const message = { partition: 0, offset: '7', timestamp: 0, key: null, value: null, headers: {} } as unknown as InboundMessage;
  return { entityType, entityId, version: 2, newest: event, events: [{ event, message }] };
}

describe('resolveEffects + keyspaces', () => {
  it("dead-letters only the foreign mapping's part (FOREIGN_KEYSPACE, naming mapping and team); the owner's keys and other entities' events are applied", () => {
    const resolver = MappingSetResolver.compile([catalog, widget, promo], { mode: 'lenient', keyspaces });
    const plan = resolveEffects([change('product', 'p-1'), change('widget', 'w-1')], resolver, {
      strictEntityTypes: false,
      defaultTombstoneTtlSeconds: 60,
    });
    expect(plan.unresolvable.map((u) => [u.code, u.decoded.event.entityId, u.mappingId, u.team])).toEqual([
      ['FOREIGN_KEYSPACE', 'p-1', 'promo.steal', 'promo'],
    ]);
    expect(plan.unresolvable[0].reason).toMatch(/mapping "promo\.steal" of team "promo".*prefix "product:" is owned by team "catalog"/);
    expect(plan.keys.map((k) => [k.key, k.action])).toEqual([
      ['product:p-1', 'delete'],
      ['product:widget-w-1', 'delete'],
    ]);
  });

  it("a granted team's tag that gets an unsafe value fails only that team's part", () => {
    const granted: Mapping = {
      id: 'promo.product',
      entityType: 'product',
      owner: 'promo',
      keys: [{ template: 'promo:{entityId}', action: 'delete' }],
      tags: ['promo:title:{after.title}'],
      version: 1,
    };
    const resolver = MappingSetResolver.compile([catalog, granted], { mode: 'lenient', keyspaces });
    const c = change('product', '42');
    (c.newest.after as Record<string, unknown>).title = 'big lamp';
    const plan = resolveEffects([c], resolver, { strictEntityTypes: false, defaultTombstoneTtlSeconds: 60 });
    expect(plan.keys.map((k) => k.key)).toEqual(['product:42']);
    expect(plan.tags).toEqual([]);
    expect(plan.unresolvable.map((u) => [u.code, u.mappingId, u.team])).toEqual([['UNRESOLVABLE', 'promo.product', 'promo']]);
    expect(plan.unresolvable[0].reason).toMatch(/^TEMPLATE_WIDENS_KEY: mapping "promo\.product" of team "promo" \(after\.title\)/);
  });

  it('a key the cache protocol refuses fails only the mapping that produced it', () => {
    const long: Mapping = {
      id: 'promo.long',
      entityType: 'product',
      owner: 'promo',
      keys: [{ template: 'promo:long:{entityId}', action: 'delete' }],
      tags: [],
      version: 1,
    };
    const resolver = MappingSetResolver.compile([catalog, long], { mode: 'lenient', keyspaces });
    const checkKeyEffect = (e: { key: string }) =>
      e.key.startsWith('promo:long:') ? Object.assign(new Error('key too long'), { code: 'KEY_TOO_LONG' }) : undefined;
    const plan = resolveEffects([change('product', 'p-9')], resolver, {
      strictEntityTypes: false,
      defaultTombstoneTtlSeconds: 60,
      checkKeyEffect,
    });
    expect(plan.keys.map((k) => k.key)).toEqual(['product:p-9']);
    expect(plan.unresolvable.map((u) => [u.code, u.mappingId, u.reason])).toEqual([
      ['UNRESOLVABLE', 'promo.long', 'KEY_TOO_LONG: mapping "promo.long" of team "promo" (keys): key too long'],
    ]);
  });

  it("purges and loads are planned per mapping, with the mapping's team", () => {
    const pages: Mapping = {
      id: 'catalog.pages',
      entityType: 'product',
      owner: 'catalog',
      keys: [],
      tags: ['product:{entityId}:page'],
      purge: { tags: true, urls: ['https://shop.example/p/{entityId}'] },
      version: 1,
    };
    const promoPages: Mapping = {
      id: 'promo.pages',
      entityType: 'product',
      owner: 'promo',
      keys: [],
      tags: ['promo:{entityId}:page'],
      purge: { tags: true },
      version: 1,
    };
    const resolver = MappingSetResolver.compile([pages, promoPages], { mode: 'lenient' });
    const plan = resolveEffects([change('product', '5')], resolver, { strictEntityTypes: false, defaultTombstoneTtlSeconds: 60 });
    expect(plan.purges!.map(({ mappingId, team, tags, urls }) => ({ mappingId, team, tags, urls }))).toEqual([
      { mappingId: 'catalog.pages', team: 'catalog', tags: ['product:5:page'], urls: ['https://shop.example/p/5'] },
      { mappingId: 'promo.pages', team: 'promo', tags: ['promo:5:page'], urls: [] },
    ]);
  });
});

describe('namespace bumps: the entity includes its tenant', () => {
  it('plans one bump per tenant for the same entity type and id', () => {
    const pricing: Mapping = {
      id: 'pricing.product',
      entityType: 'product',
      owner: 'catalog',
      keys: [],
      tags: [],
      namespaces: ['product:prices:'],
      version: 1,
    };
    const resolver = MappingSetResolver.compile([pricing]);
    const acme = change('product', '1');
    acme.tenant = 'acme';
    const globex = change('product', '1');
    globex.tenant = 'globex';
    const plan = resolveEffects([acme, globex, change('product', '2')], resolver, {
      strictEntityTypes: false,
      defaultTombstoneTtlSeconds: 60,
    });
    expect(plan.namespaces!.map((n) => n.entity)).toEqual(['acme|product|1', 'globex|product|1', '|product|2']);
  });
});

describe('the key check', () => {
  const mapping: Mapping = {
    id: 'catalog.product',
    entityType: 'product',
    owner: 'catalog',
    version: 1,
    keys: [
      { template: 'product:{entityId}', action: 'warm', ttlSeconds: 30 },
      { template: 'product:{entityId}:page', action: 'delete', tombstoneTtlSeconds: 5 },
    ],
    tags: [],
  };
  const decoded = (entityId: string, version: number, after?: Record<string, unknown>) => ({
    event: {
      eventId: `e${entityId}-${version}`,
      occurredAt: '2026-01-01T00:00:00Z',
      entityType: 'product',
      entityId,
      version,
      after,
    } as EntityUpdated,
    message: { partition: 0, offset: String(version), headers: {} } as unknown as InboundMessage,
  });

  it('sees each key as the effect it becomes at the moment of the call (the object is reused: a check that keeps it must copy it)', () => {
    const seen: KeyEffect[] = [];
    const events = [decoded('1', 3, { a: 1 }), decoded('1', 2, { a: 0 }), decoded('2', 7)];
    const plan = resolveEffects([...coalesce(events)], MappingSetResolver.compile([mapping]), {
      strictEntityTypes: true,
      defaultTombstoneTtlSeconds: 60,
      checkKeyEffect: (e) => void seen.push({ ...e }),
    });
    const shape = (e: KeyEffect) => [e.key, e.version, e.action, e.tombstoneTtlMs, e.value, e.ttlMs];
    expect(seen.map(shape)).toEqual([
      // entity 1, newest event (v3): the warm keeps its value; then the delete has none
      ['product:1', 3, 'warm', 86_400_000, '{"a":1}', 30_000],
      ['product:1:page', 3, 'delete', 5_000, undefined, undefined],
      // entity 1, older event (v2): carries the entity's newest version and may not warm
      ['product:1', 3, 'tombstone', 86_400_000, undefined, undefined],
      ['product:1:page', 3, 'delete', 5_000, undefined, undefined],
      // entity 2 has no `after`: its warm rule tombstones
      ['product:2', 7, 'tombstone', 86_400_000, undefined, undefined],
      ['product:2:page', 7, 'delete', 5_000, undefined, undefined],
    ]);
    // the plan's effects are objects of their own, not the checked one
    expect(plan.keys.map(shape)).toEqual([seen[0], seen[1], seen[4], seen[5]].map(shape));
  });
});
