// The invalidation bus (a Redis Stream): message format, publisher, subscriber. See docs/clients.md, "L1 and the bus: what bounds staleness".
export * from './message';
export * from './publisher';
export * from './subscriber';
export * from './signing';
