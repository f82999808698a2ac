// Namespace bumps driven by events: idempotent and guarded against replays.
//
// Rule: an event (entity E, version v) bumps namespace N at most once. `~nv{N}` (a hash in N's
// slot, next to the generation counter `~n{N}`) records per entity the highest version that
// bumped N. A bump of (E, v) with a recorded version >= v changes nothing (a duplicate or a
// replayed older event); otherwise the record is raised to v and the generation is INCRed, in
// one script (src/lua/namespaceBump-2.lua: one slot, atomic). Version 0 (unversioned) always
// bumps. The record lives at least `recordTtlMs` (never shortened); when it expired or was
// evicted, a replay bumps again: one extra generation = extra misses, never stale data. The
// generation counter has no TTL.
//
// The invalidator applies bumps with a chunk's other effects through PlanApplier
// (plan-applier.ts), which calls CacheProtocol.bumpNamespaces.
import { CacheProtocolError } from './errors';
import { DEFAULT_MAX_KEY_BYTES, validateKey } from './key-layout';
import { defineProtocolCommands, namespaceBumpScript, RedisConnection } from './scripts';
import type { NamespaceBumpResult } from './scripts';

export { namespaceVersionsKey } from './key-layout';

export interface NamespaceBump {
  namespace: string;
  /** Whose versions are compared; must name the tenant too (the invalidator sends "acme|product|42"). */
  entity: string;
  version: number;
  /** How long the (entity, version) record guards against replays. */
  recordTtlMs: number;
}

/** Throws CacheProtocolError (KEY_* / VERSION_INVALID / TTL_INVALID) for a bump that can never be applied. */
export function checkNamespaceBump(bump: NamespaceBump, maxKeyBytes = DEFAULT_MAX_KEY_BYTES): void {
  validateKey(bump.namespace, maxKeyBytes, 'namespace');
  if (!Number.isSafeInteger(bump.version) || bump.version < 0)
    throw new CacheProtocolError(
      'VERSION_INVALID',
      `version ${bump.version} of namespace "${bump.namespace}" is not an integer in 0..2^53-1`,
    );
  if (!Number.isSafeInteger(bump.recordTtlMs) || bump.recordTtlMs <= 0)
    throw new CacheProtocolError('TTL_INVALID', `recordTtlMs ${bump.recordTtlMs} is not a positive integer`);
  if (typeof bump.entity !== 'string' || bump.entity.length === 0) throw new CacheProtocolError('KEY_EMPTY', 'entity identity is empty');
}

/**
 * Bumps each namespace once per (entity, version): one script call per namespace, one slot each,
 * all sent at once (auto-pipelined on a standalone connection; a Cluster routes each by slot).
 * Checks every bump before sending any. Rejects when Redis fails; re-running is always safe (that
 * is the point of the version record). The scripts must be registered on `redis` (CacheProtocol's
 * constructor does it, before any command: see defineProtocolCommands).
 */
export async function runNamespaceBumps(
  redis: RedisConnection,
  bumps: readonly NamespaceBump[],
  maxKeyBytes = DEFAULT_MAX_KEY_BYTES,
): Promise<NamespaceBumpResult[]> {
  for (const bump of bumps) checkNamespaceBump(bump, maxKeyBytes);
  if (bumps.length === 0) return [];
  return Promise.all(bumps.map((b) => namespaceBumpScript.run(redis, b.namespace, b.entity, b.version, b.recordTtlMs)));
}

/**
 * The same on a bare connection (tests, tools): registers the protocol scripts first. On a
 * connection that auto-pipelines, prefer CacheProtocol.bumpNamespaces (its constructor registers
 * the scripts before any command is queued).
 */
export async function bumpNamespaces(redis: RedisConnection, bumps: readonly NamespaceBump[]): Promise<NamespaceBumpResult[]> {
  defineProtocolCommands(redis);
  return runNamespaceBumps(redis, bumps);
}
