// Namespace bumps driven by events: idempotent and guarded against replays.
//
// Rule: an event (entity E, version v) bumps namespace N at most once. `~nv{N}` (a hash in N's
// slot, next to the generation counter `~n{N}`) records per entity the highest version that
// bumped N. A bump of (E, v) with a recorded version >= v changes nothing (a duplicate or a
// replayed older event); otherwise the record is raised to v and the generation is INCRed, in
// one script (one slot, atomic). Version 0 (unversioned) always bumps. The record lives at least
// `recordTtlMs` (never shortened); when it expired or was evicted, a replay bumps again: one
// extra generation = extra misses, never stale data. The generation counter has no TTL.
//
// The script lives here (not in src/lua + generated.ts) while that file is being changed by
// other work; it is registered the same way (defineCommand under a content-versioned name).
import { createHash } from 'node:crypto';
import type { ChainableCommander } from 'ioredis';
import { CacheProtocolError } from './errors';
import { companionKey, namespaceKey, validateKey } from './key-layout';
import type { RedisConnection } from './scripts';

export const NAMESPACE_BUMP_LUA = `#!lua flags=allow-oom
--[[
  namespaceBump-2: bumps namespace N's generation once per (entity, version).
  KEYS[1] ~n{N}  generation counter (INCR)
  KEYS[2] ~nv{N} hash: entity identity -> highest version that bumped N
  ARGV[1] entity identity (the invalidator sends "tenant|entityType|entityId")
  ARGV[2] version (decimal; 0 = unversioned: always bumps)
  ARGV[3] TTL of the version record in ms (never shortened)
  Returns {1, generation} bumped, {0, generation} skipped (duplicate or older).
  allow-oom: an invalidation must land at maxmemory (a few bytes).
]]
local v = tonumber(ARGV[2])
if v > 0 then
  local seen = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '-1')
  if seen >= v then return {0, tonumber(redis.call('GET', KEYS[1]) or '0')} end
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
  local left = redis.call('PTTL', KEYS[2])
  if left < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[2], ARGV[3]) end
end
return {1, redis.call('INCR', KEYS[1])}
`;

const COMMAND = `cp:namespaceBump:${createHash('sha1').update(NAMESPACE_BUMP_LUA).digest('hex').slice(0, 8)}`;

/** The per-entity version record of namespace N (same slot as its generation counter). */
export function namespaceVersionsKey(namespace: string): string {
  return companionKey('nv', namespace);
}

export interface NamespaceBumpResult {
  namespace: string;
  bumped: boolean;
  generation: number;
}

/**
 * Registers the bump script on the connection (idempotent). Call it once before the connection is
 * used when it auto-pipelines (the invalidator's does): a pipeline only carries the commands that
 * existed when it was created, so defining the command lazily while another command's automatic
 * pipeline is open sends the bump into a pipeline without it ("pipeline[functionName] is not a
 * function", then an unhandled "results[i] is not iterable" from ioredis).
 */
export function defineNamespaceBumpCommand(redis: RedisConnection): void {
  const host = redis as unknown as Record<string, unknown>;
  if (typeof host[COMMAND] !== 'function') redis.defineCommand(COMMAND, { numberOfKeys: 2, lua: NAMESPACE_BUMP_LUA });
}

function define(redis: RedisConnection | ChainableCommander): (...args: (string | number)[]) => Promise<unknown> {
  const host = redis as unknown as Record<string, unknown>;
  if (typeof host[COMMAND] !== 'function') defineNamespaceBumpCommand(redis as RedisConnection);
  return (host[COMMAND] as (...args: (string | number)[]) => Promise<unknown>).bind(redis);
}

function decode(namespace: string, reply: unknown): NamespaceBumpResult {
  if (!Array.isArray(reply) || (reply[0] !== 0 && reply[0] !== 1))
    throw new CacheProtocolError('UNEXPECTED_REPLY', `unexpected namespaceBump reply ${JSON.stringify(reply)}`);
  return { namespace, bumped: reply[0] === 1, generation: Number(reply[1]) };
}

export interface NamespaceBump {
  namespace: string;
  /** Whose versions are compared; must name the tenant too (the invalidator sends "acme|product|42"). */
  entity: string;
  version: number;
  /** How long the (entity, version) record guards against replays. */
  recordTtlMs: number;
}

/** Throws CacheProtocolError (KEY_* / VERSION_INVALID / TTL_INVALID) for a bump that can never be applied. */
export function checkNamespaceBump(bump: NamespaceBump, maxKeyBytes = 512): void {
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
 * all sent at once (a pipeline on a standalone connection; a Cluster routes each by slot).
 * Rejects when Redis fails; re-running is always safe (that is the point of the version record).
 */
export async function bumpNamespaces(redis: RedisConnection, bumps: readonly NamespaceBump[]): Promise<NamespaceBumpResult[]> {
  for (const bump of bumps) checkNamespaceBump(bump);
  if (bumps.length === 0) return [];
  const run = define(redis);
  return Promise.all(
    bumps.map(async (b) =>
      decode(b.namespace, await run(namespaceKey(b.namespace), namespaceVersionsKey(b.namespace), b.entity, b.version, b.recordTtlMs)),
    ),
  );
}
