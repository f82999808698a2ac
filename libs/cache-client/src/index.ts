// libs/cache-client: the read side (getOrLoad with leases, stale-while-revalidate, stampede protection).
export * from './cache-client';
export * from './cache-client.module';
export * from './errors';
export * from './metrics';
export type { CacheClientOptions, GetOrLoadOptions, LoadResult } from './options';
export { jitteredTtl } from './timing';
