// createStorefrontApp: the read service as an INestApplication, initialised but not listening.
import 'reflect-metadata';
import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type Redis from 'ioredis';
import type { Cluster } from 'ioredis';
import { createLogger } from '@app/telemetry';
import { resolveStorefrontConfig, StorefrontConfigInput } from './config/storefront.config';
import { StorefrontErrorFilter } from './http/http-support';
import { StorefrontModule } from './storefront.module';

export interface StorefrontDeps {
  /** Use this client instead of connecting from REDIS_URL/REDIS_CLUSTER_NODES; the caller closes it. */
  redis?: Redis | Cluster;
}

/** Throws ConfigError (naming the variable) for a bad config; `app.close()` closes the Redis connection it opened. */
export async function createStorefrontApp(input: StorefrontConfigInput, deps: StorefrontDeps = {}): Promise<INestApplication> {
  const config = resolveStorefrontConfig(input, deps.redis !== undefined);
  const logger = createLogger('example-storefront', config.LOG_LEVEL);
  const app = await NestFactory.create(StorefrontModule.forRoot(config, logger, deps.redis), { logger: ['error', 'warn'] });
  app.useGlobalFilters(new StorefrontErrorFilter(logger));
  const openApi = new DocumentBuilder()
    .setTitle('example-storefront')
    .setDescription('Read service: products and category listings read through the cache client (leases, version-guarded fills)')
    .setVersion('1')
    .build();
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, openApi));
  await app.init();
  return app;
}
