// @app/registry-core: the mapping model, template compiler, resolver and the Kafka-backed store.
// No HTTP in here (the registry API in apps/registry and the invalidator both use this).
export * from './types';
export * from './errors';
export * from './limits';
export * from './template/event-fields';
export * from './template/key-segment';
export * from './template/key-template';
export * from './mapping/mapping.dto';
export * from './mapping/compile-mapping';
export * from './mapping/validate-mapping';
export * from './keyspace/keyspaces';
export * from './resolver/explanation';
export * from './resolver/mapping-set-resolver';
export * from './yaml/keyspaces-yaml';
export * from './yaml/mappings-yaml';
export * from './diff/mapping-diff';
export * from './store/mapping-source';
export * from './store/topic-follower';
export * from './store/registry-kafka';
export * from './store/mapping-store';
export * from './store/static-mapping-source';
export * from './url/target-url';
export * from './source/cdc-source';
export * from './source/source.dto';
export * from './source/source-declaration';
export * from './source/source-plan';
export * from './source/cdc-sources';
