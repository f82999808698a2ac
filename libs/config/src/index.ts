export * from './read-config';
export * from './kafka-security';
