// The registry app: the control plane only (health + the mapping registry and its API). The
// operators' page (lag, dashboard, /metrics) is apps/lag-monitor. Further feature modules are
// added to `imports` below; they can register readiness checks via Readiness.
import { DynamicModule, Module } from '@nestjs/common';
import type { Logger } from '@app/telemetry';
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
