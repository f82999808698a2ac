// The registry app: health + the mapping registry. Further feature modules (e.g. a lag
// dashboard) are added to `imports` below; they can register readiness checks via Readiness.
import { DynamicModule, Module } from '@nestjs/common';
import type { Logger } from '@app/observability';
import { RegistryConfig } from './config/registry.config';
import { HealthModule } from './health/health.module';
import { MappingsModule } from './mappings/mappings.module';

@Module({})
export class AppModule {
  static forRoot(config: RegistryConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [HealthModule, MappingsModule.forRoot(config, logger)],
    };
  }
}
