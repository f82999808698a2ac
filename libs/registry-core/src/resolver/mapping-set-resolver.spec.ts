import type { EntityUpdated } from '@app/contracts';
import { RegistryError } from '../errors';
import { registryLimits } from '../limits';
import type { Mapping } from '../types';
import { EMPTY_ALLOW_LIST, parseHostAllowList } from '../url/target-url';
import { MappingSetResolver } from './mapping-set-resolver';

const catalog: Mapping = {
  id: 'catalog.product',
  entityType: 'product',
  owner: 'catalog',
  version: 1,
  keys: [
    { template: 'product:{entityId}', action: 'warm', warmFrom: 'after', ttlSeconds: 300 },
    { template: 'category:{after.categoryId}:products', action: 'delete' },
    { template: 'category:{before.categoryId}:products', action: 'delete' },
  ],
  tags: ['tenant:{tenant}:products'],
};

function event(overrides: Partial<EntityUpdated> = {}): EntityUpdated {
  return {
    eventId: 'e1',
    entityType: 'product',
    entityId: 'p1',
    version: 4,
    tenant: 'acme',
    occurredAt: '2026-01-01T00:00:00Z',
    ...overrides,
  };
}

describe('MappingSetResolver', () => {
  const resolver = MappingSetResolver.compile([catalog]);

  it('resolves a move: warm the entity, drop both category listings, touch the tenant tag', () => {
    const after = { name: 'Lamp', price: 20, categoryId: 'lights' };
    const r = resolver.resolve(event({ before: { categoryId: 'decor' }, after }));
    expect(r.keys).toEqual([
      {
        key: 'product:p1',
        action: 'warm',
        tombstoneTtlSeconds: 86_400,
        ttlSeconds: 300,
        value: JSON.stringify(after),
        mappingId: 'catalog.product',
      },
      { key: 'category:lights:products', action: 'delete', tombstoneTtlSeconds: 86_400, mappingId: 'catalog.product' },
      { key: 'category:decor:products', action: 'delete', tombstoneTtlSeconds: 86_400, mappingId: 'catalog.product' },
    ]);
    expect(r.tags).toEqual(['tenant:acme:products']);
  });

  it('a create has no before: that template yields nothing, the rest still resolve', () => {
    const r = resolver.resolve(event({ after: { categoryId: 'lights' } }));
    expect(r.keys.map((k) => k.key)).toEqual(['product:p1', 'category:lights:products']);
  });

  it('a delete has no after: the warm key becomes a tombstone, the old listing is dropped', () => {
    const r = resolver.resolve(event({ before: { categoryId: 'decor' } }));
    expect(r.keys.map((k) => [k.key, k.action])).toEqual([
      ['product:p1', 'tombstone'],
      ['category:decor:products', 'delete'],
    ]);
    expect(r.keys[0].value).toBeUndefined();
  });

  it('an unchanged category produces each key once', () => {
    const r = resolver.resolve(event({ before: { categoryId: 'decor' }, after: { categoryId: 'decor' } }));
    expect(r.keys.map((k) => k.key)).toEqual(['product:p1', 'category:decor:products']);
  });

  it('unknown entity types resolve to nothing', () => {
    expect(resolver.hasEntityType('order')).toBe(false);
    expect(resolver.resolve(event({ entityType: 'order' }))).toEqual({ keys: [], tags: [] });
  });

  it("refuses a value that would widen a key: that mapping's part fails (nothing of it is deleted)", () => {
    const r = resolver.resolve(event({ after: { categoryId: '*' } }));
    expect(r.keys).toEqual([]);
    expect(r.tags).toEqual([]);
    expect(r.failed).toEqual([
      expect.objectContaining({ mappingId: 'catalog.product', owner: 'catalog', code: 'TEMPLATE_WIDENS_KEY', field: 'after.categoryId' }),
    ]);
  });

  it('tenant mappings apply only to their tenant, in addition to the generic ones', () => {
    const acmeOnly: Mapping = {
      id: 'acme.product',
      entityType: 'product',
      tenant: 'acme',
      owner: 'acme',
      version: 1,
      keys: [{ template: 'acme:product:{entityId}', action: 'delete' }],
      tags: [],
    };
    const r = MappingSetResolver.compile([catalog, acmeOnly]);
    const acme = r.resolve(event({ tenant: 'acme', after: {} })).keys.map((k) => k.key);
    const other = r.resolve(event({ tenant: 'globex', after: {} })).keys.map((k) => k.key);
    const none = r.resolve(event({ tenant: undefined, after: {} })).keys.map((k) => k.key);
    expect(acme).toEqual(['product:p1', 'acme:product:p1']);
    expect(other).toEqual(['product:p1']);
    expect(none).toEqual(['product:p1']);
  });

  it('when two mappings produce one key, the safer action and the longer guard win', () => {
    const other: Mapping = {
      id: 'search.product',
      entityType: 'product',
      owner: 'search',
      version: 1,
      keys: [{ template: 'product:{entityId}', action: 'tombstone', tombstoneTtlSeconds: 172_800 }],
      tags: ['tenant:{tenant}:products'],
    };
    const r = MappingSetResolver.compile([catalog, other]).resolve(event({ after: {} }));
    expect(r.keys).toEqual([
      expect.objectContaining({ key: 'product:p1', action: 'tombstone', tombstoneTtlSeconds: 172_800, value: undefined }),
    ]);
    expect(r.tags).toEqual(['tenant:acme:products']);
  });

  it('enforces the fan-out cap per event when a lenient set exceeds it', () => {
    const wide: Mapping = {
      id: 'wide',
      entityType: 'product',
      owner: 'x',
      version: 1,
      keys: [
        { template: 'a:{entityId}', action: 'delete' },
        { template: 'b:{entityId}', action: 'delete' },
      ],
      tags: ['t:{entityId}'],
    };
    const limits = registryLimits({ fanoutCap: 2 });
    expect(() => MappingSetResolver.compile([wide], { limits })).toThrow(expect.objectContaining({ code: 'FANOUT_LIMIT' }));
    // A follower compiled leniently (e.g. its cap is lower than the registry's) refuses per event.
    const twoKeys: Mapping = { ...wide, id: 'two', tags: [] };
    const lenient = MappingSetResolver.compile(
      [twoKeys, { ...twoKeys, id: 'three', keys: [{ template: 'c:{entityId}', action: 'delete' }] }],
      { limits, mode: 'lenient' },
    );
    const r = lenient.resolve(event());
    expect(r.keys.map((k) => k.key)).toEqual(['c:p1']);
    expect(r.failed).toEqual([expect.objectContaining({ mappingId: 'two', code: 'FANOUT_LIMIT' })]);
  });

  it('strict compile refuses entity types whose mappings together exceed the cap, naming them', () => {
    const a: Mapping = {
      id: 'a',
      entityType: 'product',
      owner: 'x',
      version: 1,
      keys: [{ template: 'a:{entityId}', action: 'delete' }],
      tags: [],
    };
    const b: Mapping = { ...a, id: 'b', tenant: 'acme', keys: [{ template: 'b:{entityId}', action: 'delete' }] };
    let error: RegistryError | undefined;
    try {
      MappingSetResolver.compile([a, b], { limits: registryLimits({ fanoutCap: 1 }) });
    } catch (e) {
      error = e as RegistryError;
    }
    expect(error?.code).toBe('FANOUT_LIMIT');
    expect(error?.message).toMatch(/tenant acme.*a, b.*2/);
  });

  it('lenient compile leaves out an invalid mapping and keeps the others', () => {
    const broken = { ...catalog, id: 'broken', keys: [{ template: 'x:{nope}', action: 'delete' as const }] };
    const r = MappingSetResolver.compile([catalog, broken], { mode: 'lenient' });
    expect(r.mappingCount).toBe(1);
    expect(r.rejected.map((x) => [x.id, x.error.code])).toEqual([['broken', 'TEMPLATE_UNKNOWN_FIELD']]);
  });

  describe('explain', () => {
    it('lists exactly the keys and tags per action, with templates and what was skipped', () => {
      const after = { categoryId: 'lights', price: 20 };
      const x = resolver.explain(event({ after }));
      expect(x.outcome).toBe('apply');
      expect(x.keys.warm).toEqual([
        {
          key: 'product:p1',
          mappingId: 'catalog.product',
          template: 'product:{entityId}',
          tombstoneTtlSeconds: 86_400,
          ttlSeconds: 300,
          warmFrom: 'after',
          valueBytes: Buffer.byteLength(JSON.stringify(after)),
        },
      ]);
      expect(x.keys.delete.map((k) => k.key)).toEqual(['category:lights:products']);
      expect(x.keys.tombstone).toEqual([]);
      expect(x.tags).toEqual([{ tag: 'tenant:acme:products', mappingId: 'catalog.product', template: 'tenant:{tenant}:products' }]);
      expect(x.skipped).toEqual([
        { mappingId: 'catalog.product', template: 'category:{before.categoryId}:products', missingField: 'before.categoryId' },
      ]);
      expect(x.fanout).toBe(3);
    });

    it('agrees with resolve() key for key', () => {
      const e = event({ before: { categoryId: 'a' }, after: { categoryId: 'b' } });
      const x = resolver.explain(e);
      const explained = [...x.keys.delete, ...x.keys.tombstone, ...x.keys.warm].map((k) => k.key).sort();
      expect(explained).toEqual(
        resolver
          .resolve(e)
          .keys.map((k) => k.key)
          .sort(),
      );
    });

    it('says "rejected" with the code when the event would be dead-lettered', () => {
      const x = resolver.explain(event({ after: { categoryId: 'a b' } }));
      expect(x.outcome).toBe('rejected');
      expect(x.error?.code).toBe('TEMPLATE_WIDENS_KEY');
    });

    it('says "no-mapping" for an entity type nobody mapped', () => {
      expect(resolver.explain(event({ entityType: 'order' })).outcome).toBe('no-mapping');
    });
  });
});

describe('MappingSetResolver: loader and purge URL hosts', () => {
  const owner: Mapping = {
    id: 'catalog.product',
    entityType: 'product',
    owner: 'catalog',
    version: 1,
    keys: [{ template: 'product:{entityId}', action: 'delete' }],
    tags: [],
  };
  const metadata: Mapping = {
    id: 'promo.metadata',
    entityType: 'product',
    owner: 'promo',
    version: 1,
    keys: [{ template: 'promo:{entityId}', action: 'warm', warmFrom: { loaderUrl: 'http://169.254.169.254/latest/meta-data/{entityId}' } }],
    tags: [],
  };

  it('refuses the part of a mapping whose loader URL names the metadata address (no URL handed out), the others still resolve', () => {
    const r = MappingSetResolver.compile([owner, metadata], { mode: 'lenient' }).resolve(event({ after: {} }));
    expect(r.keys.map((k) => k.key)).toEqual(['product:p1']);
    expect(r.failed).toEqual([
      expect.objectContaining({
        mappingId: 'promo.metadata',
        owner: 'promo',
        code: 'TEMPLATE_UNSAFE_URL',
        field: 'keys[0].warmFrom.loaderUrl',
        message: expect.stringContaining('cloud metadata'),
      }),
    ]);
  });

  it('an internal purge host only with PURGE_ALLOWED_HOSTS; the loader allow-list does not lift it', () => {
    const purging: Mapping = {
      ...owner,
      id: 'catalog.pages',
      tags: ['product:{entityId}:page'],
      purge: { tags: false, urls: ['http://10.1.2.3/p/{entityId}'] },
    };
    const loaderOnly = { loader: parseHostAllowList('10.0.0.0/8', 'LOADER_ALLOWED_HOSTS'), purge: EMPTY_ALLOW_LIST };
    expect(MappingSetResolver.compile([purging], { mode: 'lenient', allowedHosts: loaderOnly }).resolve(event()).failed).toEqual([
      expect.objectContaining({ code: 'TEMPLATE_UNSAFE_URL', field: 'purge.urls[0]' }),
    ]);
    const purgeAllowed = { loader: EMPTY_ALLOW_LIST, purge: parseHostAllowList('10.0.0.0/8', 'PURGE_ALLOWED_HOSTS') };
    const r = MappingSetResolver.compile([purging], { mode: 'lenient', allowedHosts: purgeAllowed }).resolve(event());
    expect(r.failed).toBeUndefined();
    expect(r.purges).toEqual([{ mappingId: 'catalog.pages', team: 'catalog', tags: [], urls: ['http://10.1.2.3/p/p1'] }]);
  });

  it("loader warms carry the mapping's team", () => {
    const own: Mapping = {
      ...owner,
      keys: [{ template: 'product:{entityId}', action: 'warm', warmFrom: { loaderUrl: 'https://catalog.example/p/{entityId}' } }],
    };
    expect(MappingSetResolver.compile([own]).resolve(event()).keys[0]).toMatchObject({
      loaderUrl: 'https://catalog.example/p/p1',
      team: 'catalog',
      mappingId: 'catalog.product',
    });
  });
});
