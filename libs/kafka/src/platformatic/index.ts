export * from './batch-consumer';
export * from './connection';
export * from './errors';
export * from './load';
export * from './partition-worker';
export * from './record-producer';
export * from './records';
