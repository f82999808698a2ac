// The invalidation bus (a Redis Stream): message format, publisher, subscriber. See libs/cache-client/README.md "L1 and the bus".
export * from './message';
export * from './publisher';
export * from './subscriber';
export * from './signing';
