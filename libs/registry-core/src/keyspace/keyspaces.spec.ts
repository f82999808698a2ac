import type { EntityUpdated } from '@app/contracts';
import { registryLimits } from '../limits';
import { MappingSetResolver } from '../resolver/mapping-set-resolver';
import type { Mapping } from '../types';
import {
  decodeKeyspaceRecord,
  entityTypeRecordKey,
  KeyspaceRecord,
  Keyspaces,
  literalPrefix,
  prefixRecordKey,
  teamRecordKey,
} from './keyspaces';

const RECORDS: KeyspaceRecord[] = [
  { kind: 'prefix', prefix: 'product:', team: 'catalog', version: 1 },
  { kind: 'prefix', prefix: 'category:', team: 'catalog', version: 1 },
  { kind: 'prefix', prefix: 'tenant:', team: 'catalog', version: 1 },
  { kind: 'prefix', prefix: 'promo:', team: 'promo', version: 1 },
  { kind: 'entityType', entityType: 'product', team: 'catalog', grants: ['search'], version: 1 },
  { kind: 'entityType', entityType: 'campaign', team: 'promo', grants: [], version: 1 },
  { kind: 'prefix', prefix: 'search:', team: 'search', version: 1 },
];
const keyspaces = new Keyspaces(RECORDS);

function mapping(overrides: Partial<Mapping>): Mapping {
  return {
    id: 'x',
    entityType: 'product',
    owner: 'catalog',
    keys: [{ template: 'product:{entityId}', action: 'delete' }],
    tags: [],
    version: 1,
    ...overrides,
  };
}
const fields = (m: Mapping) => keyspaces.mappingViolations(m).map((v) => [v.field, v.message]);

const EVENT: EntityUpdated = {
  eventId: 'e-1',
  entityType: 'product',
  entityId: 'p-1',
  version: 3,
  tenant: 'acme',
  occurredAt: '2026-01-01T00:00:00Z',
  after: { categoryId: 'desk' },
};

describe("Keyspaces: a mapping may only produce keys and tags inside its owner team's prefixes", () => {
  it("takes the literal text before the first placeholder as a template's prefix", () => {
    expect(literalPrefix('product:{entityId}')).toBe('product:');
    expect(literalPrefix('category:{after.categoryId}:products')).toBe('category:');
    expect(literalPrefix('{entityId}:x')).toBe('');
    expect(literalPrefix('constant:key')).toBe('constant:key');
  });

  it("accepts the owner's own keys and tags", () => {
    expect(
      fields(
        mapping({
          keys: [
            { template: 'product:{entityId}', action: 'warm' },
            { template: 'category:{after.categoryId}:products', action: 'delete' },
          ],
          tags: ['tenant:{tenant}:products'],
        }),
      ),
    ).toEqual([]);
    // Deeper literal text inside an owned prefix is covered too.
    expect(fields(mapping({ keys: [{ template: 'product:detail:{entityId}', action: 'delete' }] }))).toEqual([]);
  });

  it("refuses another team's key prefix, naming the prefix and the owning team", () => {
    const promo = mapping({
      owner: 'promo',
      entityType: 'campaign',
      keys: [{ template: 'product:{entityId}', action: 'warm', ttlSeconds: 2_592_000 }],
    });
    expect(fields(promo)).toEqual([
      ['keys[0].template', 'key template "product:{entityId}": prefix "product:" is owned by team "catalog"'],
    ]);
    expect(() => keyspaces.assertMappingInside({ ...promo, id: 'promo.steal' })).toThrow(
      expect.objectContaining({
        code: 'FOREIGN_KEYSPACE',
        message: expect.stringContaining(
          'mapping "promo.steal" (owner "promo"): key template "product:{entityId}": prefix "product:" is owned by team "catalog"',
        ),
      }),
    );
  });

  it('checks tags like keys', () => {
    expect(
      fields(
        mapping({
          owner: 'promo',
          entityType: 'campaign',
          keys: [{ template: 'promo:{entityId}', action: 'delete' }],
          tags: ['tenant:{tenant}:products'],
        }),
      ),
    ).toEqual([['tags[0]', 'tag template "tenant:{tenant}:products": prefix "tenant:" is owned by team "catalog"']]);
  });

  it('refuses a template that starts with a variable (it cannot be proven inside)', () => {
    expect(fields(mapping({ keys: [{ template: '{entityId}:product', action: 'delete' }] }))).toEqual([
      [
        'keys[0].template',
        'key template "{entityId}:product" starts with a variable, so its keys cannot be proven inside team "catalog"\'s key prefixes',
      ],
    ]);
  });

  it("refuses a prefix nobody owns, and a short literal that can reach into another team's prefix", () => {
    expect(fields(mapping({ keys: [{ template: 'stock:{entityId}', action: 'delete' }] }))).toEqual([
      [
        'keys[0].template',
        'key template "stock:{entityId}": prefix "stock:" is not owned by any team (team "catalog" owns "category:", "product:", "tenant:")',
      ],
    ]);
    // "pro{entityId}:x" renders "promo:x" for entityId "mo": promo's keyspace.
    expect(fields(mapping({ keys: [{ template: 'pro{entityId}:x', action: 'delete' }] }))).toEqual([
      ['keys[0].template', 'key template "pro{entityId}:x": prefix "promo:" is owned by team "promo"'],
    ]);
  });

  it('allows an entity type only to its owner and the teams it is granted to', () => {
    expect(fields(mapping({ owner: 'promo', keys: [{ template: 'promo:{entityId}', action: 'delete' }] }))).toEqual([
      ['entityType', 'entity type "product" is owned by team "catalog" and not granted to team "promo"'],
    ]);
    expect(fields(mapping({ owner: 'search', keys: [{ template: 'search:product:{entityId}', action: 'delete' }] }))).toEqual([]);
    expect(fields(mapping({ entityType: 'order' }))).toEqual([
      ['entityType', expect.stringContaining('entity type "order" is not owned by any team')],
    ]);
  });

  it('is not enforced while no keyspace is declared (bootstrap rule)', () => {
    expect(new Keyspaces().enforced).toBe(false);
    expect(new Keyspaces().mappingViolations(mapping({ owner: 'promo', keys: [{ template: '{entityId}', action: 'delete' }] }))).toEqual(
      [],
    );
    expect(keyspaces.enforced).toBe(true);
  });

  it('names the owner of a key by its longest owned prefix', () => {
    expect(keyspaces.ownerOf('product:p-1')?.team).toBe('catalog');
    expect(keyspaces.ownerOf('nothing:here')).toBeUndefined();
    expect(keyspaces.conflictsOf('product:promo:', 'promo').map((p) => p.prefix)).toEqual(['product:']);
  });

  it('decodes topic records and refuses malformed ones', () => {
    const record = { kind: 'prefix', prefix: 'product:', team: 'catalog', version: 2 };
    expect(decodeKeyspaceRecord(prefixRecordKey('product:'), JSON.stringify(record))).toEqual(record);
    expect(decodeKeyspaceRecord(prefixRecordKey('other:'), JSON.stringify(record))).toMatchObject({ code: 'KEYSPACE_INVALID' });
    expect(decodeKeyspaceRecord(prefixRecordKey('~x'), JSON.stringify({ ...record, prefix: '~x' }))).toMatchObject({
      code: 'KEYSPACE_INVALID',
    });
    expect(decodeKeyspaceRecord(entityTypeRecordKey('product'), '{nope')).toMatchObject({ code: 'KEYSPACE_INVALID' });
  });
});

describe('MappingSetResolver with keyspaces', () => {
  const limits = registryLimits();
  const own = mapping({ id: 'catalog.product', keys: [{ template: 'product:{entityId}', action: 'delete' }] });
  const foreign = mapping({
    id: 'promo.steal',
    owner: 'promo',
    keys: [
      { template: 'product:{entityId}', action: 'warm', ttlSeconds: 2_592_000 },
      { template: 'promo:{entityId}', action: 'delete' },
    ],
  });

  it("a foreign mapping fails only its own part (FOREIGN_KEYSPACE, none of its keys); the owner's part is applied", () => {
    const resolver = MappingSetResolver.compile([own, foreign], { limits, mode: 'lenient', keyspaces });
    expect(resolver.foreignMappings().map((f) => f.id)).toEqual(['promo.steal']);
    const resolution = resolver.resolve(EVENT);
    expect(resolution.keys.map((k) => [k.key, k.action, k.mappingId])).toEqual([['product:p-1', 'delete', 'catalog.product']]);
    expect(resolution.failed).toEqual([
      expect.objectContaining({
        mappingId: 'promo.steal',
        owner: 'promo',
        code: 'FOREIGN_KEYSPACE',
        message: expect.stringContaining('prefix "product:" is owned by team "catalog"'),
      }),
    ]);
    const explained = resolver.explain(EVENT);
    expect(explained).toMatchObject({
      outcome: 'partial',
      failed: [{ mappingId: 'promo.steal', code: 'FOREIGN_KEYSPACE' }],
      keyspacesEnforced: true,
    });
    // Alone, it fails the whole event.
    expect(MappingSetResolver.compile([foreign], { limits, mode: 'lenient', keyspaces }).explain(EVENT)).toMatchObject({
      outcome: 'rejected',
      error: { code: 'FOREIGN_KEYSPACE' },
    });
  });

  it("fan-out: the entity type owner's mappings count first, so a granted team can never push the owner over the cap", () => {
    // "a-search" sorts before "catalog.product": without owner-first it would take the cap.
    const granted = mapping({
      id: 'a-search',
      owner: 'search',
      keys: [
        { template: 'search:a:{entityId}', action: 'delete' },
        { template: 'search:b:{entityId}', action: 'delete' },
      ],
    });
    const owner = mapping({
      id: 'catalog.product',
      keys: [
        { template: 'product:{entityId}', action: 'delete' },
        { template: 'product:{entityId}:summary', action: 'delete' },
      ],
    });
    const resolver = MappingSetResolver.compile([granted, owner], { limits: registryLimits({ fanoutCap: 3 }), mode: 'lenient', keyspaces });
    const resolution = resolver.resolve(EVENT);
    expect(resolution.keys.map((k) => k.key)).toEqual(['product:p-1', 'product:p-1:summary']);
    expect(resolution.failed).toEqual([expect.objectContaining({ mappingId: 'a-search', owner: 'search', code: 'FANOUT_LIMIT' })]);
  });

  it("resolves normally without the foreign mapping, and explain names each key's owner", () => {
    const resolver = MappingSetResolver.compile([own], { limits, mode: 'lenient', keyspaces });
    expect(resolver.resolve(EVENT).keys.map((k) => k.key)).toEqual(['product:p-1']);
    expect(resolver.explain(EVENT).keys.delete).toEqual([expect.objectContaining({ key: 'product:p-1', keyspaceOwner: 'catalog' })]);
  });

  it('without keyspaces, resolves the foreign mapping as before (not enforced)', () => {
    const resolver = MappingSetResolver.compile([own, foreign], { limits, mode: 'lenient' });
    expect(resolver.resolve(EVENT).keys.map((k) => k.key)).toEqual(['product:p-1', 'promo:p-1']);
  });
});

describe('keyspacesRequired (KEYSPACES_REQUIRED)', () => {
  const event: EntityUpdated = { eventId: 'e', entityType: 'product', entityId: 'p1', version: 2, occurredAt: '2026-01-01T00:00:00Z' };

  it('while no keyspace is declared, every mapping refuses the events it matches', () => {
    const resolver = MappingSetResolver.compile([mapping({})], { keyspacesRequired: true });
    expect(resolver.resolve(event)).toMatchObject({
      keys: [],
      failed: [{ code: 'KEYSPACES_REQUIRED', message: expect.stringMatching(/KEYSPACES_REQUIRED=true/) }],
    });
    expect(resolver.foreignMappings().map((f) => f.error.code)).toEqual(['KEYSPACES_REQUIRED']);
    expect(resolver.explain(event)).toMatchObject({ outcome: 'rejected' });
  });

  it('once keyspaces are declared, the usual ownership rules apply instead', () => {
    const resolver = MappingSetResolver.compile([mapping({})], { keyspacesRequired: true, keyspaces });
    expect(resolver.resolve(event).keys.map((k) => k.key)).toEqual(['product:p1']);
    expect(MappingSetResolver.compile([mapping({})], { keyspacesRequired: false }).resolve(event).keys).toHaveLength(1);
  });
});

describe('team hosts records', () => {
  const TEAMS: KeyspaceRecord[] = [
    ...RECORDS,
    {
      kind: 'team',
      team: 'catalog',
      loaderHosts: ['catalog.internal'],
      purgeHosts: ['shop.example', '*.cdn.example'],
      surrogateKeyPrefixes: ['product:'],
      version: 1,
    },
    { kind: 'team', team: 'promo', loaderHosts: [], purgeHosts: ['promo.example'], surrogateKeyPrefixes: ['promo:pages:'], version: 1 },
  ];
  const withTeams = new Keyspaces(TEAMS);
  const promo = (overrides: Partial<Mapping>) =>
    mapping({
      id: 'promo.x',
      owner: 'promo',
      entityType: 'campaign',
      keys: [{ template: 'promo:{entityId}', action: 'delete' }],
      tags: ['promo:pages:{entityId}'],
      ...overrides,
    });
  const violations = (m: Mapping) => withTeams.mappingViolations(m).map((v) => [v.field, v.message]);

  it('check and decode: host patterns and surrogate prefixes are validated, lists normalised', () => {
    const record = {
      kind: 'team',
      team: 'catalog',
      loaderHosts: ['b.example', 'a.example', 'b.example'],
      purgeHosts: [],
      surrogateKeyPrefixes: ['product:'],
      version: 1,
    };
    expect(decodeKeyspaceRecord(teamRecordKey('catalog'), JSON.stringify(record))).toMatchObject({
      loaderHosts: ['a.example', 'b.example'],
    });
    expect(decodeKeyspaceRecord(teamRecordKey('catalog'), JSON.stringify({ ...record, loaderHosts: ['B.example'] }))).toMatchObject({
      code: 'KEYSPACE_INVALID',
      field: 'loaderHosts[0]',
    });
    expect(decodeKeyspaceRecord(teamRecordKey('catalog'), JSON.stringify({ ...record, loaderHosts: ['*.com'] }))).toMatchObject({
      code: 'KEYSPACE_INVALID',
      field: 'loaderHosts[0]',
    });
    expect(decodeKeyspaceRecord(teamRecordKey('catalog'), JSON.stringify({ ...record, purgeHosts: ['http://x'] }))).toMatchObject({
      code: 'KEYSPACE_INVALID',
      field: 'purgeHosts[0]',
    });
    expect(decodeKeyspaceRecord(teamRecordKey('catalog'), JSON.stringify({ ...record, surrogateKeyPrefixes: ['a b'] }))).toMatchObject({
      code: 'KEYSPACE_INVALID',
      field: 'surrogateKeyPrefixes[0]',
    });
    expect(decodeKeyspaceRecord(teamRecordKey('other'), JSON.stringify(record))).toMatchObject({ code: 'KEYSPACE_INVALID' });
    expect(new Keyspaces([TEAMS[TEAMS.length - 1]]).enforced).toBe(true);
  });

  it("a loader URL must name one of the team's loader hosts; no record or an empty list = no loader", () => {
    const warm = (loaderUrl: string, owner = 'catalog') =>
      mapping({
        owner,
        keys: [{ template: owner === 'catalog' ? 'product:{entityId}' : 'promo:{entityId}', action: 'warm', warmFrom: { loaderUrl } }],
      });
    expect(violations(warm('http://catalog.internal:8080/p/{entityId}'))).toEqual([]);
    expect(violations(warm('http://CATALOG.internal/p/{entityId}'))).toEqual([]);
    expect(violations(warm('http://evil.example/p/{entityId}'))).toEqual([
      ['keys[0].warmFrom.loaderUrl', expect.stringContaining('host "evil.example" is not one of team "catalog"\'s loader hosts')],
    ]);
    expect(violations({ ...warm('http://promo.example/p/{entityId}', 'promo'), entityType: 'campaign' })).toEqual([
      ['keys[0].warmFrom.loaderUrl', expect.stringContaining('team "promo" has no loader hosts')],
    ]);
    expect(keyspaces.mappingViolations(warm('http://catalog.internal/p/{entityId}'))).toEqual([
      expect.objectContaining({ field: 'keys[0].warmFrom.loaderUrl' }),
    ]);
  });

  it("purge URLs must name the team's purge hosts (exact or *.suffix); purged tags must lie in its surrogate-key prefixes", () => {
    const pages = (purge: Mapping['purge'], tags = ['product:{entityId}']) => mapping({ tags, purge });
    expect(violations(pages({ tags: true, urls: ['https://shop.example/p/{entityId}', 'https://eu.cdn.example/p/{entityId}'] }))).toEqual(
      [],
    );
    expect(violations(pages({ tags: false, urls: ['https://cdn.example/p/{entityId}', 'https://promo.example/{entityId}'] }))).toEqual([
      ['purge.urls[0]', expect.stringContaining('host "cdn.example" is not one of team "catalog"\'s purge hosts')],
      ['purge.urls[1]', expect.stringContaining('host "promo.example"')],
    ]);
    expect(violations(pages({ tags: true }, ['category:{entityId}']))).toEqual([
      ['purge.tags', expect.stringContaining('not inside team "catalog"\'s surrogate-key prefixes ("product:")')],
    ]);
    // Another team's surrogate prefix, even inside its own key prefix.
    expect(violations(promo({ tags: ['promo:{entityId}'], purge: { tags: true } }))).toEqual([
      ['purge.tags', expect.stringContaining('not inside team "promo"\'s surrogate-key prefixes')],
    ]);
    expect(violations(promo({ purge: { tags: true, urls: ['https://promo.example/p/{entityId}'] } }))).toEqual([]);
    // purge.tags false: the tags are not sent to HTTP caches.
    expect(violations(pages({ tags: false, urls: ['https://shop.example/{entityId}'] }, ['category:{entityId}']))).toEqual([]);
  });

  it('finds overlapping surrogate-key prefixes of other teams', () => {
    expect(withTeams.surrogateConflictsOf('product:promo:', 'promo')).toEqual([{ prefix: 'product:', team: 'catalog' }]);
    expect(withTeams.surrogateConflictsOf('promo:', 'catalog')).toEqual([{ prefix: 'promo:pages:', team: 'promo' }]);
    expect(withTeams.surrogateConflictsOf('product:x', 'catalog')).toEqual([]);
  });
});
