import { configWarnings } from '@app/config';
import { DEFAULT_REGISTRY_LIMITS } from '@app/registry-core';
import { cdcSource, cdcSourceMode, ConfigError, loadInvalidatorConfig, loaderMaxPendingPerTeam } from './invalidator.config';

const base = { KAFKA_BROKERS: '127.0.0.1:9092', REDIS_URL: 'redis://127.0.0.1:6380' };

function problemsOf(env: Record<string, string>): string {
  try {
    loadInvalidatorConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('loadInvalidatorConfig', () => {
  it('applies defaults and coerces numbers and booleans', () => {
    const c = loadInvalidatorConfig({ ...base, CHUNK_SIZE: '500', STRICT_ENTITY_TYPES: 'true' });
    expect(c.CHUNK_SIZE).toBe(500);
    expect(c.STRICT_ENTITY_TYPES).toBe(true);
    expect(c.KAFKA_TOPIC).toBe('entity.updated');
    expect(c.KAFKA_BROKERS).toBe('127.0.0.1:9092');
    expect(c.KEYSPACES_REQUIRED).toBe(true); // safe by default
    expect(loadInvalidatorConfig({ ...base, KEYSPACES_REQUIRED: 'false' }).KEYSPACES_REQUIRED).toBe(false);
  });

  it('names the variable that is wrong', () => {
    expect(problemsOf({ ...base, KAFKA_BROKERS: 'not a broker' })).toContain('KAFKA_BROKERS');
    expect(problemsOf({ ...base, CHUNK_SIZE: 'lots' })).toContain('CHUNK_SIZE');
    expect(problemsOf({ ...base, STRICT_ENTITY_TYPES: 'yes' })).toContain('STRICT_ENTITY_TYPES');
    expect(problemsOf({ ...base, KEYSPACES_REQUIRED: 'yes' })).toContain('KEYSPACES_REQUIRED');
    expect(problemsOf({ KAFKA_BROKERS: '127.0.0.1:9092' })).toContain('REDIS_URL or REDIS_CLUSTER_NODES');
    expect(problemsOf({ ...base, MAPPINGS_SOURCE: 'file' })).toContain('MAPPINGS_FILE');
    expect(problemsOf({ ...base, KAFKA_SASL_MECHANISM: 'plain' })).toContain('KAFKA_SASL_USERNAME');
    expect(problemsOf({ REDIS_URL: 'redis://x:1' })).toContain('KAFKA_BROKERS');
  });

  it('bounds chunks and fetches by bytes: hostile or inconsistent sizes stop startup naming the variable', () => {
    const c = loadInvalidatorConfig(base);
    expect(c.CHUNK_MAX_BYTES).toBeGreaterThanOrEqual(1024);
    expect(c.FETCH_MAX_BYTES).toBeGreaterThanOrEqual(c.MAX_BYTES_PER_PARTITION);
    for (const bad of ['0', '-1', '1023', '1.5', '1e12', 'Infinity', 'NaN', '0x100000', '2048abc']) {
      expect(problemsOf({ ...base, CHUNK_MAX_BYTES: bad })).toContain('CHUNK_MAX_BYTES');
      expect(problemsOf({ ...base, FETCH_MAX_BYTES: bad })).toContain('FETCH_MAX_BYTES');
    }
    // a total smaller than one partition's share makes no sense: refused, not silently clamped
    expect(problemsOf({ ...base, MAX_BYTES_PER_PARTITION: '4194304', FETCH_MAX_BYTES: '1048576' })).toContain(
      'FETCH_MAX_BYTES must be >= MAX_BYTES_PER_PARTITION',
    );
    expect(problemsOf({ ...base, MAX_BYTES_PER_PARTITION: '1e12' })).toContain('MAX_BYTES_PER_PARTITION');
    // FETCH_MAX_BYTES unset follows a larger MAX_BYTES_PER_PARTITION (a setting from before it existed keeps working)
    expect(loadInvalidatorConfig({ ...base, MAX_BYTES_PER_PARTITION: '4194304' }).FETCH_MAX_BYTES).toBe(4194304);
    expect(loadInvalidatorConfig({ ...base, MAX_BYTES_PER_PARTITION: '4194304', FETCH_MAX_BYTES: '' }).FETCH_MAX_BYTES).toBe(4194304);
    const tight = loadInvalidatorConfig({ ...base, CHUNK_MAX_BYTES: '65536', MAX_BYTES_PER_PARTITION: '65536', FETCH_MAX_BYTES: '65536' });
    expect([tight.CHUNK_MAX_BYTES, tight.FETCH_MAX_BYTES]).toEqual([65536, 65536]);
  });

  it('chooses the Kafka client with KAFKA_CLIENT (platformatic by default), naming the variable when it is wrong', () => {
    expect(loadInvalidatorConfig(base).KAFKA_CLIENT).toBe('platformatic');
    expect(loadInvalidatorConfig({ ...base, KAFKA_CLIENT: 'platformatic' }).KAFKA_CLIENT).toBe('platformatic');
    expect(loadInvalidatorConfig({ ...base, KAFKA_CLIENT: 'kafkajs' }).KAFKA_CLIENT).toBe('kafkajs');
    const problem = problemsOf({ ...base, KAFKA_CLIENT: 'librdkafka' });
    expect(problem).toContain('KAFKA_CLIENT');
    expect(problem).toContain('kafkajs, platformatic');
    expect(problemsOf({ ...base, KAFKA_CLIENT: 'Platformatic' })).toContain('KAFKA_CLIENT');
    // Empty means unset, as for every variable (readConfig).
    expect(loadInvalidatorConfig({ ...base, KAFKA_CLIENT: '' }).KAFKA_CLIENT).toBe('platformatic');
  });

  it('validates the other sinks (LOADER_*, PURGE_*) with the rest, naming the variable', () => {
    const c = loadInvalidatorConfig({
      ...base,
      LOADER_TIMEOUT_MS: '750',
      PURGE_TARGETS: 'varnish:http://127.0.0.1:6081',
      PURGE_SOFT: 'true',
    });
    expect(c).toMatchObject({
      LOADER_TIMEOUT_MS: 750,
      LOADER_RETRIES: 2,
      PURGE_TARGETS: 'varnish:http://127.0.0.1:6081',
      PURGE_SOFT: 'true',
      PURGE_DEADLINE_MS: 5_000,
    });
    expect(loadInvalidatorConfig(base).PURGE_TARGETS).toBe('');
    expect(problemsOf({ ...base, LOADER_TIMEOUT_MS: 'soon' })).toContain('LOADER_TIMEOUT_MS');
    expect(problemsOf({ ...base, LOADER_CONCURRENCY_PER_MAPPING: '0' })).toContain('LOADER_CONCURRENCY_PER_MAPPING');
    expect(problemsOf({ ...base, PURGE_DEADLINE_MS: '-1' })).toContain('PURGE_DEADLINE_MS');
    expect(problemsOf({ ...base, PURGE_SOFT: 'yes' })).toContain('PURGE_SOFT');
    expect(loadInvalidatorConfig(base)).toMatchObject({ PURGE_BREAKER_FAILURES: 3, PURGE_BREAKER_OPEN_MS: 30_000 });
    expect(problemsOf({ ...base, PURGE_BREAKER_FAILURES: '0' })).toContain('PURGE_BREAKER_FAILURES');
    expect(problemsOf({ ...base, PURGE_TARGETS: 'fastly:../purge_all', PURGE_FASTLY_TOKEN: 't' })).toContain('PURGE_TARGETS');
    expect(problemsOf({ ...base, PURGE_TARGETS: 'squid:http://x' })).toContain('PURGE_TARGETS');
    expect(problemsOf({ ...base, PURGE_TARGETS: 'varnish:ftp://x' })).toContain('PURGE_TARGETS');
    expect(problemsOf({ ...base, PURGE_TARGETS: 'fastly:svc1' })).toContain('PURGE_FASTLY_TOKEN');
    expect(problemsOf({ ...base, PURGE_TARGETS: 'cloudflare:zone1', PURGE_CLOUDFLARE_TOKEN: '' })).toContain('PURGE_CLOUDFLARE_TOKEN');
    // Tokens never appear in messages.
    expect(problemsOf({ ...base, PURGE_TARGETS: 'bogus', PURGE_FASTLY_TOKEN: 's3cret' })).not.toContain('s3cret');
  });

  it('loader limits: LOADER_MAX_BODY_BYTES, LOADER_MAX_PENDING_PER_TEAM (a tenth of LOADER_MAX_PENDING by default, below it when set)', () => {
    const c = loadInvalidatorConfig(base);
    expect(c.LOADER_MAX_BODY_BYTES).toBe(1_048_576);
    expect(loaderMaxPendingPerTeam(c)).toBe(1_000);
    expect(loaderMaxPendingPerTeam(loadInvalidatorConfig({ ...base, LOADER_MAX_PENDING: '5' }))).toBe(1);
    expect(loaderMaxPendingPerTeam(loadInvalidatorConfig({ ...base, LOADER_MAX_PENDING: '60', LOADER_MAX_PENDING_PER_TEAM: '20' }))).toBe(
      20,
    );
    expect(loadInvalidatorConfig({ ...base, LOADER_MAX_BODY_BYTES: '65536' }).LOADER_MAX_BODY_BYTES).toBe(65_536);
    expect(problemsOf({ ...base, LOADER_MAX_BODY_BYTES: '10' })).toContain('LOADER_MAX_BODY_BYTES');
    expect(problemsOf({ ...base, LOADER_MAX_BODY_BYTES: '1MiB' })).toContain('LOADER_MAX_BODY_BYTES');
    expect(problemsOf({ ...base, LOADER_MAX_PENDING_PER_TEAM: '-1' })).toContain('LOADER_MAX_PENDING_PER_TEAM');
    expect(problemsOf({ ...base, LOADER_MAX_PENDING: '100', LOADER_MAX_PENDING_PER_TEAM: '100' })).toContain(
      'LOADER_MAX_PENDING_PER_TEAM must be below LOADER_MAX_PENDING',
    );
    expect(problemsOf({ ...base, LOADER_ALLOWED_HOSTS: '127.0.0.1,not a host' })).toContain('LOADER_ALLOWED_HOSTS');
  });
});

describe('loadInvalidatorConfig: BUS_ENABLED is a boolean like the others', () => {
  it('defaults to true and reads true / false into real booleans', () => {
    expect(loadInvalidatorConfig(base).BUS_ENABLED).toBe(true);
    expect(loadInvalidatorConfig({ ...base, BUS_ENABLED: 'false' }).BUS_ENABLED).toBe(false);
    expect(loadInvalidatorConfig({ ...base, BUS_ENABLED: 'true' }).BUS_ENABLED).toBe(true);
  });

  it('stops startup naming BUS_ENABLED for any other value', () => {
    expect(problemsOf({ ...base, BUS_ENABLED: 'maybe' })).toMatch(/BUS_ENABLED must be a boolean value \(got "maybe"\)/);
    expect(problemsOf({ ...base, BUS_ENABLED: 'yes' })).toContain('BUS_ENABLED');
  });
});

describe('loadInvalidatorConfig: one naming scheme and one fan-out cap with the registry', () => {
  it('listens on HTTP_HOST / HTTP_PORT (the names every app uses)', () => {
    const config = loadInvalidatorConfig({ ...base, HTTP_HOST: '0.0.0.0', HTTP_PORT: '4000' });
    expect(config).toMatchObject({ HTTP_HOST: '0.0.0.0', HTTP_PORT: 4000 });
    expect(configWarnings(config)).toEqual([]);
  });

  it('FANOUT_CAP defaults to the one default of libs/registry-core, shared with the registry', () => {
    expect(loadInvalidatorConfig(base).FANOUT_CAP).toBe(DEFAULT_REGISTRY_LIMITS.fanoutCap);
    expect(loadInvalidatorConfig({ ...base, FANOUT_CAP: '32' }).FANOUT_CAP).toBe(32);
  });
});

describe('loadInvalidatorConfig: values past what the runtime can honour', () => {
  it('refuses a SHUTDOWN_TIMEOUT_MS past the largest timer delay (the force-exit timer would fire at once)', () => {
    expect(problemsOf({ ...base, SHUTDOWN_TIMEOUT_MS: '3000000000' })).toMatch(
      /SHUTDOWN_TIMEOUT_MS must not be greater than 2147483647 ms/,
    );
  });

  it('never echoes the password of a bad REDIS_URL', () => {
    const problems = problemsOf({ ...base, REDIS_URL: 'nope://cache:hunter2@redis:6379' });
    expect(problems).toContain('REDIS_URL');
    expect(problems).not.toContain('hunter2');
  });
});

describe('a CDC source (EVENT_FORMAT=debezium)', () => {
  const expectRefused = (env: Record<string, string>, message: RegExp) => expect(problemsOf(env)).toMatch(message);
  const cdc = { ...base, EVENT_FORMAT: 'debezium', CDC_ENTITY_TYPE: 'product' };

  it('declares the table: entity type, id, version, tenant, renames, decimals, exclusions', () => {
    const c = loadInvalidatorConfig({
      ...cdc,
      CDC_ID_COLUMNS: 'shop_id,id',
      CDC_VERSION_COLUMN: 'version',
      CDC_TENANT_COLUMN: 'tenant',
      CDC_FIELDS: 'category_id:categoryId,updated_at:updatedAt',
      CDC_NUMERIC_COLUMNS: 'price',
      CDC_EXCLUDE_COLUMNS: 'cost,secret',
    });
    expect(cdcSource(c)).toEqual({
      entityType: 'product',
      idColumns: ['shop_id', 'id'],
      versionColumn: 'version',
      tenantColumn: 'tenant',
      fields: { category_id: 'categoryId', updated_at: 'updatedAt' },
      numericColumns: ['price'],
      excludeColumns: ['cost', 'secret'],
    });
    expect(cdcSource(loadInvalidatorConfig(base))).toBeUndefined();
  });

  it('without CDC_ENTITY_TYPE the registry declares the table; CDC_ENTITY_TYPE set: the settings win', () => {
    const registry = loadInvalidatorConfig({ ...base, EVENT_FORMAT: 'debezium' });
    expect(cdcSourceMode(registry)).toBe('registry');
    expect(cdcSource(registry)).toBeUndefined();
    expect(cdcSourceMode(loadInvalidatorConfig(cdc))).toBe('env');
    expect(cdcSource(loadInvalidatorConfig(cdc))?.idColumns).toEqual(['id']); // CDC_ID_COLUMNS unset: "id"
    expect(cdcSourceMode(loadInvalidatorConfig(base))).toBeUndefined();
  });

  it('refuses half a declaration in the environment (a CDC_* setting without CDC_ENTITY_TYPE), naming each variable', () => {
    const message = problemsOf({ ...base, EVENT_FORMAT: 'debezium', CDC_FIELDS: 'category_id:categoryId', CDC_ID_COLUMNS: 'sku' });
    expect(message).toMatch(/CDC_ID_COLUMNS set without CDC_ENTITY_TYPE/);
    expect(message).toMatch(
      /CDC_FIELDS set without CDC_ENTITY_TYPE: a table is declared either by the CDC_\* settings .* or by its source declaration in the registry/,
    );
  });

  it('stops startup naming the variable: a stray CDC setting, hostile names and renames', () => {
    expectRefused({ ...base, CDC_ID_COLUMNS: 'id' }, /CDC_ID_COLUMNS set but EVENT_FORMAT is not debezium/);
    expectRefused({ ...base, EVENT_FORMAT: 'wal2json' }, /EVENT_FORMAT must be one of/);
    // Set for a CDC deployment but the format forgotten: rows would be read as entity.updated.
    expectRefused({ ...base, CDC_ENTITY_TYPE: 'product' }, /CDC_ENTITY_TYPE set but EVENT_FORMAT is not debezium/);
    expectRefused({ ...cdc, CDC_ENTITY_TYPE: 'prod*' }, /CDC_ENTITY_TYPE must match/);
    expectRefused({ ...cdc, CDC_ID_COLUMNS: 'id;drop table' }, /CDC_ID_COLUMNS must be/);
    expectRefused({ ...cdc, CDC_ID_COLUMNS: 'id,' }, /CDC_ID_COLUMNS/);
    expectRefused({ ...cdc, CDC_EXCLUDE_COLUMNS: 'constructor' }, /CDC_EXCLUDE_COLUMNS names __proto__/);
    expectRefused({ ...cdc, CDC_VERSION_COLUMN: 'version-1' }, /CDC_VERSION_COLUMN must be/);
    expectRefused({ ...cdc, CDC_FIELDS: 'category_id:{after.x}' }, /CDC_FIELDS must be/);
    expectRefused({ ...cdc, CDC_FIELDS: '__proto__:x' }, /CDC_FIELDS names __proto__/);
    expectRefused({ ...cdc, CDC_FIELDS: 'a:x,a:y' }, /CDC_FIELDS renames column a twice/);
    expectRefused({ ...cdc, CDC_FIELDS: 'a:x,b:x' }, /CDC_FIELDS gives two columns the same field name/);
  });
});
