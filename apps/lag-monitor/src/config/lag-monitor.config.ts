// The lag monitor's one typed config (the operators' app: dashboard, GET /lag, /metrics, health).
// Property names are the env variable names, so every problem names the variable to fix. It
// needs Kafka only: no invalidator, no registry, no Redis.
import 'reflect-metadata';
import { IsIn, IsInt, IsNotEmpty, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import {
  ConfigError,
  KAFKA_SECURITY_KEYS_WITHOUT_DEFAULT,
  KafkaSecurityConfig,
  kafkaSecurityOptions,
  kafkaSecurityProblems,
  readConfig,
} from '@app/config';
import { DEFAULT_TOPICS } from '@app/contracts';
import type { LagModuleOptions } from '../http/lag-module-options';

const HOST_PORT_LIST = /^[^,\s:]+:\d{1,5}(,[^,\s:]+:\d{1,5})*$/;
const URL_LIST = /^https?:\/\/[^,\s]+(,https?:\/\/[^,\s]+)*$/;

export { ConfigError };

/** KAFKA_SSL and KAFKA_SASL_* come from KafkaSecurityConfig (@app/config), as for the invalidator. */
export class LagMonitorConfig extends KafkaSecurityConfig {
  /** Variables without a default (readConfig cannot see them on a fresh instance). */
  static readonly KEYS_WITHOUT_DEFAULT = [
    'KAFKA_BROKERS',
    ...KAFKA_SECURITY_KEYS_WITHOUT_DEFAULT,
    'INVALIDATOR_METRICS_URLS',
    'CACHE_METRICS_URLS',
  ];

  @Matches(HOST_PORT_LIST, { message: 'KAFKA_BROKERS must be a comma-separated list of host:port' })
  KAFKA_BROKERS!: string;

  @IsString()
  @IsNotEmpty()
  KAFKA_CLIENT_ID = 'lag-monitor';

  /** The consumer group whose lag is shown (the invalidators' KAFKA_GROUP_ID). */
  @IsString()
  @IsNotEmpty()
  LAG_GROUP_ID = 'cache-invalidator';

  /** Comma-separated topics the group consumes. */
  @IsString()
  @IsNotEmpty()
  LAG_TOPICS: string = DEFAULT_TOPICS.entityUpdated;

  @IsInt()
  @Min(250)
  LAG_INTERVAL_MS = 2_000;

  /** Comma-separated invalidator /metrics URLs, scraped for the dashboard's throughput, DLQ and latency panels. */
  @IsOptional()
  @Matches(URL_LIST, { message: 'INVALIDATOR_METRICS_URLS must be a comma-separated list of http(s) URLs' })
  INVALIDATOR_METRICS_URLS?: string;

  /** Comma-separated /metrics URLs of read services (cache-client counters), scraped for the hit rate per key family. */
  @IsOptional()
  @Matches(URL_LIST, { message: 'CACHE_METRICS_URLS must be a comma-separated list of http(s) URLs' })
  CACHE_METRICS_URLS?: string;

  /** Where the dashboard, /lag, /metrics and health listen: loopback by default, 0.0.0.0 in a container. */
  @IsString()
  @IsNotEmpty()
  HTTP_HOST = '127.0.0.1';

  @IsInt()
  @Min(0)
  @Max(65_535)
  HTTP_PORT = 3003;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';
}

/** `input` holds env strings or typed values; unknown keys are ignored, empty strings mean "unset". */
export function loadLagMonitorConfig(input: Record<string, unknown> = process.env): LagMonitorConfig {
  return readConfig(LagMonitorConfig, input, (config) => kafkaSecurityProblems(config));
}

/** What LagModule.forRoot / startLagServer take, from a validated config. */
export function lagModuleOptions(config: LagMonitorConfig): LagModuleOptions {
  return {
    brokers: config.KAFKA_BROKERS.split(','),
    clientId: config.KAFKA_CLIENT_ID,
    kafka: kafkaSecurityOptions(config),
    groupId: config.LAG_GROUP_ID,
    topics: config.LAG_TOPICS.split(','),
    intervalMs: config.LAG_INTERVAL_MS,
    invalidatorMetricsUrls: config.INVALIDATOR_METRICS_URLS ? config.INVALIDATOR_METRICS_URLS.split(',') : [],
    cacheMetricsUrls: config.CACHE_METRICS_URLS ? config.CACHE_METRICS_URLS.split(',') : [],
    title: `Cache invalidation · ${config.LAG_GROUP_ID}`,
  };
}
