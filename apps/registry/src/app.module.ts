// The registry app: health + the mapping registry. Further feature modules (e.g. a lag
// dashboard) are added to `imports` below; they can register readiness checks via Readiness.
import { DynamicModule, Module } from '@nestjs/common';
import { LagModule, Logger } from '@app/observability';
import { RegistryConfig } from './config/registry.config';
import { HealthModule } from './health/health.module';
import { MappingsModule } from './mappings/mappings.module';

@Module({})
export class AppModule {
  static forRoot(config: RegistryConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        HealthModule,
        MappingsModule.forRoot(config, logger),
        // The operators' page lives here, not in the invalidator, so lag stays visible when no invalidator runs.
        ...(config.LAG_ENABLED
          ? [
              LagModule.forRoot({
                brokers: config.KAFKA_BROKERS.split(','),
                groupId: config.LAG_GROUP_ID,
                topics: config.LAG_TOPICS.split(','),
                intervalMs: config.LAG_INTERVAL_MS,
                invalidatorMetricsUrls: config.INVALIDATOR_METRICS_URLS ? config.INVALIDATOR_METRICS_URLS.split(',') : [],
                title: `Cache invalidation · ${config.LAG_GROUP_ID}`,
              }),
            ]
          : []),
      ],
    };
  }
}
