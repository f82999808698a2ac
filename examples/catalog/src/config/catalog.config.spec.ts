import { ConfigError } from '@app/config';
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
    const config = loadCatalogConfig({ KAFKA_BROKERS: '127.0.0.1:9092', CATALOG_PORT: '0', CATALOG_FSYNC: 'true' });
    expect(config).toMatchObject({
      KAFKA_BROKERS: '127.0.0.1:9092',
      CATALOG_PORT: 0,
      CATALOG_FSYNC: true,
      KAFKA_TOPIC: 'entity.updated',
      OUTBOX_POLL_MS: 500,
    });
  });

  it('names the variable that is missing or wrong', () => {
    expect(problems(() => loadCatalogConfig({}))).toContain('KAFKA_BROKERS');
    expect(problems(() => loadCatalogConfig({ KAFKA_BROKERS: 'x:1', CATALOG_PORT: 'eighty' }))).toContain('CATALOG_PORT');
    expect(problems(() => loadCatalogConfig({ KAFKA_BROKERS: 'x:1', CATALOG_FSYNC: 'yes' }))).toContain('CATALOG_FSYNC');
    expect(problems(() => resolveCatalogConfig({ KAFKA_BROKERS: 'x:1', OUTBOX_POLL_MS: 1 }))).toContain('OUTBOX_POLL_MS');
  });

  it('reads KAFKA_COMPRESSION (default none) and refuses an unknown codec naming the variable', () => {
    expect(loadCatalogConfig({ KAFKA_BROKERS: 'x:1' }).KAFKA_COMPRESSION).toBe('none');
    for (const codec of ['none', 'gzip', 'snappy', 'lz4', 'zstd'])
      expect(loadCatalogConfig({ KAFKA_BROKERS: 'x:1', KAFKA_COMPRESSION: codec }).KAFKA_COMPRESSION).toBe(codec);
    expect(problems(() => loadCatalogConfig({ KAFKA_BROKERS: 'x:1', KAFKA_COMPRESSION: 'brotli' }))).toMatch(/KAFKA_COMPRESSION.*brotli/);
  });
});
