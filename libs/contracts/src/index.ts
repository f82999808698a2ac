export * from './entity-updated.event';
export * from './headers';
export * from './topics';
export * from './validate-event';
export * from './fast-validate';
export * from './exact-json';
