// What an invalidator holds: the current compiled mapping set, swapped whole on every change.
// Implemented by MappingStore (Kafka, live) and StaticMappingSource (a YAML file); the
// invalidator picks one by MAPPINGS_SOURCE and its pipeline never knows which.
import type { MappingSetResolver } from '../resolver/mapping-set-resolver';
import type { CdcSources } from '../source/cdc-sources';
import type { FollowerHealth } from './topic-follower';

/** Called after a new resolver is in place; `changedIds` are the mapping ids (and keyspace / source record keys) that changed. */
export type MappingChangeListener = (resolver: MappingSetResolver, changedIds: string[]) => void;

export interface MappingSource {
  /** Resolves once the whole set is loaded; before that current() throws STORE_NOT_READY. */
  start(): Promise<void>;
  stop(): Promise<void>;
  isReady(): boolean;
  /** The resolver to use for the next event. Read it per event or per batch; never cache it longer. */
  current(): MappingSetResolver;
  /** Returns a function that removes the listener. */
  onChange(listener: MappingChangeListener): () => void;
  /**
   * The CDC source declarations in force (the registry's "source:" records, or a file's
   * `sources:`): per Debezium change topic, its declaration or why its records are refused.
   * Read it per chunk, like current().
   */
  sources(): CdcSources;
  /** Kafka-backed sources only: is the follower of the mappings topic still reading (the invalidator's MappingsFollowerWatch)? */
  followerHealth?(): FollowerHealth;
}
