// Wiring only: the store (PostgreSQL: products + outbox table), the publisher, and the relay between them.
import { DynamicModule, Inject, Injectable, Module, OnApplicationBootstrap, OnApplicationShutdown, OnModuleDestroy } from '@nestjs/common';
import { createLogger, Logger } from '@app/telemetry';
import { EntityPublisher, OutboxRelay, PublisherModule } from '@app/publisher';
import { CatalogConfig } from './config/catalog.config';
import { OpsController } from './http/ops.controller';
import { CategoriesController, ProductsController, TenantsController } from './http/products.controller';
import { CatalogStore } from './store/catalog-store';

export const CATALOG_CONFIG = Symbol('CATALOG_CONFIG');
export const CATALOG_LOGGER = Symbol('CATALOG_LOGGER');

/** Starts the relay after boot; on shutdown stops it before the publisher disconnects, then closes the store. */
@Injectable()
export class CatalogLifecycle implements OnApplicationBootstrap, OnModuleDestroy, OnApplicationShutdown {
  readonly relay: OutboxRelay;

  constructor(
    @Inject(CatalogStore) private readonly store: CatalogStore,
    @Inject(EntityPublisher) publisher: EntityPublisher,
    @Inject(CATALOG_CONFIG) private readonly config: CatalogConfig,
    @Inject(CATALOG_LOGGER) private readonly logger: Logger,
  ) {
    this.relay = new OutboxRelay(store.outbox, publisher, {
      pollIntervalMs: config.OUTBOX_POLL_MS,
      batchSize: config.OUTBOX_BATCH_SIZE,
      logger,
    });
    store.onChange(() => this.relay.notify());
  }

  async onApplicationBootstrap(): Promise<void> {
    this.relay.start();
    this.logger.info({ ...(await this.store.counts()), outboxClaimer: this.store.outbox.claimer }, 'catalog ready; outbox relay started');
  }

  async onModuleDestroy(): Promise<void> {
    await this.relay.stop({ timeoutMs: this.config.CATALOG_SHUTDOWN_TIMEOUT_MS });
  }

  async onApplicationShutdown(): Promise<void> {
    const { outboxPending } = await this.store.counts().catch(() => ({ outboxPending: undefined }));
    await this.store.close();
    this.logger.info({ outboxPending }, 'catalog stopped; unsent events stay in the outbox table for the next relay');
  }
}

@Module({})
export class CatalogModule {
  static forRoot(config: CatalogConfig): DynamicModule {
    const logger = createLogger('example-catalog', config.LOG_LEVEL);
    return {
      module: CatalogModule,
      imports: [
        PublisherModule.forRoot({
          brokers: config.KAFKA_BROKERS.split(','),
          topic: config.KAFKA_TOPIC,
          clientId: config.KAFKA_CLIENT_ID,
          lingerMs: config.PUBLISHER_LINGER_MS,
          compression: config.KAFKA_COMPRESSION,
          closeTimeoutMs: config.CATALOG_SHUTDOWN_TIMEOUT_MS,
          logger,
        }),
      ],
      controllers: [ProductsController, CategoriesController, TenantsController, OpsController],
      providers: [
        { provide: CATALOG_CONFIG, useValue: config },
        { provide: CATALOG_LOGGER, useValue: logger },
        {
          provide: CatalogStore,
          useFactory: () =>
            CatalogStore.open({
              databaseUrl: config.DATABASE_URL,
              poolSize: config.DATABASE_POOL_SIZE,
              outboxLeaseMs: config.OUTBOX_CLAIM_LEASE_MS,
              onPoolError: (error) =>
                logger.warn({ reason: error.message }, 'an idle PostgreSQL connection failed; the pool opens a new one'),
            }),
        },
        CatalogLifecycle,
      ],
    };
  }
}
