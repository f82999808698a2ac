import { parseExactJson, stringifyExactJson } from './exact-json';

describe('parseExactJson', () => {
  it('keeps integers beyond 2^53 exact (JSON.parse rounds them)', () => {
    const text = '{"after":{"categoryId":9007199254740993,"n":12,"big":-123456789012345678901234567890}}';
    expect((JSON.parse(text) as { after: { categoryId: number } }).after.categoryId).toBe(9007199254740992);
    const parsed = parseExactJson(text) as { after: Record<string, unknown> };
    expect(parsed.after.categoryId).toBe(9007199254740993n);
    expect(parsed.after.n).toBe(12);
    expect(parsed.after.big).toBe(-123456789012345678901234567890n);
  });

  it('gives plain numbers for safe integers with long digit runs, and what JSON.parse gives for fractions', () => {
    const text = '{"a":9007199254740991,"b":1234567890123456.5,"c":"12345678901234567890","d":1e21}';
    expect(parseExactJson(text)).toEqual(JSON.parse(text));
  });

  it('is JSON.parse for text without a long digit run, and lets the last duplicate key win like it', () => {
    expect(parseExactJson('{"a":1,"a":2}')).toEqual({ a: 2 });
    expect(parseExactJson('{"a":12345678901234567,"a":2}')).toEqual({ a: 2 });
    expect(() => parseExactJson('{"a":12345678901234567')).toThrow(SyntaxError);
  });

  it('keeps "__proto__" an own property, as JSON.parse does', () => {
    const parsed = parseExactJson('{"__proto__":{"x":1},"id":12345678901234567890}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect(Object.hasOwn(parsed, '__proto__')).toBe(true);
  });
});

describe('stringifyExactJson', () => {
  it('writes BigInts back as the same digits, as numbers', () => {
    const text = '{"categoryId":9007199254740993,"name":"x","nested":[1,18446744073709551615]}';
    expect(stringifyExactJson(parseExactJson(text))).toBe(text);
  });

  it('is JSON.stringify otherwise', () => {
    const value = { a: 1, b: 'x', c: [true, null], d: undefined };
    expect(stringifyExactJson(value)).toBe(JSON.stringify(value));
  });
});
