// Where the invalidator gets its mappings: the registry's compacted topic (default) or a YAML
// file (MAPPINGS_SOURCE=file). Both expose the same resolver, so the pipeline never changes.
import type { FollowerHealth } from '@app/registry-core';
import type { MappingResolver } from '@app/registry-core/types';

export interface MappingSource {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The latest compiled resolver; swapped atomically when mappings change. */
  current(): MappingResolver;
  /** True once the full mapping set is loaded. */
  isReady(): boolean;
  /** Kafka source only: is the follower of the mappings topic still reading (see MappingsFollowerWatch)? */
  followerHealth?(): FollowerHealth;
}
