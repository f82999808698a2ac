// The registry's one typed config. Property names are the env variable names (docs/operations.md, "Registry"), so
// every problem names the variable to fix. Validated once at start; a bad value stops startup.
import 'reflect-metadata';
import { IsBoolean, IsIn, IsInt, IsNotEmpty, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { ConfigError, KAFKA_SECURITY_KEYS_WITHOUT_DEFAULT, KafkaSecurityConfig, kafkaSecurityProblems, readConfig } from '@app/config';
import { DEFAULT_TOPICS } from '@app/contracts';
import { DEFAULT_REGISTRY_LIMITS, MAX_FANOUT_CAP, parseHostAllowList, UrlAllowLists } from '@app/registry-core';
import { parseTeamTokens } from '../auth/team-tokens';

const HOST_PORT_LIST = /^[^,\s:]+:\d{1,5}(,[^,\s:]+:\d{1,5})*$/;
export const DEFAULT_AUDIT_TOPIC = `${DEFAULT_TOPICS.mappings}.audit`;

export { ConfigError };

/** KAFKA_SSL and KAFKA_SASL_* come from KafkaSecurityConfig (@app/config), as for the invalidator. */
export class RegistryConfig extends KafkaSecurityConfig {
  /** Variables without a default (readConfig cannot see them on a fresh instance). */
  static readonly KEYS_WITHOUT_DEFAULT = ['KAFKA_BROKERS', ...KAFKA_SECURITY_KEYS_WITHOUT_DEFAULT, 'REGISTRY_TOKENS', 'REGISTRY_SEED_FILE'];

  /** Old names still read for one release, with a warning (docs/operations.md, "Renamed settings"). */
  static readonly RENAMED = { REGISTRY_HOST: 'HTTP_HOST', REGISTRY_PORT: 'HTTP_PORT', REGISTRY_FANOUT_CAP: 'FANOUT_CAP' };

  @Matches(HOST_PORT_LIST, { message: 'KAFKA_BROKERS must be a comma-separated list of host:port' })
  KAFKA_BROKERS!: string;

  @IsString()
  @IsNotEmpty()
  KAFKA_CLIENT_ID = 'mapping-registry';

  /** The compacted topic holding the mappings (same variable name as the invalidator's). */
  @IsString()
  @IsNotEmpty()
  KAFKA_MAPPINGS_TOPIC: string = DEFAULT_TOPICS.mappings;

  /** Audit entries, one per change, kept forever (retention.ms=-1 when the registry creates it). */
  @IsString()
  @IsNotEmpty()
  KAFKA_AUDIT_TOPIC = DEFAULT_AUDIT_TOPIC;

  /** Create the mappings and audit topics when missing. */
  @IsBoolean()
  REGISTRY_CREATE_TOPICS = true;

  /** "token=team,token2=team2:alice,adminToken=*" (":name" is optional and recorded in the audit). */
  @IsString()
  @IsNotEmpty({ message: 'REGISTRY_TOKENS must list at least one token=team pair' })
  REGISTRY_TOKENS!: string;

  /** Where the API and health listen (the same names as every app): loopback by default, 0.0.0.0 in a container. */
  @IsString()
  @IsNotEmpty()
  HTTP_HOST = '127.0.0.1';

  @IsInt()
  @Min(0)
  @Max(65_535)
  HTTP_PORT = 3002;

  /**
   * Most keys + tags + namespaces + purge URLs one event may resolve to. The invalidator reads the
   * same variable with the same default (libs/registry-core DEFAULT_REGISTRY_LIMITS): one value
   * in the environment of both apps keeps them in step.
   */
  @IsInt()
  @Min(1)
  @Max(MAX_FANOUT_CAP)
  FANOUT_CAP = DEFAULT_REGISTRY_LIMITS.fanoutCap;

  /** Tombstone TTL of rules that set none; use the invalidator's TOMBSTONE_TTL_SECONDS. */
  @IsInt()
  @Min(1)
  REGISTRY_DEFAULT_TOMBSTONE_TTL_SECONDS = 86_400;

  /** A YAML mapping file applied at start when the mappings topic is empty (first boot). */
  @IsOptional()
  @IsString()
  REGISTRY_SEED_FILE?: string;

  /** Audit entries kept in memory for GET /audit (the topic keeps them all). */
  @IsInt()
  @Min(10)
  @Max(1_000_000)
  REGISTRY_AUDIT_MEMORY = 10_000;

  /** Startup fails (and /health/live turns 503) when the topics cannot be read to their end in time. */
  @IsInt()
  @Min(1_000)
  REGISTRY_START_TIMEOUT_MS = 60_000;

  /** Largest request body read (bytes); a larger one is 413 PAYLOAD_TOO_LARGE. 1 MiB holds thousands of mappings. */
  @IsInt()
  @Min(1_024)
  @Max(67_108_864)
  REGISTRY_MAX_BODY_BYTES = 1_048_576;

  /**
   * Safe default: while no keyspace is declared, team (non-admin) tokens may not write mappings
   * (409 KEYSPACES_REQUIRED); admin tokens declare keyspaces (and may write mappings) to
   * bootstrap. false: the old bootstrap rule (no keyspace declared = any team may write any key).
   */
  @IsBoolean()
  KEYSPACES_REQUIRED = true;

  /**
   * Hosts, IPs or CIDRs (comma separated) a mapping's loader URLs may name although they are
   * loopback, private, link-local or otherwise internal (refused by default). Set the same value
   * as the invalidators' LOADER_ALLOWED_HOSTS: the registry refuses at write time what they refuse per event.
   */
  @IsString()
  LOADER_ALLOWED_HOSTS = '';

  /** The same for purge URLs (mappings' purge.urls); set the same value as the invalidators' PURGE_ALLOWED_HOSTS. */
  @IsString()
  PURGE_ALLOWED_HOSTS = '';

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';
}

/** LOADER_ALLOWED_HOSTS and PURGE_ALLOWED_HOSTS, parsed (throws naming the variable). */
export function registryAllowedHosts(config: Pick<RegistryConfig, 'LOADER_ALLOWED_HOSTS' | 'PURGE_ALLOWED_HOSTS'>): UrlAllowLists {
  return {
    loader: parseHostAllowList(config.LOADER_ALLOWED_HOSTS, 'LOADER_ALLOWED_HOSTS'),
    purge: parseHostAllowList(config.PURGE_ALLOWED_HOSTS, 'PURGE_ALLOWED_HOSTS'),
  };
}

/** Typed values (tests, dev scripts) or env strings; KAFKA_BROKERS and REGISTRY_TOKENS are required. */
export type RegistryConfigInput = Partial<RegistryConfig> & Pick<RegistryConfig, 'KAFKA_BROKERS' | 'REGISTRY_TOKENS'>;

/** `input` holds env strings or typed values; unknown keys are ignored, empty strings mean "unset". */
export function loadRegistryConfig(input: Record<string, unknown> = process.env): RegistryConfig {
  return readConfig(RegistryConfig, input, (config) => {
    const problems = kafkaSecurityProblems(config);
    try {
      registryAllowedHosts(config);
    } catch (error) {
      problems.push((error as Error).message); // names the variable and the bad entry
    }
    if (typeof config.REGISTRY_TOKENS !== 'string' || !config.REGISTRY_TOKENS) return problems;
    try {
      parseTeamTokens(config.REGISTRY_TOKENS);
    } catch (error) {
      problems.push(`REGISTRY_TOKENS: ${(error as Error).message}`);
    }
    return problems;
  });
}
