// One typed config, read from the environment and validated at start. A bad value stops
// startup with a message naming the variable (docs/operations.md, "Configuration").
import 'reflect-metadata';
import { IsBoolean, IsIn, IsInt, IsNotEmpty, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import {
  ConfigError,
  isSet,
  KAFKA_SECURITY_KEYS_WITHOUT_DEFAULT,
  KafkaSecurityConfig,
  kafkaSecurityProblems,
  readConfig,
} from '@app/config';
import { DEFAULT_TOPICS } from '@app/contracts';
import { KAFKA_CLIENT_NAMES, KafkaClientName } from '@app/kafka';
import { busSigner } from '@app/cache-protocol/bus';
import { DEFAULT_REGISTRY_LIMITS, MAX_FANOUT_CAP } from '@app/registry-core/limits';
import { HostAllowList, parseHostAllowList } from '@app/registry-core/url/target-url';
import { CdcSource, CdcSourceField, cdcRenamesFromPairs, cdcSourceViolations } from '@app/registry-core/source/cdc-source';
import { purgeAdapters, PurgeTargetsConfig } from '../sinks/purge';

const HOST_PORT_LIST = /^[^,\s:]+:\d{1,5}(,[^,\s:]+:\d{1,5})*$/;
// The syntax of the CDC_* strings; the names in them are checked by cdcSourceViolations, the rules source declarations have.
const NAME = '[A-Za-z_][A-Za-z0-9_]{0,62}';
const COLUMN = new RegExp(`^${NAME}$`);
const COLUMN_LIST = new RegExp(`^${NAME}(,${NAME})*$`);
const RENAME_LIST = new RegExp(`^${NAME}:${NAME}(,${NAME}:${NAME})*$`);

export { ConfigError };

/** KAFKA_SSL and KAFKA_SASL_* come from KafkaSecurityConfig (@app/config), shared with the registry and the lag monitor. */
export class InvalidatorConfig extends KafkaSecurityConfig {
  /** Variables without a default (readConfig cannot see them on a fresh instance). */
  static readonly KEYS_WITHOUT_DEFAULT = [
    'KAFKA_BROKERS',
    ...KAFKA_SECURITY_KEYS_WITHOUT_DEFAULT,
    'REDIS_URL',
    'REDIS_CLUSTER_NODES',
    'REDIS_USERNAME',
    'REDIS_PASSWORD',
    'MAPPINGS_FILE',
    'PURGE_FASTLY_TOKEN',
    'PURGE_CLOUDFLARE_TOKEN',
    'PURGE_SOFT',
    'BUS_SIGNING_KEY',
    'CDC_ENTITY_TYPE',
    'CDC_ID_COLUMNS',
    'CDC_VERSION_COLUMN',
    'CDC_TENANT_COLUMN',
    'CDC_FIELDS',
    'CDC_NUMERIC_COLUMNS',
    'CDC_EXCLUDE_COLUMNS',
  ];

  @Matches(HOST_PORT_LIST, { message: 'KAFKA_BROKERS must be a comma-separated list of host:port' })
  KAFKA_BROKERS!: string;

  @IsString()
  @IsNotEmpty()
  KAFKA_CLIENT_ID = 'cache-invalidator';

  /**
   * The library behind the consumer and the dead-letter producer (admin calls and the mapping
   * follower stay on kafkajs). platformatic by default: measured faster at high rates, and
   * maintained (docs/benchmark.md, "Choosing the default client"); kafkajs stays supported.
   */
  @IsIn([...KAFKA_CLIENT_NAMES], { message: `KAFKA_CLIENT must be one of ${KAFKA_CLIENT_NAMES.join(', ')}` })
  KAFKA_CLIENT: KafkaClientName = 'platformatic';

  @IsString()
  @IsNotEmpty()
  KAFKA_GROUP_ID = 'cache-invalidator';

  @IsString()
  @IsNotEmpty()
  KAFKA_TOPIC: string = DEFAULT_TOPICS.entityUpdated;

  @IsString()
  @IsNotEmpty()
  KAFKA_DLQ_TOPIC: string = DEFAULT_TOPICS.deadLetter;

  @IsString()
  @IsNotEmpty()
  KAFKA_MAPPINGS_TOPIC: string = DEFAULT_TOPICS.mappings;

  @IsOptional()
  @Matches(/^rediss?:\/\/.+/, { message: 'REDIS_URL must look like redis://host:port or rediss://host:port' })
  REDIS_URL?: string;

  @IsOptional()
  @Matches(HOST_PORT_LIST, { message: 'REDIS_CLUSTER_NODES must be a comma-separated list of host:port' })
  REDIS_CLUSTER_NODES?: string;

  @IsBoolean()
  REDIS_TLS = false;

  @IsOptional()
  @IsString()
  REDIS_USERNAME?: string;

  @IsOptional()
  @IsString()
  REDIS_PASSWORD?: string;

  @IsIn(['kafka', 'file'])
  MAPPINGS_SOURCE: 'kafka' | 'file' = 'kafka';

  /** MAPPINGS_SOURCE=kafka: the mapping follower not fetching for longer than this = not ready, consumption held (frozen mapping set). */
  @IsInt()
  @Min(1_000)
  MAPPINGS_STALL_READY_MS = 30_000;

  /** MAPPINGS_SOURCE=kafka: the mapping follower not fetching for longer than this = not live (restart me). */
  @IsInt()
  @Min(1_000)
  MAPPINGS_STALL_LIVE_MS = 120_000;

  @IsOptional()
  @IsString()
  MAPPINGS_FILE?: string;

  /**
   * Safe default: no team mapping is applied while no keyspace (key prefix / entity type
   * ownership) is declared. MAPPINGS_SOURCE=kafka: events matching a mapping are dead-lettered
   * KEYSPACES_REQUIRED until an admin declares keyspaces in the registry; MAPPINGS_SOURCE=file:
   * a file with mappings but no `keyspaces:` stops startup. false: the old bootstrap rule (no
   * keyspace declared = any team may write any key).
   */
  @IsBoolean()
  KEYSPACES_REQUIRED = true;

  @IsBoolean()
  STRICT_ENTITY_TYPES = false;

  /**
   * What KAFKA_TOPIC carries: `entity-updated` (events from publishers, an outbox relay or
   * Debezium's outbox router) or `debezium` (Debezium row-change events of one table). Which
   * entity type the rows are and which columns give id, tenant and version comes from the CDC_*
   * settings when CDC_ENTITY_TYPE is set (they win), else from the topic's source declaration in
   * the registry (MAPPINGS_SOURCE=kafka: followed live; file: the file's `sources:`).
   * A CDC table runs as its own invalidator deployment (own group, own lag) on its own topic.
   */
  @IsIn(['entity-updated', 'debezium'], { message: 'EVENT_FORMAT must be one of entity-updated, debezium' })
  EVENT_FORMAT: 'entity-updated' | 'debezium' = 'entity-updated';

  /** EVENT_FORMAT=debezium: the entity type of every row (selects the mappings). Set: the CDC_* settings declare the table; unset: the registry does. */
  @IsOptional()
  @Matches(/^[A-Za-z0-9_.\-@]{1,64}$/, { message: 'CDC_ENTITY_TYPE must match ^[A-Za-z0-9_.\\-@]{1,64}$ (an entity type)' })
  CDC_ENTITY_TYPE?: string;

  /** Primary-key column(s) giving entityId, comma-separated (joined with "." when several). Unset: `id`. */
  @IsOptional()
  @Matches(COLUMN_LIST, { message: 'CDC_ID_COLUMNS must be a comma-separated list of column names ([A-Za-z_][A-Za-z0-9_]*)' })
  CDC_ID_COLUMNS?: string;

  /** A column whose integer grows with every change of the row; unset: the change's WAL position (LSN) is the version. */
  @IsOptional()
  @Matches(COLUMN, { message: 'CDC_VERSION_COLUMN must be a column name ([A-Za-z_][A-Za-z0-9_]*)' })
  CDC_VERSION_COLUMN?: string;

  @IsOptional()
  @Matches(COLUMN, { message: 'CDC_TENANT_COLUMN must be a column name ([A-Za-z_][A-Za-z0-9_]*)' })
  CDC_TENANT_COLUMN?: string;

  /** Column renames in before/after, `column:field,...` (e.g. category_id:categoryId), so mapping templates read like the outbox event's. */
  @IsOptional()
  @Matches(RENAME_LIST, {
    message: 'CDC_FIELDS must be a comma-separated list of column:field pairs (names [A-Za-z_][A-Za-z0-9_]*)',
  })
  CDC_FIELDS?: string;

  /** Columns that arrive as decimal strings (Debezium decimal.handling.mode=string) and are numbers in the event. */
  @IsOptional()
  @Matches(COLUMN_LIST, { message: 'CDC_NUMERIC_COLUMNS must be a comma-separated list of column names' })
  CDC_NUMERIC_COLUMNS?: string;

  /** Columns never copied into the event (a warm value written from `after` must not carry them). */
  @IsOptional()
  @Matches(COLUMN_LIST, { message: 'CDC_EXCLUDE_COLUMNS must be a comma-separated list of column names' })
  CDC_EXCLUDE_COLUMNS?: string;

  @IsInt()
  @Min(256)
  @Max(10_485_760)
  MAX_EVENT_BYTES = 262_144;

  /** Messages per apply + commit step. Big chunks coalesce more (a hot tag is invalidated once per chunk, not once per event). */
  @IsInt()
  @Min(1)
  @Max(100_000)
  CHUNK_SIZE = 10_000;

  /**
   * Most bytes (message keys + values) per apply + commit step, whatever CHUNK_SIZE says: the
   * decoded events and Redis commands of a chunk grow with its bytes, so this bounds the live heap
   * per partition in flight. A single message larger than this is a chunk of its own.
   */
  @IsInt()
  @Min(1024)
  @Max(268_435_456)
  CHUNK_MAX_BYTES = 262_144;

  @IsInt()
  @Min(1)
  @Max(64)
  PARTITIONS_CONSUMED_CONCURRENTLY = 3;

  /** Keys per EVALSHA of the batch script: more amortises the client's per-command cost, fewer keeps each script call short. */
  @IsInt()
  @Min(1)
  @Max(1_000)
  REDIS_KEYS_PER_SCRIPT_CALL = 64;

  /** Replicas that must acknowledge a chunk's effects (Redis WAIT) before its offsets are committed; 0 = off. */
  @IsInt()
  @Min(0)
  @Max(16)
  REDIS_WAIT_REPLICAS = 0;

  /** How long one WAIT may block; too few acks by then = a failed apply, retried with backoff. Below the client's 10 s command timeout. */
  @IsInt()
  @Min(1)
  @Max(9_000)
  REDIS_WAIT_TIMEOUT_MS = 1_000;

  @IsInt()
  @Min(1024)
  @Max(268_435_456)
  MAX_BYTES_PER_PARTITION = 524_288;

  /**
   * Most bytes one fetch response may carry over all its partitions (Kafka's fetch.max.bytes):
   * with MAX_BYTES_PER_PARTITION it bounds the raw records held between fetch and commit.
   */
  @IsInt()
  @Min(1024)
  @Max(268_435_456)
  FETCH_MAX_BYTES = 3_145_728;

  @IsInt()
  @Min(6_000)
  @Max(300_000)
  SESSION_TIMEOUT_MS = 30_000;

  /**
   * How long one Kafka request may wait for its answer (both clients). A broker that does not
   * answer within it (frozen, overloaded, a long GC pause) is retried, never fatal.
   */
  @IsInt()
  @Min(1_000)
  @Max(300_000)
  KAFKA_REQUEST_TIMEOUT_MS = 30_000;

  @IsInt()
  @Min(1)
  TOMBSTONE_TTL_SECONDS = 86_400;

  /**
   * Most keys + tags + namespaces + purge URLs one event may resolve to (an event over it is
   * dead-lettered). The registry reads the same variable with the same default (libs/registry-core
   * DEFAULT_REGISTRY_LIMITS): one value in the environment of both apps keeps them in step.
   */
  @IsInt()
  @Min(1)
  @Max(MAX_FANOUT_CAP)
  FANOUT_CAP = DEFAULT_REGISTRY_LIMITS.fanoutCap;

  /** The DLQ topic's max.message.bytes when it cannot be read at start (DescribeConfigs not allowed); dead letters are sized to it. */
  @IsInt()
  @Min(1024)
  DLQ_MAX_MESSAGE_BYTES = 1_048_588;

  @IsInt()
  @Min(1)
  RETRY_INITIAL_MS = 100;

  @IsInt()
  @Min(1)
  RETRY_MAX_MS = 5_000;

  @IsInt()
  @Min(1)
  DEDUP_MEMORY = 200_000;

  @IsInt()
  @Min(0)
  @Max(65_535)
  HTTP_PORT = 3001;

  /** Where health and metrics listen: loopback by default, 0.0.0.0 in a container. */
  @IsString()
  @IsNotEmpty()
  HTTP_HOST = '127.0.0.1';

  @IsInt()
  @Min(1_000)
  SHUTDOWN_TIMEOUT_MS = 15_000;

  /** kafkajs gave up on the consumer (non-retriable error): true = log, release, exit 70 (the orchestrator restarts the container); false = stay up with /health/live 503. */
  @IsBoolean()
  EXIT_ON_CONSUMER_CRASH = true;

  // The other sinks (docs/operations.md "The other sinks"): loader warms and HTTP cache purges.

  /** Loader warms (warmFrom.loaderUrl): per fetch attempt. */
  @IsInt()
  @Min(1)
  @Max(60_000)
  LOADER_TIMEOUT_MS = 2_000;

  /** Retries of 5xx/429/network errors (4xx: none). */
  @IsInt()
  @Min(0)
  @Max(10)
  LOADER_RETRIES = 2;

  /** First backoff between retries (doubles). */
  @IsInt()
  @Min(1)
  @Max(60_000)
  LOADER_BACKOFF_MS = 100;

  @IsInt()
  @Min(1)
  @Max(1_000)
  LOADER_CONCURRENCY_PER_MAPPING = 8;

  /** Pending warms in total; more are dropped (outcome dropped: the keys stay invalidated). */
  @IsInt()
  @Min(1)
  LOADER_MAX_PENDING = 10_000;

  /**
   * Pending warms of one team (the mapping's owner; without one, the loader URL's host); more are
   * dropped. Below LOADER_MAX_PENDING, so one slow team fills its own share and never the others'.
   * 0 (the default): a tenth of LOADER_MAX_PENDING (at least 1).
   */
  @IsInt()
  @Min(0)
  LOADER_MAX_PENDING_PER_TEAM = 0;

  /** Largest loader answer read; a larger Content-Length is refused, a longer body is cut (outcome too-large). */
  @IsInt()
  @Min(1_024)
  @Max(67_108_864)
  LOADER_MAX_BODY_BYTES = 1_048_576;

  /** Consecutive failures that open a loader host's circuit. */
  @IsInt()
  @Min(1)
  LOADER_BREAKER_FAILURES = 5;

  @IsInt()
  @Min(1)
  LOADER_BREAKER_OPEN_MS = 10_000;

  /**
   * Hosts, IPs or CIDRs (comma separated) a loader URL may reach although they are loopback,
   * private, link-local or otherwise internal (refused by default: a team's loader URL must not
   * reach the operator's network). Checked on the URL and on every address its host resolves to.
   */
  @IsString()
  LOADER_ALLOWED_HOSTS = '';

  /** Comma separated: varnish:http://host:port, fastly:<serviceId>[@apiUrl], cloudflare:<zoneId>[@apiUrl]; empty = no purges. */
  @IsString()
  PURGE_TARGETS = '';

  @IsOptional()
  @IsString()
  PURGE_FASTLY_TOKEN?: string;

  @IsOptional()
  @IsString()
  PURGE_CLOUDFLARE_TOKEN?: string;

  /** Soft purge (mark stale) instead of removing; unset = fastly soft, varnish hard. */
  @IsOptional()
  @IsIn(['true', 'false'], { message: 'PURGE_SOFT must be true or false' })
  PURGE_SOFT?: 'true' | 'false';

  /** Most time one chunk's purge may hold the partition before its events are dead-lettered PURGE_FAILED. */
  @IsInt()
  @Min(1)
  @Max(120_000)
  PURGE_DEADLINE_MS = 5_000;

  @IsInt()
  @Min(1)
  @Max(60_000)
  PURGE_TIMEOUT_MS = 2_000;

  @IsInt()
  @Min(1)
  @Max(60_000)
  PURGE_BACKOFF_MS = 100;

  /** Chunks in a row in which one team's purges on a target still failed at PURGE_DEADLINE_MS before that team's circuit opens (its items then fail at once, PURGE_FAILED). */
  @IsInt()
  @Min(1)
  @Max(1_000)
  PURGE_BREAKER_FAILURES = 3;

  /** How long an open team circuit stays open before one trial chunk. */
  @IsInt()
  @Min(1)
  @Max(3_600_000)
  PURGE_BREAKER_OPEN_MS = 30_000;

  /** The same as LOADER_ALLOWED_HOSTS for the hosts of purge URLs (mappings' purge.urls). */
  @IsString()
  PURGE_ALLOWED_HOSTS = '';

  /** Announce applied changes on the invalidation bus (a Redis Stream read by cache clients with L1). */
  @IsBoolean()
  BUS_ENABLED = true;

  /** The bus stream key (cache clients' bus.streamKey). */
  @IsString()
  BUS_STREAM_KEY = '~bus{cache}';

  /** Approximate length the stream is trimmed to (XADD MAXLEN ~); a reader that falls further behind drops its L1. */
  @IsInt()
  @Min(100)
  BUS_MAXLEN = 10_000;

  /** Heartbeat interval; keep it well below the readers' l1.maxStalenessMs (they stop serving L1 when heartbeats stop). */
  @IsInt()
  @Min(50)
  @Max(60_000)
  BUS_HEARTBEAT_MS = 1_000;

  /**
   * Ed25519 private key (PEM, or base64 PKCS#8 DER) signing heartbeats and byes; readers given the
   * public key (cache client bus.verifyKey) ignore unsigned ones. Unset: nothing is signed.
   */
  @IsOptional()
  @IsString()
  BUS_SIGNING_KEY?: string;

  /** An announce slower than this counts as lost (readers get a reset: they drop their L1). */
  @IsInt()
  @Min(10)
  @Max(10_000)
  BUS_TIMEOUT_MS = 500;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';
}

/** LOADER_ALLOWED_HOSTS and PURGE_ALLOWED_HOSTS, parsed (throws naming the variable). */
export function allowedHosts(config: Pick<InvalidatorConfig, 'LOADER_ALLOWED_HOSTS' | 'PURGE_ALLOWED_HOSTS'>): {
  loader: HostAllowList;
  purge: HostAllowList;
} {
  return {
    loader: parseHostAllowList(config.LOADER_ALLOWED_HOSTS, 'LOADER_ALLOWED_HOSTS'),
    purge: parseHostAllowList(config.PURGE_ALLOWED_HOSTS, 'PURGE_ALLOWED_HOSTS'),
  };
}

/** LOADER_MAX_PENDING_PER_TEAM, or (0) its default: a tenth of LOADER_MAX_PENDING (at least 1). */
export function loaderMaxPendingPerTeam(config: Pick<InvalidatorConfig, 'LOADER_MAX_PENDING' | 'LOADER_MAX_PENDING_PER_TEAM'>): number {
  return config.LOADER_MAX_PENDING_PER_TEAM > 0
    ? config.LOADER_MAX_PENDING_PER_TEAM
    : Math.max(1, Math.floor(config.LOADER_MAX_PENDING / 10));
}

/** PURGE_* as the purge sink's target parser takes them. */
export function purgeTargetsConfig(config: InvalidatorConfig): PurgeTargetsConfig {
  return {
    targets: config.PURGE_TARGETS,
    fastlyToken: config.PURGE_FASTLY_TOKEN,
    cloudflareToken: config.PURGE_CLOUDFLARE_TOKEN,
    softPurge: config.PURGE_SOFT === undefined ? undefined : config.PURGE_SOFT === 'true',
  };
}

/** The CDC_* setting of each field of a source (messages of the shared checks name the variable). */
const CDC_VARIABLE: Record<CdcSourceField, keyof InvalidatorConfig> = {
  entityType: 'CDC_ENTITY_TYPE',
  idColumns: 'CDC_ID_COLUMNS',
  versionColumn: 'CDC_VERSION_COLUMN',
  tenantColumn: 'CDC_TENANT_COLUMN',
  fields: 'CDC_FIELDS',
  numericColumns: 'CDC_NUMERIC_COLUMNS',
  excludeColumns: 'CDC_EXCLUDE_COLUMNS',
};
const CDC_KEYS = Object.values(CDC_VARIABLE);

/**
 * Where an EVENT_FORMAT=debezium deployment learns what its topic's rows are: `env` (the CDC_*
 * settings, CDC_ENTITY_TYPE set: they win, the registry's declaration of the topic is ignored) or
 * `registry` (the topic's source declaration, per record). Undefined for entity.updated.
 */
export function cdcSourceMode(config: Pick<InvalidatorConfig, 'EVENT_FORMAT' | 'CDC_ENTITY_TYPE'>): 'env' | 'registry' | undefined {
  if (config.EVENT_FORMAT !== 'debezium') return undefined;
  return config.CDC_ENTITY_TYPE !== undefined ? 'env' : 'registry';
}

function cdcSourceProblems(config: InvalidatorConfig): string[] {
  const stray = CDC_KEYS.filter((k) => config[k] !== undefined);
  if (config.EVENT_FORMAT !== 'debezium') {
    // A CDC setting without EVENT_FORMAT=debezium is a deployment mistake: the rows would be read as entity.updated.
    return stray.length > 0 ? [`${stray.join(', ')} set but EVENT_FORMAT is not debezium`] : [];
  }
  if (cdcSourceMode(config) === 'registry') {
    // Half a declaration in the environment: neither the settings nor the registry would be what the operator meant.
    return stray.map(
      (k) =>
        `${k} set without CDC_ENTITY_TYPE: a table is declared either by the CDC_* settings (set CDC_ENTITY_TYPE too; they then win over the registry) or by its source declaration in the registry (unset ${k})`,
    );
  }
  try {
    cdcSource(config);
    return [];
  } catch (error) {
    return (error as Error).message.split('\n');
  }
}

const list = (v: string | undefined) => (v === undefined ? [] : v.split(','));

/** The CDC source the settings declare (EVENT_FORMAT=debezium with CDC_ENTITY_TYPE), or undefined. Throws naming the variables. */
export function cdcSource(config: InvalidatorConfig): CdcSource | undefined {
  if (cdcSourceMode(config) !== 'env') return undefined;
  const pairs = list(config.CDC_FIELDS).map((pair) => pair.split(':') as [string, string]);
  const source: CdcSource = {
    entityType: config.CDC_ENTITY_TYPE!,
    idColumns: list(config.CDC_ID_COLUMNS ?? 'id'),
    versionColumn: config.CDC_VERSION_COLUMN,
    tenantColumn: config.CDC_TENANT_COLUMN,
    fields: cdcRenamesFromPairs(pairs, 'CDC_FIELDS'),
    numericColumns: list(config.CDC_NUMERIC_COLUMNS),
    excludeColumns: list(config.CDC_EXCLUDE_COLUMNS),
  };
  // The rules a source declaration in the registry has (reserved names, renames, list sizes), naming the variable.
  const violations = cdcSourceViolations(source, (field) => CDC_VARIABLE[field]);
  if (violations.length > 0) throw new Error([...new Set(violations.map((v) => v.message))].join('\n'));
  return source;
}

export function loadInvalidatorConfig(env: NodeJS.ProcessEnv = process.env): InvalidatorConfig {
  return readConfig(InvalidatorConfig, env, (config) => {
    const problems: string[] = [];
    if (!config.REDIS_URL && !config.REDIS_CLUSTER_NODES) problems.push('REDIS_URL or REDIS_CLUSTER_NODES must be set');
    if (config.REDIS_URL && config.REDIS_CLUSTER_NODES) problems.push('set only one of REDIS_URL and REDIS_CLUSTER_NODES');
    if (config.MAPPINGS_SOURCE === 'file' && !config.MAPPINGS_FILE) problems.push('MAPPINGS_FILE must be set when MAPPINGS_SOURCE=file');
    problems.push(...cdcSourceProblems(config));
    problems.push(...kafkaSecurityProblems(config));
    if (config.BUS_SIGNING_KEY !== undefined) {
      try {
        busSigner(config.BUS_SIGNING_KEY, 'BUS_SIGNING_KEY');
      } catch (error) {
        problems.push((error as Error).message); // names BUS_SIGNING_KEY, never echoes the key
      }
    }
    if (config.RETRY_MAX_MS < config.RETRY_INITIAL_MS) problems.push('RETRY_MAX_MS must be >= RETRY_INITIAL_MS');
    if (config.FETCH_MAX_BYTES < config.MAX_BYTES_PER_PARTITION) {
      // Unset: it follows a larger MAX_BYTES_PER_PARTITION (a setting that worked before FETCH_MAX_BYTES existed still works).
      if (!isSet(env.FETCH_MAX_BYTES)) config.FETCH_MAX_BYTES = config.MAX_BYTES_PER_PARTITION;
      else problems.push('FETCH_MAX_BYTES must be >= MAX_BYTES_PER_PARTITION (one fetch holds at least one partition)');
    }
    if (config.MAPPINGS_STALL_LIVE_MS < config.MAPPINGS_STALL_READY_MS)
      problems.push('MAPPINGS_STALL_LIVE_MS must be >= MAPPINGS_STALL_READY_MS');
    if (config.LOADER_MAX_PENDING_PER_TEAM > 0 && config.LOADER_MAX_PENDING_PER_TEAM >= config.LOADER_MAX_PENDING) {
      problems.push("LOADER_MAX_PENDING_PER_TEAM must be below LOADER_MAX_PENDING (one team's share must leave room for the other teams)");
    }
    try {
      allowedHosts(config);
    } catch (error) {
      problems.push((error as Error).message);
    }
    try {
      purgeAdapters(purgeTargetsConfig(config));
    } catch (error) {
      problems.push((error as Error).message); // names PURGE_TARGETS (or the token it needs)
    }
    return problems;
  });
}
