// Property tests of the promise that matters: no event value can make a template produce a key
// outside its pattern (one segment per placeholder, no glob/brace/separator/whitespace/control
// characters), and the compiler refuses every template that is not well formed.
import fc from 'fast-check';
import type { EntityUpdated } from '@app/contracts';
import { RegistryError } from '../errors';
import { compileTemplate, DEFAULT_TEMPLATE_LIMITS } from './key-template';

const RUNS = { numRuns: 500 };
const FIELDS = ['entityId', 'entityType', 'tenant', 'version', 'after.a', 'after.b', 'before.a', 'after.n.m'];
const LITERAL_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCXYZ0123456789_-.@#/=+%~|,'.split('');

const literal = fc.array(fc.constantFrom(...LITERAL_ALPHABET), { minLength: 1, maxLength: 8 }).map((cs) => cs.join(''));
/** A segment: literal, placeholder, or placeholder with literal around it. */
const segment = fc.oneof(
  literal,
  fc.constantFrom(...FIELDS).map((f) => `{${f}}`),
  fc.tuple(literal, fc.constantFrom(...FIELDS), fc.option(literal, { nil: '' })).map(([a, f, b]) => `${a}{${f}}${b}`),
);
// A leading "~" is reserved for the cache protocol's companion keys (refused by the compiler).
const validTemplate = fc
  .array(segment, { minLength: 1, maxLength: 5 })
  .map((segments) => segments.join(':'))
  .filter((t) => !t.startsWith('~'));

/** Hostile and ordinary values of every JSON type, biased to the characters that could widen a key. */
const hostileString = fc.oneof(
  fc.fullUnicodeString({ maxLength: 20 }),
  fc.string({ maxLength: 20 }),
  fc
    .array(
      fc.constantFrom(
        '*',
        '?',
        '[',
        ']',
        '{',
        '}',
        ':',
        ' ',
        '\t',
        '\n',
        '\\',
        '\u0000',
        '\u007f',
        '\u0085',
        '\u00a0',
        '\u200b',
        '\u2028',
        '\ufeff',
        '\ud800',
        'a',
        '1',
      ),
      {
        maxLength: 6,
      },
    )
    .map((cs) => cs.join('')),
  fc.string({ minLength: 120, maxLength: 140 }),
);
const anyValue = fc.oneof(
  hostileString,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.object({ maxDepth: 1 }),
  fc.array(fc.integer(), { maxLength: 2 }),
);

const hostileEvent = fc.record({
  entityId: hostileString,
  entityType: hostileString,
  tenant: fc.option(hostileString, { nil: undefined }),
  version: fc.oneof(fc.integer(), fc.double()),
  after: fc.option(fc.record({ a: anyValue, b: anyValue, n: fc.oneof(anyValue, fc.record({ m: anyValue })) }), { nil: undefined }),
  before: fc.option(fc.record({ a: anyValue }), { nil: undefined }),
}) as fc.Arbitrary<unknown> as fc.Arbitrary<EntityUpdated>;

// The pattern, written independently of the implementation: literals verbatim, each placeholder
// exactly one run of allowed characters (1..maxValueLength).
function patternOf(template: string): RegExp {
  const escaped = template
    .split(/(\{[^}]*\})/)
    .map((part) =>
      part.startsWith('{')
        ? `[^:*?\\[\\]{}\\\\\\s\\p{Cc}\\p{Cf}\\p{Cs}]{1,${DEFAULT_TEMPLATE_LIMITS.maxValueLength}}`
        : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('');
  return new RegExp(`^${escaped}$`, 'u');
}

describe('template compiler properties', () => {
  it('no event value makes a template produce a key outside its pattern', () => {
    fc.assert(
      fc.property(validTemplate, hostileEvent, (source, event) => {
        const template = compileTemplate(source);
        let key: string | undefined;
        try {
          key = template.render(event);
        } catch (error) {
          // Refusing is always allowed; any other failure is a bug.
          return error instanceof RegistryError && (error.code === 'TEMPLATE_WIDENS_KEY' || error.code === 'TEMPLATE_VALUE_NOT_SCALAR');
        }
        if (key === undefined) return true;
        return (
          patternOf(source).test(key) &&
          key.split(':').length === source.split(':').length &&
          !/[*?[\]{}\\\s]/u.test(key) &&
          key.length <= DEFAULT_TEMPLATE_LIMITS.maxKeyLength
        );
      }),
      RUNS,
    );
  });

  it('renders every safe value exactly (refusing only what is unsafe)', () => {
    const safe = fc.array(fc.constantFrom(...'abcXYZ019_-.@'.split('')), { minLength: 1, maxLength: 20 }).map((cs) => cs.join(''));
    fc.assert(
      fc.property(validTemplate, safe, safe, safe, (source, a, b, id) => {
        const event = {
          eventId: 'e',
          entityType: 'product',
          entityId: id,
          tenant: 't1',
          version: 7,
          occurredAt: '',
          after: { a, b, n: { m: a } },
          before: { a: b },
        } as EntityUpdated;
        const expected = source
          .replace(/\{entityId\}/g, id)
          .replace(/\{entityType\}/g, 'product')
          .replace(/\{tenant\}/g, 't1')
          .replace(/\{version\}/g, '7')
          .replace(/\{after\.a\}/g, a)
          .replace(/\{after\.b\}/g, b)
          .replace(/\{after\.n\.m\}/g, a)
          .replace(/\{before\.a\}/g, b);
        return compileTemplate(source).render(event) === expected;
      }),
      RUNS,
    );
  });

  it('refuses every template with a forbidden literal character', () => {
    const forbidden = fc.constantFrom('*', '?', '[', ']', ' ', '\t', '\n', '\\', '"', "'", '\u0000', '\u00a0', '\u200b', 'é');
    fc.assert(
      fc.property(validTemplate, forbidden, fc.nat(), (source, bad, at) => {
        // Insert outside placeholders: before a "{" or at a literal position.
        const literalPositions = [...source].map((_, i) => i).filter((i) => !insidePlaceholder(source, i));
        const i = literalPositions.length > 0 ? literalPositions[at % literalPositions.length] : 0;
        const broken = source.slice(0, i) + bad + source.slice(i);
        return codeOf(() => compileTemplate(broken)) === 'TEMPLATE_SYNTAX';
      }),
      RUNS,
    );
  });

  it('refuses every template with an empty segment or unbalanced braces', () => {
    fc.assert(
      fc.property(validTemplate, fc.constantFrom('::', ':', '{', '}'), fc.boolean(), (source, bad, atStart) => {
        const broken = bad === '::' ? source.replace(':', '::') || '::' : atStart ? bad + source : source + bad;
        if (bad === '::' && !source.includes(':')) return codeOf(() => compileTemplate(`${source}::x`)) === 'TEMPLATE_SYNTAX';
        return codeOf(() => compileTemplate(broken)) === 'TEMPLATE_SYNTAX';
      }),
      RUNS,
    );
  });

  it('refuses every placeholder that is not a known event field', () => {
    const ident = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,10}$/);
    const unknown = fc
      .oneof(
        ident,
        fc.tuple(ident, ident).map(([a, b]) => `${a}.${b}`),
      )
      .filter((f) => !['entityId', 'entityType', 'tenant', 'version'].includes(f) && !/^(after|before)\./.test(f));
    fc.assert(
      fc.property(literal, unknown, (prefix, field) => codeOf(() => compileTemplate(`${prefix}:{${field}}`)) === 'TEMPLATE_UNKNOWN_FIELD'),
      RUNS,
    );
  });
});

function insidePlaceholder(source: string, index: number): boolean {
  const open = source.lastIndexOf('{', index - 1);
  const close = source.lastIndexOf('}', index - 1);
  return open > close;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    return error instanceof RegistryError ? error.code : 'not a RegistryError';
  }
}
