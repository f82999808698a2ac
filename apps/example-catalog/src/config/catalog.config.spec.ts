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
    expect(config).toMatchObject({ KAFKA_BROKERS: '127.0.0.1:9092', CATALOG_PORT: 0, CATALOG_FSYNC: true, KAFKA_TOPIC: 'entity.updated', OUTBOX_POLL_MS: 500 });
  });

  it('names the variable that is missing or wrong', () => {
    expect(problems(() => loadCatalogConfig({}))).toContain('KAFKA_BROKERS');
    expect(problems(() => loadCatalogConfig({ KAFKA_BROKERS: 'x:1', CATALOG_PORT: 'eighty' }))).toContain('CATALOG_PORT');
    expect(problems(() => loadCatalogConfig({ KAFKA_BROKERS: 'x:1', CATALOG_FSYNC: 'yes' }))).toContain('CATALOG_FSYNC');
    expect(problems(() => resolveCatalogConfig({ KAFKA_BROKERS: 'x:1', OUTBOX_POLL_MS: 1 }))).toContain('OUTBOX_POLL_MS');
  });
});
