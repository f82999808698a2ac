export * from './dashboard.controller';
export * from './lag-module-options';
export * from './lag-server';
export * from './lag.controller';
export * from './lag.module';
export * from './lag.service';
export * from './metrics.controller';
