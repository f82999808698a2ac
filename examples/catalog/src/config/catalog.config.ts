// The catalog's one typed config. Property names are the env variable names (README table).
import { IsBoolean, IsIn, IsInt, IsNotEmpty, IsString, Matches, Max, Min } from 'class-validator';
import { DEFAULT_TOPICS } from '@app/contracts';
import { readConfig } from '@app/config';
import { KAFKA_COMPRESSION_NAMES, KafkaCompression } from '@app/kafka';

const HOST_PORT_LIST = /^[^,\s:]+:\d{1,5}(,[^,\s:]+:\d{1,5})*$/;

export class CatalogConfig {
  static readonly KEYS_WITHOUT_DEFAULT = ['KAFKA_BROKERS'];

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

  /** The source of truth: an append-only JSON-lines journal (created when missing). */
  @IsString()
  @IsNotEmpty()
  CATALOG_DATA_FILE = '.stack/data/example-catalog.jsonl';

  /** fdatasync after every append: survives power loss, not only a process crash. */
  @IsBoolean()
  CATALOG_FSYNC = false;

  /** Rewrite the journal as a snapshot after this many appends (and at start). */
  @IsInt()
  @Min(100)
  CATALOG_COMPACT_EVERY = 10_000;

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

  /** On shutdown, how long to wait for Kafka to acknowledge events in flight (each step); unsent ones stay in the journal. */
  @IsInt()
  @Min(0)
  @Max(120_000)
  CATALOG_SHUTDOWN_TIMEOUT_MS = 5_000;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';
}

/** Typed values (tests, dev scripts) or env strings; KAFKA_BROKERS is the only required one. */
export type CatalogConfigInput = Partial<CatalogConfig> & Pick<CatalogConfig, 'KAFKA_BROKERS'>;

export function loadCatalogConfig(env: Record<string, string | undefined> = process.env): CatalogConfig {
  return readConfig(CatalogConfig, env);
}

export function resolveCatalogConfig(input: CatalogConfigInput | CatalogConfig): CatalogConfig {
  return readConfig(CatalogConfig, { ...input });
}
