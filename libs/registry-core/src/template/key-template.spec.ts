import type { EntityUpdated } from '@app/contracts';
import { RegistryError } from '../errors';
import { EMPTY_ALLOW_LIST, parseHostAllowList } from '../url/target-url';
import { compileTemplate, DEFAULT_TEMPLATE_LIMITS, urlTemplateHost, urlTemplateHostProblem } from './key-template';

function event(overrides: Partial<EntityUpdated> = {}): EntityUpdated {
  return { eventId: 'e1', entityType: 'product', entityId: 'p1', version: 3, occurredAt: '2026-01-01T00:00:00Z', ...overrides };
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    return error instanceof RegistryError ? error.code : `not a RegistryError: ${String(error)}`;
  }
}

describe('compileTemplate', () => {
  it('substitutes top-level and state fields', () => {
    const e = event({ tenant: 'acme', after: { categoryId: 'c9', price: 12.5, active: true }, before: { categoryId: 'c1' } });
    expect(compileTemplate('product:{entityId}').render(e)).toBe('product:p1');
    expect(compileTemplate('category:{after.categoryId}:products').render(e)).toBe('category:c9:products');
    expect(compileTemplate('category:{before.categoryId}:products').render(e)).toBe('category:c1:products');
    expect(compileTemplate('t:{tenant}:{entityType}:{entityId}:v{version}').render(e)).toBe('t:acme:product:p1:v3');
    expect(compileTemplate('price:{after.price}:{after.active}').render(e)).toBe('price:12.5:true');
    expect(compileTemplate('products:all').render(e)).toBe('products:all');
  });

  it('reads nested state paths, own properties only', () => {
    const e = event({ after: { seller: { region: 'eu' } } });
    expect(compileTemplate('region:{after.seller.region}').render(e)).toBe('region:eu');
    // Inherited members of Object.prototype are not event fields.
    expect(compileTemplate('x:{after.constructor}').render(e)).toBeUndefined();
    expect(compileTemplate('x:{after.toString}').render(event({ after: {} }))).toBeUndefined();
  });

  it('yields nothing when a referenced field is absent or null (a create has no before)', () => {
    const create = event({ after: { categoryId: 'c9' } });
    const t = compileTemplate('category:{before.categoryId}:products');
    expect(t.render(create)).toBeUndefined();
    expect(t.firstMissingField(create)).toBe('before.categoryId');
    expect(t.render(event({ before: { categoryId: null } }))).toBeUndefined();
    expect(compileTemplate('tenant:{tenant}').render(event())).toBeUndefined();
  });

  it.each([
    ['*', 'glob star'],
    ['a?b', 'glob ?'],
    ['[a-z]', 'glob class'],
    ['{x}', 'hash-tag braces'],
    ['a:b', 'segment separator'],
    ['a b', 'space'],
    ['a\nb', 'newline'],
    ['a\u0000b', 'NUL'],
    ['a\u200bb', 'zero-width space'],
    ['a\u202eb', 'bidi override'],
    ['a\\b', 'backslash'],
    ['', 'empty'],
    ['x'.repeat(129), 'over the value length cap'],
  ])('refuses the value %j (%s) with TEMPLATE_WIDENS_KEY', (value) => {
    const t = compileTemplate('category:{after.categoryId}:products');
    expect(codeOf(() => t.render(event({ after: { categoryId: value } })))).toBe('TEMPLATE_WIDENS_KEY');
  });

  it('refuses objects and arrays as values with TEMPLATE_VALUE_NOT_SCALAR', () => {
    const t = compileTemplate('category:{after.categoryId}');
    expect(codeOf(() => t.render(event({ after: { categoryId: { id: 1 } } })))).toBe('TEMPLATE_VALUE_NOT_SCALAR');
    expect(codeOf(() => t.render(event({ after: { categoryId: ['a'] } })))).toBe('TEMPLATE_VALUE_NOT_SCALAR');
  });

  it('caps the rendered key length', () => {
    const t = compileTemplate('k:{after.a}:{after.b}:{after.c}:{after.d}:{after.e}', 'key', {
      maxTemplateLength: 256,
      maxValueLength: 128,
      maxKeyLength: 100,
    });
    const v = 'v'.repeat(30);
    expect(codeOf(() => t.render(event({ after: { a: v, b: v, c: v, d: v, e: v } })))).toBe('TEMPLATE_WIDENS_KEY');
  });

  it.each([
    ['product:{entityId', 'TEMPLATE_SYNTAX'],
    ['product:entityId}', 'TEMPLATE_SYNTAX'],
    ['product:{}', 'TEMPLATE_SYNTAX'],
    ['product:{{entityId}}', 'TEMPLATE_SYNTAX'],
    ['product:{ entityId }', 'TEMPLATE_SYNTAX'],
    ['product:*', 'TEMPLATE_SYNTAX'],
    ['product:[ab]:{entityId}', 'TEMPLATE_SYNTAX'],
    ['product :{entityId}', 'TEMPLATE_SYNTAX'],
    ['product::{entityId}', 'TEMPLATE_SYNTAX'],
    [':{entityId}', 'TEMPLATE_SYNTAX'],
    ['{entityId}:', 'TEMPLATE_SYNTAX'],
    ['', 'TEMPLATE_SYNTAX'],
    ['p:' + 'x'.repeat(300), 'TEMPLATE_SYNTAX'],
    ['product:{id}', 'TEMPLATE_UNKNOWN_FIELD'],
    ['product:{after}', 'TEMPLATE_UNKNOWN_FIELD'],
    ['product:{price}', 'TEMPLATE_UNKNOWN_FIELD'],
    ['product:{payload.x}', 'TEMPLATE_UNKNOWN_FIELD'],
    ['product:{after.1x}', 'TEMPLATE_UNKNOWN_FIELD'],
    ['product:{after.a.b.c.d.e}', 'TEMPLATE_UNKNOWN_FIELD'],
    ['product:{eventId}', 'TEMPLATE_UNKNOWN_FIELD'],
  ])('refuses the template %j with %s', (source, code) => {
    expect(codeOf(() => compileTemplate(source))).toBe(code);
  });

  it('compiles loader URLs and URI-encodes substituted values', () => {
    const t = compileTemplate('https://catalog.internal/products/{entityId}?tenant={tenant}', 'loaderUrl');
    expect(t.render(event({ entityId: 'p@1', tenant: 'acme' }))).toBe('https://catalog.internal/products/p%401?tenant=acme');
    expect(codeOf(() => compileTemplate('ftp://x/{entityId}', 'loaderUrl'))).toBe('TEMPLATE_SYNTAX');
    expect(codeOf(() => compileTemplate('https://x/{entityId}', 'loaderUrl').render(event({ entityId: 'a b' })))).toBe(
      'TEMPLATE_WIDENS_KEY',
    );
  });

  it('names the template and field in its errors', () => {
    const t = compileTemplate('category:{after.categoryId}:products');
    expect(() => t.render(event({ after: { categoryId: 'a*' } }))).toThrow(
      /category:\{after\.categoryId\}:products.*after\.categoryId.*"\*"/,
    );
  });
});

describe('reserved prefix', () => {
  it('refuses a key or tag template that starts with "~" (the cache protocol companions)', () => {
    expect(() => compileTemplate('~t:{entityId}')).toThrow(/reserved/);
    expect(() => compileTemplate('~tag', 'tag')).toThrow(/reserved/);
    expect(() => compileTemplate('product:~{entityId}')).not.toThrow();
  });
});

describe('URL templates: the literal host (WHATWG-parsed) must be callable', () => {
  const allow127 = parseHostAllowList('127.0.0.3', 'LOADER_ALLOWED_HOSTS');
  it('refuses empty, dot and internal hosts when an allow-list is given, naming why', () => {
    for (const [source, why] of [
      ['http://../x/{entityId}', 'empty or only dots'],
      ['http://./x/{entityId}', 'empty or only dots'],
      ['http://a..b/x/{entityId}', 'empty label'],
      ['http://127.0.0.1:9000/admin/{entityId}', 'loopback'],
      ['http://0x7f000001/admin/{entityId}', 'loopback'],
      ['http://169.254.169.254/latest/{entityId}', 'cloud metadata'],
      ['http://[::ffff:169.254.169.254]/x/{entityId}', 'metadata'],
      ['http://localhost/x/{entityId}', 'this machine'],
    ]) {
      expect(() => compileTemplate(source, 'loaderUrl', DEFAULT_TEMPLATE_LIMITS, EMPTY_ALLOW_LIST)).toThrow(
        expect.objectContaining({ code: 'TEMPLATE_UNSAFE_URL', message: expect.stringContaining(why) }),
      );
      expect(urlTemplateHostProblem(source)).toContain(why);
    }
  });

  it('userinfo is refused already by the authority rule, and by the host check too', () => {
    expect(() => compileTemplate('http://user@shop.example/x/{entityId}', 'loaderUrl', DEFAULT_TEMPLATE_LIMITS, EMPTY_ALLOW_LIST)).toThrow(
      expect.objectContaining({ code: 'TEMPLATE_UNSAFE_URL' }),
    );
    expect(urlTemplateHostProblem('http://user@shop.example/x/{entityId}')).toContain('userinfo');
  });

  it('lets an operator allow-listed internal host through, public hosts always', () => {
    expect(() => compileTemplate('http://127.0.0.3:8080/p/{entityId}', 'loaderUrl', DEFAULT_TEMPLATE_LIMITS, allow127)).not.toThrow();
    expect(() => compileTemplate('http://127.0.0.4:8080/p/{entityId}', 'loaderUrl', DEFAULT_TEMPLATE_LIMITS, allow127)).toThrow(
      expect.objectContaining({ code: 'TEMPLATE_UNSAFE_URL' }),
    );
    expect(urlTemplateHostProblem('https://Shop.Example/p/{entityId}')).toBeUndefined();
    expect(urlTemplateHost('https://Shop.Example:8443/p/{entityId}')).toEqual({ host: 'shop.example' });
    // Without an allow-list the compile checks syntax only (stored mappings decode; the resolver refuses them per event).
    expect(() => compileTemplate('http://127.0.0.1/p/{entityId}', 'loaderUrl')).not.toThrow();
  });
});
