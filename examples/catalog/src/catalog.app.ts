// createCatalogApp: the whole write service as an INestApplication, initialised (store opened,
// outbox relay running) but not listening, so tests and the dev script decide where it listens.
import 'reflect-metadata';
import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { CatalogModule } from './catalog.module';
import { CatalogConfigInput, resolveCatalogConfig } from './config/catalog.config';
import { CatalogErrorFilter, requestValidationPipe, traceIdMiddleware } from './http/http-support';

/** Throws ConfigError (naming the variable) for a bad config; `app.close()` stops the relay and closes the store. */
export async function createCatalogApp(input: CatalogConfigInput): Promise<INestApplication> {
  const config = resolveCatalogConfig(input);
  const app = await NestFactory.create(CatalogModule.forRoot(config), { logger: ['error', 'warn'] });
  app.use(traceIdMiddleware);
  app.useGlobalPipes(requestValidationPipe());
  app.useGlobalFilters(new CatalogErrorFilter());
  const openApi = new DocumentBuilder()
    .setTitle('example-catalog')
    .setDescription('Write service: products and categories; every change publishes entity.updated through a transactional outbox')
    .setVersion('1')
    .build();
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, openApi));
  await app.init();
  return app;
}
