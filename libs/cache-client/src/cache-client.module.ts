// NestJS wiring for CacheClient (the class works without Nest too).
import { DynamicModule, Inject, Injectable, Module, OnModuleDestroy } from '@nestjs/common';
import type Redis from 'ioredis';
import type { Cluster } from 'ioredis';
import { CacheClient } from './cache-client';
import { CacheClientOptions } from './options';

export interface CacheClientModuleOptions extends Omit<CacheClientOptions, 'closeRedisOnClose'> {
  /** A connection (yours: you close it) or a factory (the module's: closed on shutdown). */
  redis: Redis | Cluster | (() => Redis | Cluster);
  /** Register the module globally. Default false. */
  isGlobal?: boolean;
}

@Injectable()
class CacheClientShutdown implements OnModuleDestroy {
  constructor(@Inject(CacheClient) private readonly client: CacheClient) {}

  async onModuleDestroy(): Promise<void> {
    await this.client.close();
  }
}

@Module({})
export class CacheClientModule {
  static forRoot(options: CacheClientModuleOptions): DynamicModule {
    const { redis, isGlobal, ...clientOptions } = options;
    return {
      module: CacheClientModule,
      global: isGlobal ?? false,
      providers: [
        {
          provide: CacheClient,
          useFactory: () =>
            typeof redis === 'function'
              ? new CacheClient(redis(), { ...clientOptions, closeRedisOnClose: true })
              : new CacheClient(redis, clientOptions),
        },
        CacheClientShutdown,
      ],
      exports: [CacheClient],
    };
  }
}
