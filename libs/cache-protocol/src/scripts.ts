// One typed function per Lua script. Each alone knows its script's KEYS/ARGV order. Scripts are
// registered with ioredis defineCommand (EVALSHA, with EVAL on first use per connection and on
// NOSCRIPT) under `cp:<script>:<sha8>`: versioned by content, so two library versions sharing
// one connection never run each other's script.
import { createHash } from 'node:crypto';
import type Redis from 'ioredis';
import type { ChainableCommander, Cluster } from 'ioredis';
import { effectOutcomeOf, fillOutcomeOf, FillOutcome, Lease, LeaseGetResult, leaseGetResultOf } from './outcomes';
import type { EffectOutcome } from './effects';
import { CacheProtocolError } from './errors';
import { legacyTombstoneKey, namespaceKey, namespaceVersionsKey } from './key-layout';
import { LUA_SCRIPTS, LuaScriptName } from './lua/generated';

export type RedisConnection = Redis | Cluster;

export function isCluster(redis: RedisConnection): redis is Cluster {
  return (redis as Cluster).isCluster === true;
}
export type ScriptArg = string | number;

const COMMAND_NAMES = Object.fromEntries(
  (Object.keys(LUA_SCRIPTS) as LuaScriptName[]).map((name) => [
    name,
    `cp:${name}:${createHash('sha1').update(LUA_SCRIPTS[name].lua).digest('hex').slice(0, 8)}`,
  ]),
) as Record<LuaScriptName, string>;

/** Registers every protocol script on the connection (idempotent). Pipelines created afterwards carry them too. */
export function defineProtocolCommands(redis: RedisConnection): void {
  const options = redis.options as { keyPrefix?: string; redisOptions?: { keyPrefix?: string } } | undefined;
  if (options?.keyPrefix || options?.redisOptions?.keyPrefix) {
    throw new CacheProtocolError(
      'KEY_PREFIX_UNSUPPORTED',
      'the Redis client has keyPrefix set: prefixed companions would hash to other cluster slots; use key names instead',
    );
  }
  const host = redis as unknown as Record<string, unknown>;
  for (const name of Object.keys(LUA_SCRIPTS) as LuaScriptName[]) {
    const command = COMMAND_NAMES[name];
    if (typeof host[command] === 'function') continue;
    const script = LUA_SCRIPTS[name];
    redis.defineCommand(command, { numberOfKeys: script.numberOfKeys, lua: script.lua });
  }
}

type Callable = Record<string, (...args: ScriptArg[]) => unknown>;

function send(target: RedisConnection | ChainableCommander, script: LuaScriptName, args: ScriptArg[]): unknown {
  const fn = (target as unknown as Callable)[COMMAND_NAMES[script]];
  if (typeof fn !== 'function')
    throw new Error(`script ${script} is not registered on this connection: call defineProtocolCommands(redis) first`);
  return fn.apply(target, args);
}

/** A script behind one typed function: `run` on a connection, or `queue` on a pipeline (decode its exec() reply with the returned function). */
export interface ProtocolScript<P extends unknown[], R> {
  readonly script: LuaScriptName;
  run(redis: RedisConnection, ...params: P): Promise<R>;
  queue(pipeline: ChainableCommander, ...params: P): (reply: unknown) => R;
}

function protocolScript<P extends unknown[], R>(
  script: LuaScriptName,
  toArgs: (...params: P) => ScriptArg[],
  decode: (reply: unknown, ...params: P) => R,
): ProtocolScript<P, R> {
  return {
    script,
    async run(redis, ...params) {
      const args = toArgs(...params);
      try {
        return decode(await send(redis, script, args), ...params);
      } catch (error) {
        // ioredis marks a script as loaded on a socket when it sends its EVAL, also when Redis
        // refused that EVAL before running it (OOM: a script without allow-oom at maxmemory), so
        // its own NOSCRIPT retry can go out as EVALSHA again and fail. Send the body once more.
        if (!(error instanceof Error) || !error.message.includes('NOSCRIPT')) throw error;
        const { lua, numberOfKeys } = LUA_SCRIPTS[script];
        // variadic scripts (numberOfKeys undefined) carry their key count as the first argument
        const evalArgs = numberOfKeys === undefined ? args : [numberOfKeys, ...args];
        return decode(await (redis.eval as (...a: ScriptArg[]) => Promise<unknown>).apply(redis, [lua, ...evalArgs]), ...params);
      }
    },
    queue(pipeline, ...params) {
      send(pipeline, script, toArgs(...params));
      return (reply: unknown) => decode(reply, ...params);
    },
  };
}

export const invalidateScript = protocolScript(
  'invalidate',
  (key: string, version: number, tombstoneTtlMs: number, writeTombstone: boolean) => [
    key,
    version,
    tombstoneTtlMs,
    writeTombstone ? '1' : '0',
  ],
  (reply): EffectOutcome => effectOutcomeOf(reply),
);

export const warmScript = protocolScript(
  'warm',
  (
    key: string,
    version: number,
    hardTtlMs: number,
    freshForMs: number,
    namespaceGeneration: number,
    floorTtlMs: number,
    tagEpochs: string,
    payload: string,
  ) => [key, version, hardTtlMs, freshForMs, namespaceGeneration, floorTtlMs, tagEpochs, payload],
  (reply): EffectOutcome => effectOutcomeOf(reply),
);

export const leaseGetScript = protocolScript(
  'leaseGet',
  (
    key: string,
    token: string,
    leaseTtlMs: number,
    minNamespaceGeneration: number,
    checkTags: boolean,
    dropHead: string,
    earlyRefreshFactor: number,
    legacyFloors: boolean,
  ) => [
    key,
    legacyTombstoneKey(key),
    token,
    leaseTtlMs,
    minNamespaceGeneration,
    checkTags ? '1' : '0',
    dropHead,
    earlyRefreshFactor > 0 ? earlyRefreshFactor.toFixed(6) : '0',
    legacyFloors ? '1' : '0',
  ],
  (reply, key: string, token: string): LeaseGetResult => leaseGetResultOf(reply, key, token),
);

export const fillScript = protocolScript(
  'fill',
  (
    key: string,
    token: string,
    version: number,
    hardTtlMs: number,
    freshForMs: number,
    namespaceGeneration: number,
    tagEpochs: string,
    payload: string,
    loadMs: number | undefined,
    legacyFloors: boolean,
  ) => [
    key,
    legacyTombstoneKey(key),
    token,
    version,
    hardTtlMs,
    freshForMs,
    namespaceGeneration,
    tagEpochs,
    payload,
    loadMs === undefined ? '' : loadMs,
    legacyFloors ? '1' : '0',
  ],
  (reply): FillOutcome => fillOutcomeOf(reply),
);

export const releaseLeaseScript = protocolScript(
  'releaseLease',
  (lease: Lease) => [lease.key, lease.token],
  (reply): boolean => reply === 1,
);

/** Redis refused a command (or a script flagged without allow-oom) because it is at maxmemory with noeviction. */
export function isOomError(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('OOM ');
}

function batchReply(script: string) {
  return (reply: unknown, keys: string[]): number[] => {
    if (!Array.isArray(reply) || reply.length !== keys.length) {
      throw new CacheProtocolError('UNEXPECTED_REPLY', `${script} answered ${JSON.stringify(reply)} for ${keys.length} keys`);
    }
    return reply as number[];
  };
}

/**
 * The batch scripts: `keys` one key per item (its whole state lives in it), `argv`
 * the items' packed arguments in order (lua/includes/packedItem.lua). One code per item.
 * invalidateKeys (allow-oom) takes no warm items.
 */
const batchArgs = (keys: string[], argv: string[]): ScriptArg[] => [keys.length, ...keys, ...argv];

export const invalidateKeysScript = protocolScript('invalidateKeys', batchArgs, batchReply('invalidateKeys'));

export const applyKeyEffectsScript = protocolScript('applyKeyEffects', batchArgs, batchReply('applyKeyEffects'));

/** Joins a tag's live set: `epoch` the caller read, or '*' (warm: any; `newEpoch` creates a missing state). Answers the epoch joined, or undefined when it moved. */
export const tagJoinScript = protocolScript(
  'tagJoin',
  (stateKey: string, membersKey: string, epoch: string, member: string, memberTtlMs: number, newEpoch: number) => [
    stateKey,
    membersKey,
    epoch,
    member,
    memberTtlMs,
    newEpoch,
    newEpoch - 1,
  ],
  (reply): string | undefined => {
    if (!Array.isArray(reply) || (reply[0] !== 0 && reply[0] !== 1))
      throw new CacheProtocolError('UNEXPECTED_REPLY', `unexpected tagJoin reply ${JSON.stringify(reply)}`);
    return reply[0] === 1 ? String(reply[1]) : undefined;
  },
);

/** A tag's current epoch; creates the state (with `newEpoch`) when it is missing. */
export const tagEpochScript = protocolScript(
  'tagEpoch',
  (stateKey: string, newEpoch: number, stateTtlMs: number) => [stateKey, newEpoch, newEpoch - 1, stateTtlMs],
  (reply): string => {
    if (typeof reply !== 'string' || reply === '')
      throw new CacheProtocolError('UNEXPECTED_REPLY', `unexpected tagEpoch reply ${JSON.stringify(reply)}`);
    return reply;
  },
);

/** A tag's closed epoch and the epoch its pending sets are scanned through (equal: nothing to scan). */
export interface ClosedEpoch {
  closing: number;
  scannedThrough: number;
}

/** Closes the epochs of tags of one slot in one call (tagBumps-1n.lua): one result per state key. */
export const tagBumpsScript = protocolScript(
  'tagBumps',
  (stateKeys: string[], newEpoch: number, stateTtlsMs: number[]) => [stateKeys.length, ...stateKeys, newEpoch, ...stateTtlsMs],
  (reply, stateKeys: string[]): ClosedEpoch[] => {
    if (!Array.isArray(reply) || reply.length !== stateKeys.length * 2 || !reply.every((n) => Number.isSafeInteger(n))) {
      throw new CacheProtocolError('UNEXPECTED_REPLY', `tagBumps answered ${JSON.stringify(reply)} for ${stateKeys.length} tags`);
    }
    return stateKeys.map((_, i) => ({ closing: reply[2 * i] as number, scannedThrough: reply[2 * i + 1] as number }));
  },
);

export const tagRetireScript = protocolScript(
  'tagRetire',
  (stateKey: string, pendingKey: string, epoch: number) => [stateKey, pendingKey, epoch],
  (): void => undefined,
);

/** A namespace bump's answer: bumped, or skipped as a duplicate or older replay; the generation either way. */
export interface NamespaceBumpResult {
  namespace: string;
  bumped: boolean;
  generation: number;
}

/** Bumps namespace N's generation once per (entity, version) (namespaceBump-2.lua; see namespace-bump.ts). */
export const namespaceBumpScript = protocolScript(
  'namespaceBump',
  (namespace: string, entity: string, version: number, recordTtlMs: number) => [
    namespaceKey(namespace),
    namespaceVersionsKey(namespace),
    entity,
    version,
    recordTtlMs,
  ],
  (reply, namespace: string): NamespaceBumpResult => {
    if (!Array.isArray(reply) || (reply[0] !== 0 && reply[0] !== 1))
      throw new CacheProtocolError('UNEXPECTED_REPLY', `unexpected namespaceBump reply ${JSON.stringify(reply)}`);
    return { namespace, bumped: reply[0] === 1, generation: Number(reply[1]) };
  },
);
