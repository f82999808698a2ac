import fc from 'fast-check';
import {
  companionKey,
  keyProblem,
  legacyLeaseKey,
  legacyTombstoneKey,
  namespaceKey,
  tagMembersKey,
  tagPendingKey,
  tagStateKey,
} from './key-layout';
import { clusterSlot } from './slot';

// Keys as the registry produces them: segments of safe characters, sometimes with a hash tag.
const segment = fc.stringOf(fc.constantFrom(...'abcXYZ019-_.:/é'.split('')), { minLength: 1, maxLength: 8 });
const validKey = fc.oneof(
  fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => s.join(':')),
  fc.tuple(segment, segment, segment).map(([a, tag, b]) => `${a}{${tag}}${b}`),
  fc.tuple(segment, segment).map(([tag, b]) => `{${tag}}${b}`),
);

describe('key validation', () => {
  it.each([
    ['', 'KEY_EMPTY'],
    ['x'.repeat(513), 'KEY_TOO_LONG'],
    ['é'.repeat(300), 'KEY_TOO_LONG'], // 600 UTF-8 bytes
    ['product 1', 'KEY_BAD_CHARACTER'],
    ['product\n1', 'KEY_BAD_CHARACTER'],
    ['product\u0000', 'KEY_BAD_CHARACTER'],
    ['product\u001f1', 'KEY_BAD_CHARACTER'],
    ['product\u007f', 'KEY_BAD_CHARACTER'],
    ['product\u00a01', 'KEY_BAD_CHARACTER'], // no-break space: \s
    ['~t{product:1}', 'KEY_RESERVED_PREFIX'],
    ['product:{}', 'KEY_BAD_HASH_TAG'],
    ['product}1', 'KEY_BAD_HASH_TAG'],
    ['product{1', 'KEY_BAD_HASH_TAG'],
  ])('refuses %j with %s', (key, code) => {
    expect(keyProblem(key)?.code).toBe(code);
  });

  it.each(['product:42', '{tenant-1}:cart:7', 'a{b}c', 'category:5:products?page=2', 'produit:é', 'x\u0080y'])('accepts %s', (key) => {
    expect(keyProblem(key)).toBeUndefined();
  });
});

describe('companion keys', () => {
  it('share the cluster slot of their key, tagged or not', () => {
    fc.assert(
      fc.property(validKey, (key) => {
        expect(keyProblem(key)).toBeUndefined();
        const slot = clusterSlot(key);
        for (const companion of [
          legacyTombstoneKey(key),
          legacyLeaseKey(key),
          tagStateKey(key),
          tagMembersKey(key),
          tagPendingKey(key, 1_764_000_000_000_123),
          namespaceKey(key),
        ]) {
          expect(clusterSlot(companion)).toBe(slot);
        }
      }),
    );
  });

  it('never collide between two keys, nor with a key a user may write', () => {
    fc.assert(
      fc.property(validKey, validKey, (a, b) => {
        fc.pre(a !== b);
        expect(legacyTombstoneKey(a)).not.toBe(legacyTombstoneKey(b));
        expect(tagStateKey(a)).not.toBe(tagStateKey(b));
        expect(keyProblem(legacyTombstoneKey(a))?.code).toBe('KEY_RESERVED_PREFIX');
      }),
    );
    // The one pair that a naive "{K}" wrapping would confuse: K = "{x}" (tagged) and K = "x".
    expect(companionKey('t', '{x}')).not.toBe(companionKey('t', 'x'));
  });
});
