import { configWarnings, kafkaSecurityOptions } from '@app/config';
import { DEFAULT_REGISTRY_LIMITS } from '@app/registry-core';
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
    const config = loadRegistryConfig({ ...base, HTTP_PORT: '4000', REGISTRY_CREATE_TOPICS: 'false' });
    expect(config).toMatchObject({
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: 4000,
      REGISTRY_CREATE_TOPICS: false,
      FANOUT_CAP: 64,
      KAFKA_MAPPINGS_TOPIC: 'cache-mappings',
      KAFKA_AUDIT_TOPIC: 'cache-mappings.audit',
    });
  });

  it('names the variable of every problem', () => {
    expect(problems({})).toMatch(/KAFKA_BROKERS must be a comma-separated list of host:port/);
    expect(problems({})).toMatch(/REGISTRY_TOKENS/);
    expect(problems({ ...base, FANOUT_CAP: 'lots' })).toMatch(/FANOUT_CAP must be an integer number \(got "lots"\)/);
    expect(problems({ ...base, HTTP_PORT: '70000' })).toMatch(/HTTP_PORT/);
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

describe('registry config: renamed variables (REGISTRY_HOST, REGISTRY_PORT, REGISTRY_FANOUT_CAP)', () => {
  it('reads the new names (HTTP_HOST, HTTP_PORT, FANOUT_CAP as the invalidator) without a warning', () => {
    const config = loadRegistryConfig({ ...base, HTTP_HOST: '0.0.0.0', HTTP_PORT: '4000', FANOUT_CAP: '32' });
    expect(config).toMatchObject({ HTTP_HOST: '0.0.0.0', HTTP_PORT: 4000, FANOUT_CAP: 32 });
    expect(configWarnings(config)).toEqual([]);
  });

  it('the fan-out cap defaults to the one default of libs/registry-core, shared with the invalidator', () => {
    expect(loadRegistryConfig(base).FANOUT_CAP).toBe(DEFAULT_REGISTRY_LIMITS.fanoutCap);
  });

  it.each([
    ['REGISTRY_HOST', 'HTTP_HOST', '0.0.0.0', '0.0.0.0'],
    ['REGISTRY_PORT', 'HTTP_PORT', '4000', 4000],
    ['REGISTRY_FANOUT_CAP', 'FANOUT_CAP', '32', 32],
  ])('still reads %s alone (as %s), with one warning naming both', (oldName, newName, raw, value) => {
    const config = loadRegistryConfig({ ...base, [oldName]: raw });
    expect((config as unknown as Record<string, unknown>)[newName]).toBe(value);
    expect(configWarnings(config)).toHaveLength(1);
    expect(configWarnings(config)[0]).toContain(`${oldName} is deprecated`);
    expect(configWarnings(config)[0]).toContain(newName);
    expect(Object.keys(config)).not.toContain(oldName);
  });

  it.each([
    ['REGISTRY_HOST', 'HTTP_HOST', '0.0.0.0', '127.0.0.1'],
    ['REGISTRY_PORT', 'HTTP_PORT', '4000', '4001'],
    ['REGISTRY_FANOUT_CAP', 'FANOUT_CAP', '32', '64'],
  ])('refuses %s and %s set to different values, naming both', (oldName, newName, oldValue, newValue) => {
    expect(problems({ ...base, [oldName]: oldValue, [newName]: newValue })).toContain(
      `${oldName} and ${newName} are both set, to different values ("${oldValue}" and "${newValue}")`,
    );
  });

  it('accepts the old and the new name with the same value, warning to remove the old one', () => {
    const config = loadRegistryConfig({ ...base, REGISTRY_FANOUT_CAP: '32', FANOUT_CAP: '32' });
    expect(config.FANOUT_CAP).toBe(32);
    expect(configWarnings(config)).toEqual([expect.stringMatching(/REGISTRY_FANOUT_CAP is deprecated.*remove REGISTRY_FANOUT_CAP/)]);
  });

  it('names the old variable when the value it gave is bad', () => {
    expect(problems({ ...base, REGISTRY_FANOUT_CAP: 'lots' })).toMatch(
      /FANOUT_CAP must be an integer number \(got "lots" from REGISTRY_FANOUT_CAP\)/,
    );
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
