import { FamilyNames, keyFamily } from './family';

describe('keyFamily', () => {
  it.each([
    ['product:42', 'product'],
    ['catalog:page:3', 'catalog:page'],
    ['catalog:category:5:page:2', 'catalog:category'],
    ['page:home', 'page'],
    ['{tenant-1}cart:7', '{}'],
    ['user42', 'user'],
    ['42', 'other'],
    ['storefront:product:9', 'storefront:product'],
  ])('%s -> %s', (key, family) => expect(keyFamily(key)).toBe(family));

  it('caps distinct families, the rest are "other"', () => {
    const names = new FamilyNames(3);
    expect(['a', 'b', 'c', 'd', 'a', 'e'].map((f) => names.label(f))).toEqual(['a', 'b', 'c', 'other', 'a', 'other']);
  });
});
