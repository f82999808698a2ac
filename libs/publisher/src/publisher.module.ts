// NestJS wiring: one EntityPublisher per module instance, connected on boot when asked, flushed and
// disconnected when the application shuts down (app.close() or enableShutdownHooks()).
import { DynamicModule, Inject, Injectable, Module, OnApplicationBootstrap, OnApplicationShutdown, Provider } from '@nestjs/common';
import type { ModuleMetadata } from '@nestjs/common';
import { EntityPublisher } from './entity-publisher';
import type { EntityPublisherOptions } from './publisher.options';

export const PUBLISHER_OPTIONS = Symbol('PUBLISHER_OPTIONS');

export interface PublisherModuleOptions extends EntityPublisherOptions {
  /** Default false: connect on first publish, so the app starts while Kafka is down (the outbox relay retries). True: fail the boot instead. */
  connectOnBoot?: boolean;
}

export interface PublisherModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  useFactory: (...args: never[]) => PublisherModuleOptions | Promise<PublisherModuleOptions>;
  inject?: (string | symbol | (abstract new (...args: never[]) => unknown))[];
  global?: boolean;
}

@Injectable()
class PublisherLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(EntityPublisher) private readonly publisher: EntityPublisher,
    @Inject(PUBLISHER_OPTIONS) private readonly options: PublisherModuleOptions,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.options.connectOnBoot) await this.publisher.connect();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.publisher.disconnect();
  }
}

const publisherProvider: Provider = {
  provide: EntityPublisher,
  useFactory: (options: PublisherModuleOptions) => new EntityPublisher(options),
  inject: [PUBLISHER_OPTIONS],
};

@Module({})
export class PublisherModule {
  static forRoot(options: PublisherModuleOptions & { global?: boolean }): DynamicModule {
    return {
      module: PublisherModule,
      global: options.global ?? false,
      providers: [{ provide: PUBLISHER_OPTIONS, useValue: options }, publisherProvider, PublisherLifecycle],
      exports: [EntityPublisher],
    };
  }

  static forRootAsync(options: PublisherModuleAsyncOptions): DynamicModule {
    return {
      module: PublisherModule,
      global: options.global ?? false,
      imports: options.imports ?? [],
      providers: [
        { provide: PUBLISHER_OPTIONS, useFactory: options.useFactory, inject: options.inject ?? [] },
        publisherProvider,
        PublisherLifecycle,
      ],
      exports: [EntityPublisher],
    };
  }
}
