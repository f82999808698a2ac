// KeyEffect -> one item of the batch script, after checking it at the edge: a bad effect is
// refused before anything reaches Redis (never truncated, never half-applied).
import type { KeyEffect } from './effects';
import { CacheProtocolError } from './errors';
import { KeyBatchItem } from './key-batch';
import { keyProblem } from './key-layout';

export interface EffectLimits {
  maxKeyBytes: number;
  maxValueBytes: number;
  /** TTL of a warm effect that carries none. */
  defaultWarmTtlMs: number;
}

export function isVersion(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

export function isTtl(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n > 0;
}

/** Why `effect` would be refused by applyKeyEffects (undefined when it is fine). */
export function keyEffectProblem(effect: KeyEffect, limits: EffectLimits): CacheProtocolError | undefined {
  const problem = keyProblem(effect.key, limits.maxKeyBytes);
  if (problem) return problem;
  if (!isVersion(effect.version))
    return new CacheProtocolError('VERSION_INVALID', `version ${String(effect.version)} of "${effect.key}" is not an integer in 0..2^53-1`);
  switch (effect.action) {
    case 'delete':
      return undefined;
    case 'tombstone':
      return isTtl(effect.tombstoneTtlMs)
        ? undefined
        : new CacheProtocolError(
            'TTL_INVALID',
            `tombstoneTtlMs ${String(effect.tombstoneTtlMs)} of "${effect.key}" is not a positive integer`,
          );
    case 'warm':
      if (typeof effect.value !== 'string') return new CacheProtocolError('VALUE_MISSING', `warm effect of "${effect.key}" has no value`);
      if (effect.value.length > limits.maxValueBytes || Buffer.byteLength(effect.value, 'utf8') > limits.maxValueBytes) {
        return new CacheProtocolError(
          'VALUE_TOO_LARGE',
          `warm value of "${effect.key}" is larger than ${limits.maxValueBytes} bytes (option maxValueBytes)`,
        );
      }
      if (effect.ttlMs !== undefined && !isTtl(effect.ttlMs))
        return new CacheProtocolError('TTL_INVALID', `ttlMs ${String(effect.ttlMs)} of "${effect.key}" is not a positive integer`);
      if (effect.staleWhileRevalidateMs !== undefined && !isVersion(effect.staleWhileRevalidateMs)) {
        return new CacheProtocolError('TTL_INVALID', `staleWhileRevalidateMs of "${effect.key}" is not a non-negative integer`);
      }
      if (effect.namespaceGeneration !== undefined && !isVersion(effect.namespaceGeneration)) {
        return new CacheProtocolError('VERSION_INVALID', `namespaceGeneration of "${effect.key}" is not a non-negative integer`);
      }
      for (const tag of effect.tags ?? []) {
        const tagProblem = keyProblem(tag, limits.maxKeyBytes, 'tag');
        if (tagProblem) return tagProblem;
      }
      return undefined;
    default:
      return new CacheProtocolError(
        'ACTION_INVALID',
        `action ${JSON.stringify((effect as { action: unknown }).action)} of "${effect.key}" is not delete, tombstone or warm`,
      );
  }
}

/** Hard TTL and fresh-for of a value kept `ttlMs` fresh and then `staleWhileRevalidateMs` stale. */
export function lifetimeOf(ttlMs: number, staleWhileRevalidateMs = 0): { hardTtlMs: number; freshForMs: number } {
  return staleWhileRevalidateMs > 0
    ? { hardTtlMs: ttlMs + staleWhileRevalidateMs, freshForMs: ttlMs }
    : { hardTtlMs: ttlMs, freshForMs: 0 };
}

/**
 * How long the version floor (tombstone) a warm leaves lives: the value's hard TTL plus the
 * tombstone TTL, so for tombstoneTtlMs after the warmed value is gone (expired or evicted) no
 * older fill or replayed warm lands.
 */
export function warmFloorTtlMs(hardTtlMs: number, tombstoneTtlMs: number): number {
  return hardTtlMs + (isTtl(tombstoneTtlMs) ? tombstoneTtlMs : 1);
}

/**
 * The batch-script item of a checked effect, packed (lua/includes/packedItem.lua): one ARGV per
 * invalidation item, and one key name (the key holds its own floor and lease).
 * `tagEpochs`: a warm's joined tag epochs (the value's tag epochs section).
 */
export function keyEffectItem(effect: KeyEffect, limits: EffectLimits, tagEpochs = ''): KeyBatchItem {
  switch (effect.action) {
    case 'delete':
      return { key: effect.key, argv: [`d${effect.version}`] };
    case 'tombstone':
      return { key: effect.key, argv: [`t${effect.version}:${effect.tombstoneTtlMs}`] };
    default: {
      const { hardTtlMs, freshForMs } = lifetimeOf(effect.ttlMs ?? limits.defaultWarmTtlMs, effect.staleWhileRevalidateMs);
      const floorTtlMs = warmFloorTtlMs(hardTtlMs, effect.tombstoneTtlMs);
      return {
        key: effect.key,
        argv: [
          `w${effect.version}:${floorTtlMs}:${hardTtlMs}:${freshForMs}:${effect.namespaceGeneration ?? 0}`,
          tagEpochs,
          effect.value as string,
        ],
        degraded: degradedWarmItem(effect, hardTtlMs).argv,
      };
    }
  }
}

/**
 * What a warm becomes when Redis cannot store it (maxmemory, noeviction): a tombstone of its
 * version (version 0: a delete), with the floor the warm would have left.
 */
export function degradedWarmItem(effect: KeyEffect, hardTtlMs: number): KeyBatchItem {
  if (effect.version === 0) return { key: effect.key, argv: ['d0'] };
  return { key: effect.key, argv: [`t${effect.version}:${warmFloorTtlMs(hardTtlMs, effect.tombstoneTtlMs)}`] };
}

/** A tag member's unconditional invalidation. */
export function purgeItem(key: string, tombstoneTtlMs: number): KeyBatchItem {
  return { key, argv: [`p:${tombstoneTtlMs}`] };
}
