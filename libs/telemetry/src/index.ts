// libs/telemetry: logger, the process-wide metrics registry, the Prometheus text parser and
// histogram helpers, and the invalidator's metric names. No NestJS, no Kafka.
export * from './logger';
export * from './metrics';
export * from './prometheus-text';
export * from './histogram-quantile';
export * from './invalidator-metric-names';
