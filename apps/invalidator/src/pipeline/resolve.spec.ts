// The resolve step and registry keyspaces: a mapping outside its owner team's key prefixes
// (one that reached the topic without the registry API) dead-letters the event as
// FOREIGN_KEYSPACE, and none of that event's keys is touched.
import type { EntityUpdated } from '@app/contracts';
import type { InboundMessage } from '@app/kafka';
import { Keyspaces, Mapping, MappingSetResolver } from '@app/registry-core';
import { resolveEffects } from './resolve';
import type { EntityChange } from './coalesce';

const keyspaces = new Keyspaces([
  { kind: 'prefix', prefix: 'product:', team: 'catalog', version: 1 },
  { kind: 'prefix', prefix: 'promo:', team: 'promo', version: 1 },
  { kind: 'entityType', entityType: 'product', team: 'catalog', grants: ['promo'], version: 1 },
  { kind: 'entityType', entityType: 'widget', team: 'catalog', grants: [], version: 1 },
]);
const catalog: Mapping = { id: 'catalog.product', entityType: 'product', owner: 'catalog', keys: [{ template: 'product:{entityId}', action: 'delete' }], tags: [], version: 1 };
const widget: Mapping = { id: 'catalog.widget', entityType: 'widget', owner: 'catalog', keys: [{ template: 'product:widget-{entityId}', action: 'delete' }], tags: [], version: 1 };
const promo: Mapping = { id: 'promo.steal', entityType: 'product', owner: 'promo', keys: [{ template: 'product:{entityId}', action: 'warm', ttlSeconds: 2_592_000 }, { template: 'promo:{entityId}', action: 'delete' }], tags: [], version: 1 };

function change(entityType: string, entityId: string): EntityChange {
  const event = { eventId: `e-${entityId}`, entityType, entityId, version: 2, occurredAt: '2026-01-01T00:00:00Z', after: { a: 1 } } as EntityUpdated;
  const message = { partition: 0, offset: '7', timestamp: 0, key: null, value: null, headers: {} } as unknown as InboundMessage;
  return { entityType, entityId, version: 2, newest: event, events: [{ event, message }] };
}

describe('resolveEffects + keyspaces', () => {
  it('dead-letters the whole event as FOREIGN_KEYSPACE and applies other entities\' events', () => {
    const resolver = MappingSetResolver.compile([catalog, widget, promo], { mode: 'lenient', keyspaces });
    const plan = resolveEffects([change('product', 'p-1'), change('widget', 'w-1')], resolver, { strictEntityTypes: false, defaultTombstoneTtlSeconds: 60 });
    expect(plan.unresolvable.map((u) => [u.code, u.decoded.event.entityId])).toEqual([['FOREIGN_KEYSPACE', 'p-1']]);
    expect(plan.unresolvable[0].reason).toMatch(/promo\.steal.*prefix "product:" is owned by team "catalog"/);
    expect(plan.keys.map((k) => k.key)).toEqual(['product:widget-w-1']);
  });
});

describe('namespace bumps: the entity includes its tenant', () => {
  it('plans one bump per tenant for the same entity type and id', () => {
    const pricing: Mapping = { id: 'pricing.product', entityType: 'product', owner: 'catalog', keys: [], tags: [], namespaces: ['product:prices:'], version: 1 };
    const resolver = MappingSetResolver.compile([pricing]);
    const acme = change('product', '1');
    acme.tenant = 'acme';
    const globex = change('product', '1');
    globex.tenant = 'globex';
    const plan = resolveEffects([acme, globex, change('product', '2')], resolver, { strictEntityTypes: false, defaultTombstoneTtlSeconds: 60 });
    expect(plan.namespaces!.map((n) => n.entity)).toEqual(['acme|product|1', 'globex|product|1', '|product|2']);
  });
});
