export * from './read-config';
export * from './kafka-security';
export * from './cli-process';
export * from './startup-config';
