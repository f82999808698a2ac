import { ConfigError, configWarnings } from '@app/config';
import { loadStorefrontConfig, resolveStorefrontConfig } from './storefront.config';

function problems(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('storefront config', () => {
  it('applies defaults and coerces env strings', () => {
    expect(
      loadStorefrontConfig({ CATALOG_URL: 'http://127.0.0.1:3010', REDIS_URL: 'redis://127.0.0.1:7000', PRODUCT_TTL_MS: '5000' }),
    ).toMatchObject({ PRODUCT_TTL_MS: 5000, LISTING_TTL_MS: 60_000, HTTP_HOST: '127.0.0.1', HTTP_PORT: 3020 });
  });

  it('names the variable that is missing or wrong', () => {
    expect(problems(() => loadStorefrontConfig({ REDIS_URL: 'redis://x:1' }))).toContain('CATALOG_URL');
    expect(problems(() => loadStorefrontConfig({ CATALOG_URL: 'catalog:3010', REDIS_URL: 'redis://x:1' }))).toContain('CATALOG_URL');
    expect(problems(() => loadStorefrontConfig({ CATALOG_URL: 'http://c:1' }))).toContain('REDIS_URL or REDIS_CLUSTER_NODES');
    expect(
      problems(() => loadStorefrontConfig({ CATALOG_URL: 'http://c:1', REDIS_URL: 'redis://x:1', REDIS_CLUSTER_NODES: 'a:1' })),
    ).toContain('only one');
    expect(
      problems(() => loadStorefrontConfig({ CATALOG_URL: 'http://c:1', REDIS_URL: 'redis://x:1', LOADER_TIMEOUT_MS: 'soon' })),
    ).toContain('LOADER_TIMEOUT_MS');
  });

  it('does not ask for Redis settings when the caller passes a client', () => {
    expect(resolveStorefrontConfig({ CATALOG_URL: 'http://c:1' }, true).CATALOG_URL).toBe('http://c:1');
  });

  const env = { CATALOG_URL: 'http://c:1', REDIS_URL: 'redis://x:1' };

  it('still reads STOREFRONT_HOST / STOREFRONT_PORT alone, with one warning each naming the new variable', () => {
    const config = loadStorefrontConfig({ ...env, STOREFRONT_HOST: '0.0.0.0', STOREFRONT_PORT: '4000' });
    expect(config).toMatchObject({ HTTP_HOST: '0.0.0.0', HTTP_PORT: 4000 });
    expect(configWarnings(config)).toEqual([
      expect.stringMatching(/STOREFRONT_HOST is deprecated.*HTTP_HOST/),
      expect.stringMatching(/STOREFRONT_PORT is deprecated.*HTTP_PORT/),
    ]);
    expect(configWarnings(loadStorefrontConfig({ ...env, HTTP_PORT: '4000' }))).toEqual([]);
  });

  it('refuses STOREFRONT_PORT and HTTP_PORT set to different values, naming both', () => {
    expect(problems(() => loadStorefrontConfig({ ...env, STOREFRONT_PORT: '4000', HTTP_PORT: '4001' }))).toContain(
      'STOREFRONT_PORT and HTTP_PORT are both set, to different values ("4000" and "4001")',
    );
  });

  it('L1_ENABLED is a boolean like the others (true by default), naming the variable when it is not', () => {
    expect(loadStorefrontConfig(env).L1_ENABLED).toBe(true);
    expect(loadStorefrontConfig({ ...env, L1_ENABLED: 'false' }).L1_ENABLED).toBe(false);
    expect(problems(() => loadStorefrontConfig({ ...env, L1_ENABLED: 'maybe' }))).toMatch(
      /L1_ENABLED must be a boolean value \(got "maybe"\)/,
    );
  });
});
