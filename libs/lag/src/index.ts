// libs/lag: the consumer-lag reader (Kafka admin), monitor, partition statuses, history and
// lag metrics. No HTTP: apps/lag-monitor serves them.
export * from './lag-errors';
export * from './lag-history';
export * from './lag-metrics';
export * from './lag-monitor';
export * from './lag-options';
export * from './lag-reader';
export * from './lag-types';
export * from './offset-time-table';
export * from './partition-status';
export * from './partition-tracker';
export * from './seed-history';
