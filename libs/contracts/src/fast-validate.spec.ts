import fc from 'fast-check';
import { fastValidateEntityUpdated } from './fast-validate';
import { validateEntityUpdated } from './validate-event';

const validEvent = {
  eventId: 'e-1',
  entityType: 'product',
  entityId: '42',
  version: 3,
  tenant: 'acme',
  occurredAt: '2026-11-25T10:00:00.000Z',
  before: { price: 1 },
  after: { price: 2 },
  changedFields: ['price'],
};

const anyValue = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 2 }),
  fc.constantFrom('2026-11-25T10:00:00Z', '2026-13-01', 'product', 'a*b', 'x y', '{k}', '', 'a:b', '0', '-1', '1.5'),
);

describe('fastValidateEntityUpdated', () => {
  it('accepts a valid event and the DTO agrees', () => {
    expect(fastValidateEntityUpdated(validEvent)).toBe(true);
    expect(validateEntityUpdated(validEvent)).toEqual([]);
  });

  it('agrees with the class-validator DTO on every mutation of a valid event', () => {
    const fields = Object.keys(validEvent);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(...fields), anyValue), { minLength: 1, maxLength: 3 }), (mutations) => {
        const candidate: Record<string, unknown> = { ...validEvent };
        for (const [field, value] of mutations) {
          if (value === undefined) delete candidate[field];
          else candidate[field] = value;
        }
        const fast = fastValidateEntityUpdated(candidate);
        const slow = validateEntityUpdated(candidate).length === 0;
        expect(fast).toBe(slow);
      }),
      { numRuns: 2000 },
    );
  });

  it('names the wrong field in the slow path', () => {
    const violations = validateEntityUpdated({ ...validEvent, entityId: 'a*' });
    expect(violations.map((v) => v.field)).toEqual(['entityId']);
  });

  it('rejects non-objects', () => {
    for (const v of [null, 1, 'x', [validEvent]]) {
      expect(fastValidateEntityUpdated(v)).toBe(false);
      expect(validateEntityUpdated(v)).not.toEqual([]);
    }
  });
});
