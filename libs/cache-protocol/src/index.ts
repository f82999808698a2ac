// libs/cache-protocol: THE agreement with Redis (key layout, value envelope, Lua scripts).
export * from './cache-protocol';
export * from './effects';
export * from './envelope';
export * from './errors';
export {
  companionKey,
  DEFAULT_MAX_KEY_BYTES,
  keyProblem,
  legacyLeaseKey,
  legacyTombstoneKey,
  namespaceKey,
  RESERVED_PREFIX,
  tagMembersKey,
  tagPendingKey,
  tagStateKey,
  validateKey,
} from './key-layout';
export { keyEffectProblem, lifetimeOf } from './key-effects';
export type { FillOutcome, Lease, LeaseGetResult } from './outcomes';
export * from './scripts';
export { clusterSlot, hashedPart, CLUSTER_SLOTS } from './slot';
export { LUA_SCRIPTS } from './lua/generated';
export type { LuaScriptName, GeneratedLuaScript } from './lua/generated';
export * from './namespace-bump';
export * from './plan-applier';
