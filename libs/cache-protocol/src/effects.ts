// The contract between the invalidator and libs/cache-protocol: what one event does to one key.
// (Types only; the implementation lives beside this file: cache-protocol.ts.)

/** `warm` replaces a cached value and never creates one (on an uncached key it only leaves its floor). */
export type KeyAction = 'delete' | 'tombstone' | 'warm';

export interface KeyEffect {
  key: string;
  /** The entity version this effect carries; never moves a key backwards. */
  version: number;
  action: KeyAction;
  /** How long the tombstone (carrying `version`) lives. `delete` still voids leases. */
  tombstoneTtlMs: number;
  /** `warm` only: the new value (already serialised) and its TTL. */
  value?: string;
  ttlMs?: number;
  /** `warm` only: tags the rewritten key belongs to. */
  tags?: string[];
  /** `warm` only: after `ttlMs` the value is served stale for this long while one reader refreshes it. */
  staleWhileRevalidateMs?: number;
  /** `warm` only: the namespace generation the value belongs to (see CacheProtocol.bumpNamespace); default 0. */
  namespaceGeneration?: number;
}

export type EffectOutcome =
  /** value removed (and tombstone written when the action asks for one) */
  | 'deleted'
  /** nothing was cached, a tombstone now guards the key (also a warm of an uncached key: a warm never creates a value) */
  | 'tombstoned'
  /** a cached value rewritten with the newer version */
  | 'warmed'
  /** the stored value or tombstone was at least as new: nothing changed */
  | 'skipped-older'
  /**
   * a warm Redis refused because it is at maxmemory (noeviction): applied as a tombstone of its
   * version instead (value deleted, lease voided, floor raised), so readers load it themselves
   */
  | 'warm-degraded-oom';

export interface TagEffect {
  tag: string;
  version: number;
  tombstoneTtlMs: number;
}
