export * from './batch-consumer';
export * from './codecs';
export * from './kafka-client';
export * from './log-bridge';
export * from './record-producer';
export * from './topic-config';
