// The catalog's one typed config. Property names are the env variable names (README table).
import { IsIn, IsInt, IsNotEmpty, IsString, Matches, Max, Min } from 'class-validator';
import { DEFAULT_TOPICS } from '@app/contracts';
import { readConfig } from '@app/config';
import { KAFKA_COMPRESSION_NAMES, KafkaCompression } from '@app/kafka';
import { redactDatabaseUrl } from './database-url';

const HOST_PORT_LIST = /^[^,\s:]+:\d{1,5}(,[^,\s:]+:\d{1,5})*$/;

export class CatalogConfig {
  static readonly KEYS_WITHOUT_DEFAULT = ['KAFKA_BROKERS', 'DATABASE_URL'];

  /** Old names still read for one release, with a warning. */
  static readonly RENAMED = { CATALOG_HOST: 'HTTP_HOST', CATALOG_PORT: 'HTTP_PORT' };

  @Matches(HOST_PORT_LIST, { message: 'KAFKA_BROKERS must be a comma-separated list of host:port' })
  KAFKA_BROKERS!: string;

  @IsString()
  @IsNotEmpty()
  KAFKA_TOPIC: string = DEFAULT_TOPICS.entityUpdated;

  @IsString()
  @IsNotEmpty()
  KAFKA_CLIENT_ID = 'example-catalog';

  /**
   * The source of truth: PostgreSQL (products + the outbox table, created at start when missing).
   * postgres://user[:password]@host[:port]/database; checked in catalogConfigProblems (the value
   * may hold a password, so the message shows it without).
   */
  DATABASE_URL!: string;

  /** Connections to PostgreSQL (requests and the outbox relay share them). */
  @IsInt()
  @Min(1)
  @Max(100)
  DATABASE_POOL_SIZE = 10;

  /**
   * How long the relay's claim on outbox rows keeps other catalogs' relays off them. Longer than a
   * publish can take; a crashed catalog's claimed rows are published by another one after it.
   */
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  OUTBOX_CLAIM_LEASE_MS = 30_000;

  /** Where main.ts listens (the same names as every app). */
  @IsString()
  @IsNotEmpty()
  HTTP_HOST = '127.0.0.1';

  @IsInt()
  @Min(0)
  @Max(65_535)
  HTTP_PORT = 3010;

  /** How often the outbox relay looks for unsent events when no write woke it. */
  @IsInt()
  @Min(10)
  @Max(60_000)
  OUTBOX_POLL_MS = 500;

  @IsInt()
  @Min(1)
  @Max(10_000)
  OUTBOX_BATCH_SIZE = 200;

  @IsInt()
  @Min(0)
  @Max(1_000)
  PUBLISHER_LINGER_MS = 0;

  /** Compression of the record batches the publisher sends (every consumer in the project reads all five). */
  @IsIn([...KAFKA_COMPRESSION_NAMES])
  KAFKA_COMPRESSION: KafkaCompression = 'none';

  /** On shutdown, how long to wait for Kafka to acknowledge events in flight (each step); unsent ones stay in the outbox table. */
  @IsInt()
  @Min(0)
  @Max(120_000)
  CATALOG_SHUTDOWN_TIMEOUT_MS = 5_000;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';
}

/** Typed values (tests, dev scripts) or env strings; KAFKA_BROKERS and DATABASE_URL are required. */
export type CatalogConfigInput = Partial<CatalogConfig> & Pick<CatalogConfig, 'KAFKA_BROKERS' | 'DATABASE_URL'>;

const DATABASE_URL_PATTERN = /^postgres(ql)?:\/\/([^\s/@]+@)?[^\s/@:]+(:\d{1,5})?\/[^\s/?#]+(\?\S*)?$/;

function catalogConfigProblems(config: CatalogConfig, input: Record<string, unknown>): string[] {
  const url = config.DATABASE_URL as unknown;
  if (url === undefined || url === '')
    return [
      'DATABASE_URL is required: the PostgreSQL database of the products and their outbox, postgres://user@host:port/database' +
        (input.CATALOG_DATA_FILE ? ' (CATALOG_DATA_FILE is no longer read: the JSON journal is gone)' : ''),
    ];
  const text = typeof url === 'string' ? url : JSON.stringify(url);
  if (typeof url !== 'string' || !DATABASE_URL_PATTERN.test(url))
    return [`DATABASE_URL must be postgres://[user[:password]@]host[:port]/database (got ${JSON.stringify(redactDatabaseUrl(text))})`];
  return [];
}

export function loadCatalogConfig(env: Record<string, string | undefined> = process.env): CatalogConfig {
  return readConfig(CatalogConfig, env, (c) => catalogConfigProblems(c, env));
}

export function resolveCatalogConfig(input: CatalogConfigInput | CatalogConfig): CatalogConfig {
  return readConfig(CatalogConfig, { ...input }, (c) => catalogConfigProblems(c, { ...input }));
}
