import { clusterSlot, hashedPart } from './slot';

describe('clusterSlot', () => {
  it.each([
    ['123456789', 12739], // CRC16/XMODEM check value from the Redis Cluster spec
    ['foo', 12182],
    ['{user1000}.following', 3443],
    ['a{}b', 13694], // empty tag: the whole key is hashed
    ['x{}{y}', 14166], // only the first "{" counts
    ['produit:é', 3714], // non-ASCII: UTF-8 bytes
  ])('%s -> slot %i (values from CLUSTER KEYSLOT)', (key, slot) => {
    expect(clusterSlot(key)).toBe(slot);
  });

  it('hashes only the first non-empty hash tag', () => {
    expect(hashedPart('cart:{tenant-1}:42')).toBe('tenant-1');
    expect(hashedPart('{a}{b}')).toBe('a');
    expect(hashedPart('no-tag')).toBe('no-tag');
    expect(hashedPart('open{only')).toBe('open{only');
  });
});
