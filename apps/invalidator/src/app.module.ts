import { DynamicModule, Module } from '@nestjs/common';
import { KeyInspectionController } from './debug/key-inspection.controller';
import { EntityUpdatedController } from './entity-updated.controller';
import { HealthController } from './health/health.controller';
import { MetricsController } from './metrics/metrics.controller';
import { InvalidationPipeline } from './pipeline/invalidation.pipeline';
import { InvalidatorRuntime } from './runtime';

@Module({})
export class AppModule {
  static forRoot(runtime: InvalidatorRuntime): DynamicModule {
    return {
      module: AppModule,
      controllers: [EntityUpdatedController, HealthController, MetricsController, KeyInspectionController],
      providers: [
        { provide: InvalidatorRuntime, useValue: runtime },
        { provide: InvalidationPipeline, useValue: runtime.pipeline },
      ],
    };
  }
}
