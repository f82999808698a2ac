// Starts the invalidator: HTTP (health, metrics) + the Kafka batch transport, and stops it in
// order on SIGTERM/SIGINT within SHUTDOWN_TIMEOUT_MS: stop fetching, finish or abandon the
// in-flight batch (nothing past it is committed), commit, disconnect.
import 'reflect-metadata';
import type { Server } from 'node:http';
import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';
import { cdcSourceMode, InvalidatorConfig } from './config/invalidator.config';
import { InvalidatorRuntime } from './runtime';
import { KafkaBatchTransport } from './transport/kafka-batch.transport';

export interface RunningInvalidator {
  app: INestApplication;
  runtime: InvalidatorRuntime;
  /** The HTTP port actually bound (HTTP_PORT=0 picks a free one). */
  port: number;
  close(): Promise<void>;
}

export async function startInvalidator(config: InvalidatorConfig): Promise<RunningInvalidator> {
  const runtime = new InvalidatorRuntime(config);
  try {
    await runtime.start();
  } catch (error) {
    await runtime.stop();
    throw error;
  }
  const app = await NestFactory.create(AppModule.forRoot(runtime), { logger: ['error', 'warn'] });
  app.connectMicroservice({ strategy: new KafkaBatchTransport(runtime.consumer) }, { inheritAppConfig: true });
  await app.startAllMicroservices();
  await app.listen(config.HTTP_PORT, config.HTTP_HOST);
  const address = (app.getHttpServer() as Server).address();
  const port = typeof address === 'object' && address ? address.port : config.HTTP_PORT;
  runtime.log.info(
    {
      port,
      topic: config.KAFKA_TOPIC,
      group: config.KAFKA_GROUP_ID,
      format: config.EVENT_FORMAT,
      ...(cdcSourceMode(config) ? { cdcSource: cdcSourceMode(config) === 'env' ? 'CDC_* settings' : 'registry' } : {}),
      ...(cdcSourceMode(config) === 'env' ? { cdcEntityType: config.CDC_ENTITY_TYPE } : {}),
      ...(cdcSourceMode(config) === 'registry' ? { cdcEntityType: runtime.sourceEntityType() ?? '(undeclared)' } : {}),
      mappings: runtime.mappings.current().mappingCount,
    },
    'invalidator started',
  );
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      runtime.log.info('shutting down: stopping the consumer');
      await app.close();
      await runtime.stop();
      runtime.log.info('shutdown complete');
    })();
    return closing;
  };
  return { app, runtime, port, close };
}
