// The storefront's one typed config. Property names are the env variable names (README table).
import { IsBoolean, IsIn, IsInt, IsNotEmpty, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { readConfig } from '@app/config';

const HOST_PORT_LIST = /^[^,\s:]+:\d{1,5}(,[^,\s:]+:\d{1,5})*$/;

/** Nest injection token of the resolved StorefrontConfig (the controller reads the HTTP caching policy from it). */
export const STOREFRONT_CONFIG = Symbol('STOREFRONT_CONFIG');

export class StorefrontConfig {
  static readonly KEYS_WITHOUT_DEFAULT = ['CATALOG_URL', 'REDIS_URL', 'REDIS_CLUSTER_NODES'];

  /** Old names still read for one release, with a warning. */
  static readonly RENAMED = { STOREFRONT_HOST: 'HTTP_HOST', STOREFRONT_PORT: 'HTTP_PORT' };

  /** Base URL of example-catalog, whose GET endpoints are the truth the loaders read. */
  @Matches(/^https?:\/\/[^\s/]+(\/.*)?$/, { message: 'CATALOG_URL must be an http(s) URL like http://127.0.0.1:3010' })
  CATALOG_URL!: string;

  @IsOptional()
  @Matches(/^rediss?:\/\/.+/, { message: 'REDIS_URL must look like redis://host:port' })
  REDIS_URL?: string;

  @IsOptional()
  @Matches(HOST_PORT_LIST, { message: 'REDIS_CLUSTER_NODES must be a comma-separated list of host:port' })
  REDIS_CLUSTER_NODES?: string;

  /** Where main.ts listens (the same names as every app). */
  @IsString()
  @IsNotEmpty()
  HTTP_HOST = '127.0.0.1';

  @IsInt()
  @Min(0)
  @Max(65_535)
  HTTP_PORT = 3020;

  /** How long a cached product lives when no invalidation removes it first. */
  @IsInt()
  @Min(1_000)
  PRODUCT_TTL_MS = 300_000;

  @IsInt()
  @Min(1_000)
  LISTING_TTL_MS = 60_000;

  /** 0 = never serve stale; above 0, a value older than its TTL minus this is served while one reader reloads it. */
  @IsInt()
  @Min(0)
  STALE_WHILE_REVALIDATE_MS = 0;

  /** A catalog call slower than this fails the read (and releases the lease for the next reader). */
  @IsInt()
  @Min(50)
  @Max(60_000)
  LOADER_TIMEOUT_MS = 2_000;

  /** HTTP caching of the pages (Cache-Control): how long browsers keep a page. */
  @IsInt()
  @Min(0)
  @Max(31_536_000)
  HTTP_MAX_AGE_SECONDS = 5;

  /** s-maxage: how long a shared cache (Varnish, a CDN) keeps a page; purges by surrogate key end it sooner. */
  @IsInt()
  @Min(0)
  @Max(31_536_000)
  HTTP_SHARED_MAX_AGE_SECONDS = 300;

  /** stale-while-revalidate: how long a cache may serve an expired page while it refetches it (Varnish: grace). */
  @IsInt()
  @Min(0)
  @Max(31_536_000)
  HTTP_STALE_WHILE_REVALIDATE_SECONDS = 30;

  /** In-process L1 in front of Redis, kept fresh by the invalidation bus. */
  @IsBoolean()
  L1_ENABLED = true;

  @IsInt()
  @Min(1)
  L1_MAX_ENTRIES = 10_000;

  /** An L1 entry is served at most this long after Redis or the bus (invalidator heartbeats) last confirmed it. */
  @IsInt()
  @Min(1)
  L1_MAX_STALENESS_MS = 2_000;

  /** The invalidator's BUS_STREAM_KEY. */
  @IsString()
  @IsNotEmpty()
  BUS_STREAM_KEY = '~bus{cache}';

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';
}

export type StorefrontConfigInput = Partial<StorefrontConfig> & Pick<StorefrontConfig, 'CATALOG_URL'>;

function oneRedis(config: StorefrontConfig): string[] {
  if (!config.REDIS_URL && !config.REDIS_CLUSTER_NODES)
    return ['REDIS_URL or REDIS_CLUSTER_NODES must be set (unless a Redis client is passed to createStorefrontApp)'];
  if (config.REDIS_URL && config.REDIS_CLUSTER_NODES) return ['set only one of REDIS_URL and REDIS_CLUSTER_NODES'];
  return [];
}

export function loadStorefrontConfig(env: Record<string, string | undefined> = process.env): StorefrontConfig {
  return readConfig(StorefrontConfig, env, oneRedis);
}

/** `redisGiven`: the caller brings its own client, so REDIS_URL/REDIS_CLUSTER_NODES are not needed. */
export function resolveStorefrontConfig(input: StorefrontConfigInput, redisGiven = false): StorefrontConfig {
  return readConfig(StorefrontConfig, { ...input }, redisGiven ? () => [] : oneRedis);
}
