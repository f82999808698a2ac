// What `explain` answers: exactly the keys and tags one event would touch, grouped by action,
// plus why a template gave nothing. Built from the same resolve() the invalidator runs.
import type { FailedMapping, MappingKeyAction } from '../types';
import type { RegistryErrorCode } from '../errors';

export interface ExplainedKey {
  key: string;
  mappingId: string;
  /** The template that produced the key (the first one, when several produce the same key). */
  template: string;
  tombstoneTtlSeconds: number;
  ttlSeconds?: number;
  /** warm: where the value comes from. */
  warmFrom?: 'after' | 'loader';
  /** warm from after: size of the serialised value in bytes. */
  valueBytes?: number;
  loaderUrl?: string;
  /** e.g. why a warm rule became a tombstone. */
  note?: string;
  /** When keyspaces are enforced: the team owning the key's prefix (null: no owner). */
  keyspaceOwner?: string | null;
}

export interface ExplainedTag {
  tag: string;
  mappingId: string;
  template: string;
  /** When keyspaces are enforced: the team owning the tag's prefix (null: no owner). */
  keyspaceOwner?: string | null;
}

export interface ExplainedNamespace {
  /** The rendered namespace (a key prefix) whose generation the event bumps. */
  namespace: string;
  mappingId: string;
  template: string;
  /** When keyspaces are enforced: the team owning the namespace's prefix (null: no owner). */
  keyspaceOwner?: string | null;
}

export interface ExplainedPurge {
  /** Surrogate keys (xkey / Surrogate-Key / cache tags) purged in HTTP caches. */
  tags: string[];
  urls: { url: string; mappingId: string; template: string }[];
}

export interface SkippedTemplate {
  mappingId: string;
  template: string;
  /** The first referenced field the event lacks (or holds null). */
  missingField: string;
}

export interface Explanation {
  event: { entityType: string; entityId: string; tenant?: string; version: number };
  /**
   * apply: the invalidator applies `keys`/`tags`; no-mapping: no mapping matches (nothing
   * happens); partial: the mappings in `failed` are dead-lettered (one dead letter each, naming
   * the mapping and its team), the others' parts applied; rejected: nothing is applied, the event
   * is dead-lettered (every matching mapping failed, or the event cannot resolve at all).
   */
  outcome: 'apply' | 'no-mapping' | 'partial' | 'rejected';
  mappings: { id: string; owner: string; tenant?: string; version: number }[];
  keys: Record<MappingKeyAction, ExplainedKey[]>;
  tags: ExplainedTag[];
  /** Namespaces whose generation the event bumps (every key under one reads as a miss). */
  namespaces: ExplainedNamespace[];
  /** What the purge sink sends to HTTP caches; absent when no matching mapping purges. */
  purge?: ExplainedPurge;
  skipped: SkippedTemplate[];
  /** Mappings whose part of the event is refused (dead-lettered), with why; their keys are not listed above. */
  failed: FailedMapping[];
  /** keys + tags + namespaces + purge URLs this event resolves to. */
  fanout: number;
  fanoutCap: number;
  /** Whether key prefixes and entity types are owned per team (at least one keyspace record exists). */
  keyspacesEnforced: boolean;
  /** rejected: why (the first failed mapping's reason when every matching mapping failed). */
  error?: { code: RegistryErrorCode; message: string; field?: string };
}
