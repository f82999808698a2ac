import { ConfigError, configWarnings } from '@app/config';
import { loadCatalogConfig, resolveCatalogConfig } from './catalog.config';

function problems(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('catalog config', () => {
  it('applies defaults and coerces env strings', () => {
    const config = loadCatalogConfig({ KAFKA_BROKERS: '127.0.0.1:9092', HTTP_PORT: '0', CATALOG_FSYNC: 'true' });
    expect(config).toMatchObject({
      KAFKA_BROKERS: '127.0.0.1:9092',
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: 0,
      CATALOG_FSYNC: true,
      KAFKA_TOPIC: 'entity.updated',
      OUTBOX_POLL_MS: 500,
    });
  });

  it('names the variable that is missing or wrong', () => {
    expect(problems(() => loadCatalogConfig({}))).toContain('KAFKA_BROKERS');
    expect(problems(() => loadCatalogConfig({ KAFKA_BROKERS: 'x:1', HTTP_PORT: 'eighty' }))).toContain('HTTP_PORT');
    expect(problems(() => loadCatalogConfig({ KAFKA_BROKERS: 'x:1', CATALOG_FSYNC: 'yes' }))).toContain('CATALOG_FSYNC');
    expect(problems(() => resolveCatalogConfig({ KAFKA_BROKERS: 'x:1', OUTBOX_POLL_MS: 1 }))).toContain('OUTBOX_POLL_MS');
  });

  it('reads KAFKA_COMPRESSION (default none) and refuses an unknown codec naming the variable', () => {
    expect(loadCatalogConfig({ KAFKA_BROKERS: 'x:1' }).KAFKA_COMPRESSION).toBe('none');
    for (const codec of ['none', 'gzip', 'snappy', 'lz4', 'zstd'])
      expect(loadCatalogConfig({ KAFKA_BROKERS: 'x:1', KAFKA_COMPRESSION: codec }).KAFKA_COMPRESSION).toBe(codec);
    expect(problems(() => loadCatalogConfig({ KAFKA_BROKERS: 'x:1', KAFKA_COMPRESSION: 'brotli' }))).toMatch(/KAFKA_COMPRESSION.*brotli/);
  });

  it('still reads CATALOG_HOST / CATALOG_PORT alone, with one warning each naming the new variable', () => {
    const config = loadCatalogConfig({ KAFKA_BROKERS: 'x:1', CATALOG_HOST: '0.0.0.0', CATALOG_PORT: '4000' });
    expect(config).toMatchObject({ HTTP_HOST: '0.0.0.0', HTTP_PORT: 4000 });
    expect(configWarnings(config)).toEqual([
      expect.stringMatching(/CATALOG_HOST is deprecated.*HTTP_HOST/),
      expect.stringMatching(/CATALOG_PORT is deprecated.*HTTP_PORT/),
    ]);
    expect(configWarnings(loadCatalogConfig({ KAFKA_BROKERS: 'x:1', HTTP_PORT: '4000' }))).toEqual([]);
  });

  it('refuses CATALOG_PORT and HTTP_PORT set to different values, naming both', () => {
    expect(problems(() => loadCatalogConfig({ KAFKA_BROKERS: 'x:1', CATALOG_PORT: '4000', HTTP_PORT: '4001' }))).toContain(
      'CATALOG_PORT and HTTP_PORT are both set, to different values ("4000" and "4001")',
    );
  });
});
