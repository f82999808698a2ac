import { registryLimits } from '../limits';
import { validateMapping } from './validate-mapping';

const valid = {
  id: 'catalog.product',
  entityType: 'product',
  owner: 'catalog',
  keys: [{ template: 'product:{entityId}', action: 'warm' }],
  tags: ['tenant:{tenant}:products'],
};

function violations(input: unknown, limits = registryLimits()) {
  return validateMapping(input, limits).violations.map((v) => [v.field, v.code]);
}

describe('validateMapping', () => {
  it('accepts a valid mapping and normalises it (warmFrom defaults to after, version 0 = not stored)', () => {
    const { mapping, violations: found } = validateMapping(valid);
    expect(found).toEqual([]);
    expect(mapping).toEqual({ ...valid, keys: [{ template: 'product:{entityId}', action: 'warm', warmFrom: 'after' }], version: 0 });
  });

  it('names the wrong field for shape errors', () => {
    expect(violations({ ...valid, owner: undefined })).toContainEqual(['owner', 'MAPPING_INVALID']);
    expect(violations({ ...valid, keys: [{ template: 'product:{entityId}', action: 'purge' }] })).toEqual([
      ['keys[0].action', 'MAPPING_INVALID'],
    ]);
    expect(violations({ ...valid, keys: [{ template: 'p:{entityId}', action: 'delete', ttl: 3 }] })).toEqual([
      ['keys[0].ttl', 'MAPPING_INVALID'],
    ]);
    expect(violations({ ...valid, colour: 'red' })).toEqual([['colour', 'MAPPING_INVALID']]);
    expect(violations({ ...valid, id: 'has space' })).toEqual([['id', 'MAPPING_INVALID']]);
    expect(violations({ ...valid, keys: [{ template: 'p:{entityId}', action: 'warm', warmFrom: 'before' }] })).toEqual([
      ['keys[0].warmFrom', 'MAPPING_INVALID'],
    ]);
    expect(violations('nope')).toEqual([['(root)', 'MAPPING_INVALID']]);
  });

  it('names the wrong template and why', () => {
    expect(violations({ ...valid, keys: [{ template: 'product:{productId}', action: 'delete' }] })).toEqual([
      ['keys[0].template', 'TEMPLATE_UNKNOWN_FIELD'],
    ]);
    expect(violations({ ...valid, keys: [{ template: 'product:*', action: 'delete' }] })).toEqual([
      ['keys[0].template', 'TEMPLATE_SYNTAX'],
    ]);
    expect(violations({ ...valid, tags: ['ok:{tenant}', 'bad tag'] })).toEqual([['tags[1]', 'TEMPLATE_SYNTAX']]);
    expect(
      violations({ ...valid, keys: [{ template: 'p:{entityId}', action: 'warm', warmFrom: { loaderUrl: 'https://x/{nope}' } }] }),
    ).toEqual([['keys[0].warmFrom.loaderUrl', 'TEMPLATE_UNKNOWN_FIELD']]);
  });

  it('refuses settings that would be silently ignored, duplicates and empty mappings', () => {
    expect(violations({ ...valid, keys: [{ template: 'p:{entityId}', action: 'delete', warmFrom: 'after' }] })).toEqual([
      ['keys[0].warmFrom', 'MAPPING_INVALID'],
    ]);
    expect(violations({ ...valid, keys: [{ template: 'p:{entityId}', action: 'delete', ttlSeconds: 5 }] })).toEqual([
      ['keys[0].ttlSeconds', 'MAPPING_INVALID'],
    ]);
    expect(violations({ ...valid, keys: [valid.keys[0], valid.keys[0]] })).toEqual([['keys[1].template', 'MAPPING_INVALID']]);
    expect(violations({ ...valid, keys: [], tags: [] })).toEqual([['keys', 'MAPPING_INVALID']]);
  });

  it('refuses a mapping over the fan-out cap', () => {
    const keys = Array.from({ length: 5 }, (_, i) => ({ template: `k${i}:{entityId}`, action: 'delete' }));
    expect(violations({ ...valid, keys }, registryLimits({ fanoutCap: 5 }))).toEqual([['keys', 'FANOUT_LIMIT']]);
  });

  it('refuses "constructor" and "__proto__" keys anywhere, instead of throwing (a record read from the topic must never throw in the follower)', () => {
    const warmFrom = JSON.parse('{"constructor":"x"}') as unknown;
    expect(() => validateMapping({ ...valid, keys: [{ template: 'p:{entityId}', action: 'warm', warmFrom }] })).not.toThrow();
    expect(violations({ ...valid, keys: [{ template: 'p:{entityId}', action: 'warm', warmFrom }] })).toEqual([
      ['keys[0].warmFrom.constructor', 'MAPPING_INVALID'],
    ]);
    expect(violations(JSON.parse(`{"__proto__":{},${JSON.stringify(valid).slice(1)}`))).toEqual([['__proto__', 'MAPPING_INVALID']]);
  });
});
