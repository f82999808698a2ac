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
}

export interface ResolvedNamespace {
  namespace: string;
  mappingId: string;
}

export interface Resolution {
  keys: ResolvedKey[];
  tags: string[];
  /** Rendered namespaces to bump (absent or empty: none). */
  namespaces?: ResolvedNamespace[];
  /** What HTTP caches should purge (absent: nothing): surrogate keys (tags) and URLs. */
  purge?: { tags: string[]; urls: string[] };
}

/** What the invalidator needs from the registry: pure, synchronous, compiled once per mapping change. */
export interface MappingResolver {
  /** Throws a RegistryError (code e.g. TEMPLATE_WIDENS_KEY, FANOUT_LIMIT) for an event that can never resolve safely. */
  resolve(event: EntityUpdated): Resolution;
  hasEntityType(entityType: string): boolean;
  readonly mappingCount: number;
}
