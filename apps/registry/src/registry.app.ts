// createRegistryApp: the whole registry as an INestApplication, initialised (store and audit
// start loading in the background) but not listening, so tests and the dev script choose where
// it listens. `await registryStarted(app)` waits until it is ready.
import 'reflect-metadata';
import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createLogger } from '@app/telemetry';
import { AppModule } from './app.module';
import { loadRegistryConfig, RegistryConfig, RegistryConfigInput } from './config/registry.config';
import { setupOpenApi } from './http/openapi';
import { RegistryErrorFilter, requestValidationPipe } from './http/registry-errors';
import { RegistryLifecycle } from './mappings/registry-lifecycle';

/** Throws ConfigError (naming the variable) for a bad config. `app.close()` stops the Kafka consumers. */
export async function createRegistryApp(input: RegistryConfigInput | RegistryConfig): Promise<INestApplication> {
  const config = loadRegistryConfig({ ...input });
  const logger = createLogger('registry', config.LOG_LEVEL);
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, logger), { logger: ['error', 'warn'] });
  app.useBodyParser('json', { limit: config.REGISTRY_MAX_BODY_BYTES });
  app.useBodyParser('urlencoded', { limit: config.REGISTRY_MAX_BODY_BYTES, extended: false });
  app.useGlobalPipes(requestValidationPipe());
  app.useGlobalFilters(new RegistryErrorFilter(logger, { maxBodyBytes: config.REGISTRY_MAX_BODY_BYTES }));
  setupOpenApi(app);
  await app.init();
  return app;
}

/** Resolves once the mapping set and the audit log are loaded; rejects if loading failed. */
export function registryStarted(app: INestApplication): Promise<void> {
  return app.get(RegistryLifecycle).whenStarted();
}
