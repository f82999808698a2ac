// The contract between the mapping registry and the invalidator (types only).
import type { EntityUpdated } from '@app/contracts';

export type MappingKeyAction = 'delete' | 'tombstone' | 'warm';

export interface KeyRule {
  /** e.g. "product:{entityId}", "category:{after.categoryId}:products" */
  template: string;
  action: MappingKeyAction;
  /** warm: TTL of the rewritten value. */
  ttlSeconds?: number;
  /** tombstone/delete: how long the version guard lives (default set by the registry). */
  tombstoneTtlSeconds?: number;
  /** warm: where the value comes from; "after" = the event's `after` object (JSON). */
  warmFrom?: 'after' | { loaderUrl: string };
}

/** Where a change is purged in HTTP caches (CDN, Varnish) besides Redis. */
export interface PurgeRule {
  /** Send the mapping's rendered tags as surrogate keys (xkey / Surrogate-Key / cache tags). Default true. */
  tags?: boolean;
  /** URL templates purged one by one (host literal, values URL-encoded), e.g. "https://shop.example/products/{entityId}". */
  urls?: string[];
}

export interface Mapping {
  /** Stable id (the compacted topic's key), e.g. "catalog.product". */
  id: string;
  entityType: string;
  /** When set, applies to events of this tenant only. */
  tenant?: string;
  keys: KeyRule[];
  /** e.g. "tenant:{tenant}:products" */
  tags: string[];
  /** Namespace templates (key prefixes, e.g. "pricing:{tenant}:") whose generation every event of this mapping bumps. */
  namespaces?: string[];
  /** Purge HTTP caches too (the invalidator's purge sink). Absent = no purge. */
  purge?: PurgeRule;
  owner: string;
  description?: string;
  /** The mapping's own version, bumped by every change. */
  version: number;
  /** Set by the store on every change (ISO-8601); not part of the mapping's content (diffs ignore it). */
  updatedAt?: string;
  /** Team (or "*" admin) that made the last change; not part of the content. */
  updatedBy?: string;
}

export interface ResolvedKey {
  key: string;
  action: MappingKeyAction;
  tombstoneTtlSeconds: number;
  ttlSeconds?: number;
  /** warm from `after`: the serialised value. */
  value?: string;
  /** warm from a loader: the URL to fetch the value from (placeholders substituted, URI-encoded). */
  loaderUrl?: string;
  mappingId: string;
  /** Loader warms: the team owning the mapping (the loader sink keys its fairness on it). */
  team?: string;
}

export interface ResolvedNamespace {
  namespace: string;
  mappingId: string;
}

/** One mapping's purges for one event (what HTTP caches should drop because of that mapping). */
export interface MappingPurge {
  mappingId: string;
  /** The mapping's owner team. */
  team: string;
  /** Surrogate keys (the mapping's rendered tags, when purge.tags). */
  tags: string[];
  urls: string[];
}

/**
 * A mapping whose part of an event is refused: none of its keys, tags, namespaces, purges or
 * loads is in the Resolution; every other mapping's part is (the invalidator dead-letters the
 * event once per failed mapping, naming it and its team).
 */
export interface FailedMapping {
  mappingId: string;
  /** The mapping's owner team. */
  owner: string;
  /** A RegistryErrorCode (TEMPLATE_WIDENS_KEY, FOREIGN_KEYSPACE, FANOUT_LIMIT, TEMPLATE_UNSAFE_URL...) or the cache protocol's code for a key it refuses. */
  code: string;
  message: string;
  /** The mapping's field at fault when known, e.g. "purge.urls[1]". */
  field?: string;
}

export interface Resolution {
  keys: ResolvedKey[];
  tags: string[];
  /** Rendered namespaces to bump (absent or empty: none). */
  namespaces?: ResolvedNamespace[];
  /** What HTTP caches should purge (absent: nothing): surrogate keys (tags) and URLs, all mappings together. */
  purge?: { tags: string[]; urls: string[] };
  /** The same per mapping (absent: nothing), so a purge failure can be pinned on one mapping. */
  purges?: MappingPurge[];
  /** Mappings whose part of the event is refused (absent or empty: none). */
  failed?: FailedMapping[];
  /** True when the `checks` given to resolve() were run on every key and tag. */
  checked?: boolean;
}

/** Rules of the consumer (the cache protocol's key rules): a key or tag they refuse fails its mapping's part. */
export interface ResolveChecks {
  key?(key: ResolvedKey): Error | undefined;
  tag?(tag: string): Error | undefined;
}

/** What the invalidator needs from the registry: pure, synchronous, compiled once per mapping change. */
export interface MappingResolver {
  /**
   * Per-mapping problems (an unsafe value, a foreign keyspace, a refused URL, fan-out over the
   * cap) are listed in `failed`, the other mappings still resolve. Throws only for an event that
   * can never resolve at all.
   */
  resolve(event: EntityUpdated, checks?: ResolveChecks): Resolution;
  hasEntityType(entityType: string): boolean;
  readonly mappingCount: number;
}
