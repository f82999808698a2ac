import { kafkaSecurityOptions } from '@app/config';
import { ConfigError, loadRegistryConfig } from './registry.config';

const base = { KAFKA_BROKERS: '127.0.0.1:9092', REGISTRY_TOKENS: 'tokenA=team-a,tokenB=team-b:bob,adminTok=*' };

function problems(input: Record<string, unknown>): string {
  try {
    loadRegistryConfig(input);
    return '';
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
}

describe('registry config', () => {
  it('reads env strings into typed values with defaults', () => {
    const config = loadRegistryConfig({ ...base, REGISTRY_PORT: '4000', REGISTRY_CREATE_TOPICS: 'false' });
    expect(config).toMatchObject({
      REGISTRY_PORT: 4000,
      REGISTRY_CREATE_TOPICS: false,
      REGISTRY_FANOUT_CAP: 64,
      KAFKA_MAPPINGS_TOPIC: 'cache-mappings',
      KAFKA_AUDIT_TOPIC: 'cache-mappings.audit',
    });
  });

  it('names the variable of every problem', () => {
    expect(problems({})).toMatch(/KAFKA_BROKERS must be a comma-separated list of host:port/);
    expect(problems({})).toMatch(/REGISTRY_TOKENS/);
    expect(problems({ ...base, REGISTRY_FANOUT_CAP: 'lots' })).toMatch(/REGISTRY_FANOUT_CAP must be an integer number \(got "lots"\)/);
    expect(problems({ ...base, REGISTRY_PORT: '70000' })).toMatch(/REGISTRY_PORT/);
    expect(problems({ ...base, LOG_LEVEL: 'loud' })).toMatch(/LOG_LEVEL/);
    expect(problems({ ...base, REGISTRY_MAX_BODY_BYTES: '1mb' })).toMatch(
      /REGISTRY_MAX_BODY_BYTES must be an integer number \(got "1mb"\)/,
    );
    expect(problems({ ...base, REGISTRY_MAX_BODY_BYTES: '10' })).toMatch(/REGISTRY_MAX_BODY_BYTES/);
    expect(problems({ ...base, KEYSPACES_REQUIRED: 'yes' })).toMatch(/KEYSPACES_REQUIRED/);
    expect(problems({ ...base, LOADER_ALLOWED_HOSTS: '127.0.0.1,not a host' })).toMatch(
      /LOADER_ALLOWED_HOSTS: "not a host" is not a host name, IP address or CIDR/,
    );
    expect(problems({ ...base, PURGE_ALLOWED_HOSTS: '10.0.0.0/99' })).toMatch(/PURGE_ALLOWED_HOSTS: "10.0.0.0\/99" is not a valid CIDR/);
  });

  it('is safe by default: KEYSPACES_REQUIRED on, request bodies up to 1 MiB', () => {
    expect(loadRegistryConfig(base)).toMatchObject({ KEYSPACES_REQUIRED: true, REGISTRY_MAX_BODY_BYTES: 1_048_576 });
    expect(loadRegistryConfig({ ...base, KEYSPACES_REQUIRED: 'false', REGISTRY_MAX_BODY_BYTES: '65536' })).toMatchObject({
      KEYSPACES_REQUIRED: false,
      REGISTRY_MAX_BODY_BYTES: 65_536,
    });
  });

  it('refuses malformed tokens without echoing them', () => {
    const message = problems({ ...base, REGISTRY_TOKENS: 'secret-token-without-team' });
    expect(message).toMatch(/REGISTRY_TOKENS: entry 1 must look like token=team/);
    expect(message).not.toContain('secret-token-without-team');
    expect(problems({ ...base, REGISTRY_TOKENS: 'a=team one' })).toMatch(/REGISTRY_TOKENS: entry 1: team must be/);
    expect(problems({ ...base, REGISTRY_TOKENS: 'a=x,a=y' })).toMatch(/entry 2 repeats a token/);
  });
});

describe('registry config: Kafka TLS / SASL (as the invalidator)', () => {
  it('reads KAFKA_SSL and the SASL variables', () => {
    const config = loadRegistryConfig({
      ...base,
      KAFKA_SSL: 'true',
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'u',
      KAFKA_SASL_PASSWORD: 'p',
    });
    expect(config).toMatchObject({
      KAFKA_SSL: true,
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'u',
      KAFKA_SASL_PASSWORD: 'p',
    });
    expect(kafkaSecurityOptions(config)).toEqual({ ssl: true, sasl: { mechanism: 'scram-sha-512', username: 'u', password: 'p' } });
    expect(kafkaSecurityOptions(loadRegistryConfig(base))).toEqual({ ssl: false, sasl: undefined });
  });

  it('refuses an unknown mechanism, SASL without credentials, and hides the password', () => {
    expect(problems({ ...base, KAFKA_SASL_MECHANISM: 'gssapi' })).toMatch(/KAFKA_SASL_MECHANISM/);
    expect(problems({ ...base, KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u' })).toMatch(
      /KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD must be set/,
    );
    expect(problems({ ...base, KAFKA_SSL: 'yes' })).toMatch(/KAFKA_SSL/);
    expect(problems({ ...base, KAFKA_SASL_PASSWORD: 42 })).not.toContain('42');
  });

  it('has no lag or dashboard settings any more (apps/lag-monitor)', () => {
    expect(Object.keys(loadRegistryConfig(base)).filter((k) => k.startsWith('LAG_') || k === 'INVALIDATOR_METRICS_URLS')).toEqual([]);
  });
});
