import { kafkaSecurityOptions } from '@app/config';
import { ConfigError, lagModuleOptions, loadLagMonitorConfig } from './lag-monitor.config';

const base = { KAFKA_BROKERS: '127.0.0.1:9092' };

function problems(input: Record<string, unknown>): string {
  try {
    loadLagMonitorConfig(input);
    return '';
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
}

describe('lag-monitor config', () => {
  it('needs only KAFKA_BROKERS; defaults watch the invalidators', () => {
    const config = loadLagMonitorConfig(base);
    expect(config).toMatchObject({
      KAFKA_CLIENT_ID: 'lag-monitor',
      LAG_GROUP_ID: 'cache-invalidator',
      LAG_TOPICS: 'entity.updated',
      LAG_INTERVAL_MS: 2000,
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: 3003,
      KAFKA_SSL: false,
    });
    expect(lagModuleOptions(config)).toMatchObject({
      brokers: ['127.0.0.1:9092'],
      clientId: 'lag-monitor',
      groupId: 'cache-invalidator',
      topics: ['entity.updated'],
      intervalMs: 2000,
      invalidatorMetricsUrls: [],
      kafka: { ssl: false, sasl: undefined },
    });
  });

  it('reads env strings: several topics and invalidator URLs, port, TLS and SASL', () => {
    const config = loadLagMonitorConfig({
      ...base,
      LAG_GROUP_ID: 'g',
      LAG_TOPICS: 'a,b',
      INVALIDATOR_METRICS_URLS: 'http://i1:3001/metrics,http://i2:3001/metrics',
      HTTP_PORT: '4000',
      KAFKA_SSL: 'true',
      KAFKA_SASL_MECHANISM: 'plain',
      KAFKA_SASL_USERNAME: 'u',
      KAFKA_SASL_PASSWORD: 'p',
    });
    expect(config.HTTP_PORT).toBe(4000);
    expect(lagModuleOptions(config)).toMatchObject({
      groupId: 'g',
      topics: ['a', 'b'],
      invalidatorMetricsUrls: ['http://i1:3001/metrics', 'http://i2:3001/metrics'],
      kafka: { ssl: true, sasl: { mechanism: 'plain', username: 'u', password: 'p' } },
    });
    expect(kafkaSecurityOptions(config).ssl).toBe(true);
  });

  it('names the variable of every problem', () => {
    expect(problems({})).toMatch(/KAFKA_BROKERS must be a comma-separated list of host:port/);
    expect(problems({ ...base, HTTP_PORT: '70000' })).toMatch(/HTTP_PORT/);
    expect(problems({ ...base, LAG_INTERVAL_MS: '10' })).toMatch(/LAG_INTERVAL_MS/);
    expect(problems({ ...base, INVALIDATOR_METRICS_URLS: 'invalidator:3001' })).toMatch(
      /INVALIDATOR_METRICS_URLS must be a comma-separated list of http\(s\) URLs/,
    );
    expect(problems({ ...base, KAFKA_SASL_MECHANISM: 'kerberos' })).toMatch(/KAFKA_SASL_MECHANISM/);
    expect(problems({ ...base, KAFKA_SASL_MECHANISM: 'plain' })).toMatch(/KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD must be set/);
    expect(problems({ ...base, LOG_LEVEL: 'loud' })).toMatch(/LOG_LEVEL/);
  });

  it('never shows a SASL password in an error', () => {
    expect(problems({ ...base, KAFKA_SASL_PASSWORD: 12345 })).not.toContain('12345');
  });
});
