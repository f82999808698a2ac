export * from './batch-consumer';
export * from './codecs';
export * from './consumer-api';
export * from './kafka-client';
export * from './log-bridge';
export * from './platformatic';
export * from './record-producer';
export * from './topic-config';
