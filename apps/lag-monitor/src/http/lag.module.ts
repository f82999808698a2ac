// LagModule.forRoot(options): the lag monitor, GET /lag, GET /dashboard(/data), /health/live,
// /health/ready and, unless serveMetrics is false, GET /metrics (the lag-monitor app, startLagServer).
import { DynamicModule, Module } from '@nestjs/common';
import { HealthController } from '../health/health.controller';
import { DashboardController } from './dashboard.controller';
import { LagController } from './lag.controller';
import { LAG_MODULE_OPTIONS, LagModuleOptions } from './lag-module-options';
import { LagService } from './lag.service';
import { MetricsController } from './metrics.controller';

@Module({})
export class LagModule {
  static forRoot(options: LagModuleOptions): DynamicModule {
    return {
      module: LagModule,
      controllers: [LagController, DashboardController, HealthController, ...(options.serveMetrics === false ? [] : [MetricsController])],
      providers: [{ provide: LAG_MODULE_OPTIONS, useValue: options }, LagService],
      exports: [LagService],
    };
  }
}
