import { ConfigError } from '@app/config';
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
    ).toMatchObject({ PRODUCT_TTL_MS: 5000, LISTING_TTL_MS: 60_000, STOREFRONT_PORT: 3020 });
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
});
