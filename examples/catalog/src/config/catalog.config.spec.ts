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

const DB = 'postgres://postgres@127.0.0.1:5433/catalog';

describe('catalog config', () => {
  it('applies defaults and coerces env strings', () => {
    const config = loadCatalogConfig({ KAFKA_BROKERS: '127.0.0.1:9092', DATABASE_URL: DB, HTTP_PORT: '0', DATABASE_POOL_SIZE: '4' });
    expect(config).toMatchObject({
      KAFKA_BROKERS: '127.0.0.1:9092',
      DATABASE_URL: DB,
      DATABASE_POOL_SIZE: 4,
      OUTBOX_CLAIM_LEASE_MS: 30_000,
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: 0,
      KAFKA_TOPIC: 'entity.updated',
      OUTBOX_POLL_MS: 500,
    });
  });

  it('names the variable that is missing or wrong', () => {
    expect(problems(() => loadCatalogConfig({}))).toContain('KAFKA_BROKERS');
    expect(problems(() => loadCatalogConfig({ KAFKA_BROKERS: 'x:1' }))).toContain('DATABASE_URL is required');
    expect(problems(() => loadCatalogConfig({ KAFKA_BROKERS: 'x:1', DATABASE_URL: DB, HTTP_PORT: 'eighty' }))).toContain('HTTP_PORT');
    expect(problems(() => loadCatalogConfig({ KAFKA_BROKERS: 'x:1', DATABASE_URL: DB, DATABASE_POOL_SIZE: '0' }))).toContain(
      'DATABASE_POOL_SIZE',
    );
    expect(problems(() => resolveCatalogConfig({ KAFKA_BROKERS: 'x:1', DATABASE_URL: DB, OUTBOX_POLL_MS: 1 }))).toContain('OUTBOX_POLL_MS');
    expect(problems(() => resolveCatalogConfig({ KAFKA_BROKERS: 'x:1', DATABASE_URL: DB, OUTBOX_CLAIM_LEASE_MS: 5 }))).toContain(
      'OUTBOX_CLAIM_LEASE_MS',
    );
  });

  it('refuses a DATABASE_URL that is not a postgres:// URL, naming it and never showing its password', () => {
    for (const bad of ['mysql://u@h/db', 'postgres://h:5432', 'postgres://u:secret@h:port/db', 'not a url'])
      expect(problems(() => loadCatalogConfig({ KAFKA_BROKERS: 'x:1', DATABASE_URL: bad }))).toContain('DATABASE_URL must be postgres://');
    const message = problems(() => loadCatalogConfig({ KAFKA_BROKERS: 'x:1', DATABASE_URL: 'postgres://u:secret@h:port/db' }));
    expect(message).not.toContain('secret');
    expect(message).toContain('postgres://u:***@h:port/db');
    expect(problems(() => loadCatalogConfig({ KAFKA_BROKERS: 'x:1', DATABASE_URL: 'mysql://u:pw@h/db' }))).toContain('mysql://u:***@h/db');
    for (const good of [
      'postgres://postgres@127.0.0.1:5433/catalog',
      'postgresql://u:p%40ss@db.internal/catalog?sslmode=require',
      'postgres://h/db',
    ])
      expect(loadCatalogConfig({ KAFKA_BROKERS: 'x:1', DATABASE_URL: good }).DATABASE_URL).toBe(good);
  });

  it('says the JSON journal is gone when only the old CATALOG_DATA_FILE is set', () => {
    expect(problems(() => loadCatalogConfig({ KAFKA_BROKERS: 'x:1', CATALOG_DATA_FILE: '/tmp/c.jsonl' }))).toContain(
      'CATALOG_DATA_FILE is no longer read',
    );
  });

  it('reads KAFKA_COMPRESSION (default none) and refuses an unknown codec naming the variable', () => {
    expect(loadCatalogConfig({ KAFKA_BROKERS: 'x:1', DATABASE_URL: DB }).KAFKA_COMPRESSION).toBe('none');
    for (const codec of ['none', 'gzip', 'snappy', 'lz4', 'zstd'])
      expect(loadCatalogConfig({ KAFKA_BROKERS: 'x:1', DATABASE_URL: DB, KAFKA_COMPRESSION: codec }).KAFKA_COMPRESSION).toBe(codec);
    expect(problems(() => loadCatalogConfig({ KAFKA_BROKERS: 'x:1', DATABASE_URL: DB, KAFKA_COMPRESSION: 'brotli' }))).toMatch(
      /KAFKA_COMPRESSION.*brotli/,
    );
  });

  it('still reads CATALOG_HOST / CATALOG_PORT alone, with one warning each naming the new variable', () => {
    const config = loadCatalogConfig({ KAFKA_BROKERS: 'x:1', DATABASE_URL: DB, CATALOG_HOST: '0.0.0.0', CATALOG_PORT: '4000' });
    expect(config).toMatchObject({ HTTP_HOST: '0.0.0.0', HTTP_PORT: 4000 });
    expect(configWarnings(config)).toEqual([
      expect.stringMatching(/CATALOG_HOST is deprecated.*HTTP_HOST/),
      expect.stringMatching(/CATALOG_PORT is deprecated.*HTTP_PORT/),
    ]);
    expect(configWarnings(loadCatalogConfig({ KAFKA_BROKERS: 'x:1', DATABASE_URL: DB, HTTP_PORT: '4000' }))).toEqual([]);
  });

  it('refuses CATALOG_PORT and HTTP_PORT set to different values, naming both', () => {
    expect(
      problems(() => loadCatalogConfig({ KAFKA_BROKERS: 'x:1', DATABASE_URL: DB, CATALOG_PORT: '4000', HTTP_PORT: '4001' })),
    ).toContain('CATALOG_PORT and HTTP_PORT are both set, to different values ("4000" and "4001")');
  });
});
