// startLagServer: a tiny standalone Nest app with just LagModule (and /metrics), for running
// the lag service on its own and for tests.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { LagMonitor } from '@app/lag';
import { LagModule } from './lag.module';
import type { LagModuleOptions } from './lag-module-options';
import { LagService } from './lag.service';

export interface LagServerOptions extends LagModuleOptions {
  /** 0 picks a free port (read it from the result). */
  port: number;
  /** Default 127.0.0.1; 0.0.0.0 in a container. */
  host?: string;
}

export interface LagServer {
  /** http://host:port, without a trailing slash. */
  url: string;
  port: number;
  app: INestApplication;
  monitor: LagMonitor;
  close(): Promise<void>;
}

export async function startLagServer(options: LagServerOptions): Promise<LagServer> {
  const { port, host = '127.0.0.1', ...moduleOptions } = options;
  const app = await NestFactory.create(LagModule.forRoot(moduleOptions), { logger: ['error', 'warn'] });
  await app.listen(port, host);
  const address = (app.getHttpServer() as Server).address() as AddressInfo;
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return {
    url: `http://${shownHost}:${address.port}`,
    port: address.port,
    app,
    monitor: app.get(LagService).monitor,
    close: () => app.close(),
  };
}
