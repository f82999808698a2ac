import type { KeyEffect } from './effects';
import { keyEffectItem, keyEffectProblem, lifetimeOf } from './key-effects';

const limits = { maxKeyBytes: 64, maxValueBytes: 10, defaultWarmTtlMs: 1000 };
const base: KeyEffect = { key: 'product:1', version: 3, action: 'tombstone', tombstoneTtlMs: 5000 };

describe('key effect checks', () => {
  it.each<[string, Partial<KeyEffect>, string]>([
    ['bad key', { key: 'a b' }, 'KEY_BAD_CHARACTER'],
    ['negative version', { version: -1 }, 'VERSION_INVALID'],
    ['fractional version', { version: 1.5 }, 'VERSION_INVALID'],
    ['zero tombstone ttl', { tombstoneTtlMs: 0 }, 'TTL_INVALID'],
    ['warm without value', { action: 'warm' }, 'VALUE_MISSING'],
    ['warm value over the limit', { action: 'warm', value: 'x'.repeat(11) }, 'VALUE_TOO_LARGE'],
    ['warm value over the limit in bytes', { action: 'warm', value: 'é'.repeat(6) }, 'VALUE_TOO_LARGE'],
    ['warm with a bad tag', { action: 'warm', value: 'x', tags: ['{'] }, 'KEY_BAD_HASH_TAG'],
    ['unknown action', { action: 'purge' as KeyEffect['action'] }, 'ACTION_INVALID'],
  ])('refuses %s', (_, change, code) => {
    expect(keyEffectProblem({ ...base, ...change }, limits)?.code).toBe(code);
  });

  it('accepts a delete without a tombstone TTL and a warm without TTL (default applies)', () => {
    expect(keyEffectProblem({ ...base, action: 'delete', tombstoneTtlMs: 0 }, limits)).toBeUndefined();
    const warm: KeyEffect = { ...base, action: 'warm', value: 'v' };
    expect(keyEffectProblem(warm, limits)).toBeUndefined();
    // packed: w<version>:<floorTtl>:<hardTtl>:<freshFor>:<namespaceGen>; the floor outlives the value by the tombstone TTL
    expect(keyEffectItem(warm, limits).argv).toEqual([`w3:${1000 + warm.tombstoneTtlMs}:1000:0:0`, '', 'v']);
    expect(keyEffectItem(warm, limits).degraded).toEqual([`t3:${1000 + warm.tombstoneTtlMs}`]); // at maxmemory: a tombstone with the same floor
    expect(keyEffectItem({ ...base, action: 'delete' }, limits).argv).toEqual(['d3']);
    expect(keyEffectItem(base, limits).argv).toEqual(['t3:5000']);
  });

  it('keeps a value fresh for ttl and stale for the grace after it', () => {
    expect(lifetimeOf(1000)).toEqual({ hardTtlMs: 1000, freshForMs: 0 });
    expect(lifetimeOf(1000, 500)).toEqual({ hardTtlMs: 1500, freshForMs: 1000 });
  });
});
