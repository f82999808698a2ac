// Wiring only: the cache client (on our Redis connection or the caller's) and the catalog client.
import { DynamicModule, Module } from '@nestjs/common';
import Redis, { Cluster } from 'ioredis';
import { CacheClient, CacheClientModule } from '@app/cache-client';
import type { Logger } from '@app/telemetry';
import { CatalogTruthClient } from './catalog-truth.client';
import { STOREFRONT_CONFIG, StorefrontConfig } from './config/storefront.config';
import { StorefrontController } from './http/storefront.controller';
import { StorefrontService } from './storefront.service';

export function connectRedis(config: StorefrontConfig): Redis | Cluster {
  if (config.REDIS_CLUSTER_NODES) {
    const nodes = config.REDIS_CLUSTER_NODES.split(',').map((hp) => ({ host: hp.split(':')[0], port: Number(hp.split(':')[1]) }));
    return new Cluster(nodes, { redisOptions: { maxRetriesPerRequest: 2 } });
  }
  return new Redis(config.REDIS_URL!, { maxRetriesPerRequest: 2 });
}

@Module({})
export class StorefrontModule {
  /** `redis`: the caller's connection (the caller closes it); absent: one is opened from the config and closed on shutdown. */
  static forRoot(config: StorefrontConfig, logger: Logger, redis?: Redis | Cluster): DynamicModule {
    return {
      module: StorefrontModule,
      imports: [
        CacheClientModule.forRoot({
          redis: redis ?? (() => connectRedis(config)),
          name: 'storefront',
          logger,
          ...(config.L1_ENABLED
            ? {
                l1: { maxEntries: config.L1_MAX_ENTRIES, maxStalenessMs: config.L1_MAX_STALENESS_MS },
                bus: { streamKey: config.BUS_STREAM_KEY },
              }
            : {}),
        }),
      ],
      controllers: [StorefrontController],
      providers: [
        { provide: STOREFRONT_CONFIG, useValue: config },
        { provide: CatalogTruthClient, useValue: new CatalogTruthClient(config.CATALOG_URL, config.LOADER_TIMEOUT_MS) },
        {
          provide: StorefrontService,
          useFactory: (cache: CacheClient, truth: CatalogTruthClient) => new StorefrontService(cache, truth, config),
          inject: [CacheClient, CatalogTruthClient],
        },
      ],
    };
  }
}
