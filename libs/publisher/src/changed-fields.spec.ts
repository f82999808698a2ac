import fc from 'fast-check';
import { diffChangedFields } from './changed-fields';

describe('diffChangedFields', () => {
  it('lists the fields whose values differ, sorted, comparing nested values deeply', () => {
    const before = { name: 'Mug', price: 10, categoryId: 'c1', dims: { h: 10, w: 8 }, tags: ['a'] };
    const after = { name: 'Mug', price: 12, categoryId: 'c2', dims: { h: 10, w: 8 }, tags: ['a', 'b'] };
    expect(diffChangedFields(before, after)).toEqual(['categoryId', 'price', 'tags']);
  });

  it('counts a field present on one side only, but not one that is undefined on both', () => {
    expect(diffChangedFields({ a: 1, gone: 2, u: undefined }, { a: 1, added: 3 })).toEqual(['added', 'gone']);
  });

  it('treats a create or a delete as every field changed', () => {
    expect(diffChangedFields(undefined, { b: 1, a: 2 })).toEqual(['a', 'b']);
    expect(diffChangedFields({ x: 1 }, null)).toEqual(['x']);
  });

  it('leaves out ignored bookkeeping fields', () => {
    expect(
      diffChangedFields(
        { price: 1, version: 1, updatedAt: 't1' },
        { price: 2, version: 2, updatedAt: 't2' },
        { ignore: ['version', 'updatedAt'] },
      ),
    ).toEqual(['price']);
  });

  it('never misses a changed field and never lists an unchanged one (property)', () => {
    const state = fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd', 'e'), fc.jsonValue());
    fc.assert(
      fc.property(state, state, (before, after) => {
        const changed = new Set(diffChangedFields(before, after));
        for (const field of new Set([...Object.keys(before), ...Object.keys(after)])) {
          const same = JSON.stringify(before[field]) === JSON.stringify(after[field]);
          if (same === changed.has(field)) return false;
        }
        return true;
      }),
    );
  });
});
