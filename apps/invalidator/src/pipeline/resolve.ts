// Step 4 of the pipeline (invalidation.pipeline.ts), resolve: entity changes -> the key and tag effects to apply, through the mapping registry.
// Keys of every event of the change are resolved (a moved entity invalidates its old keys);
// all carry the change's newest version; only the newest event's keys may be warmed.
// Isolation by mapping: a mapping whose part of an event is refused (resolution.failed: an unsafe
// value, a foreign keyspace, a refused URL, fan-out, a key the cache protocol refuses) becomes
// one dead letter naming the mapping and its team; the other mappings' parts are applied.
import type { KeyEffect, TagEffect } from '@app/cache-protocol/effects';
import type { MappingResolver, Resolution, ResolveChecks, ResolvedKey } from '@app/registry-core/types';
import type { LoaderWarm } from '../sinks/loader-warm';
import { DecodedEvent } from './decode';
import { EntityChange, entityIdentity } from './coalesce';

export interface Unresolvable {
  decoded: DecodedEvent;
  code: 'UNKNOWN_ENTITY_TYPE' | 'UNRESOLVABLE' | 'FOREIGN_KEYSPACE' | 'KEYSPACES_REQUIRED';
  reason: string;
  /** Set when only this mapping's part of the event is refused (the other parts are applied). */
  mappingId?: string;
  /** The team owning `mappingId`. */
  team?: string;
}

/** A namespace generation to bump once per (entity, version) (libs/cache-protocol namespace-bump). */
export interface PlannedNamespaceBump {
  namespace: string;
  /** entityIdentity(): the entity with its tenant. */
  entity: string;
  version: number;
  recordTtlMs: number;
}

/** What HTTP caches should purge for one event because of one mapping (mappings with `purge`). */
export interface PlannedPurge {
  decoded: DecodedEvent;
  mappingId: string;
  /** The team owning the mapping. */
  team: string;
  tags: string[];
  urls: string[];
}

export interface EffectPlan {
  keys: KeyEffect[];
  tags: TagEffect[];
  /** Applied with the keys (same retry loop, before the commit). Absent = none. */
  namespaces?: PlannedNamespaceBump[];
  /** Sent by the purge sink after the Redis apply, before the commit (bounded). */
  purges?: PlannedPurge[];
  /** Fetched and warmed after the commit, best effort. */
  loads?: LoaderWarm[];
  /** Events with no mapping when not strict: committed, counted, nothing to do. */
  unmapped: number;
  unresolvable: Unresolvable[];
}

export interface ResolveOptions {
  strictEntityTypes: boolean;
  defaultTombstoneTtlSeconds: number;
  /**
   * The cache protocol's own key rules (length, reserved prefix...): a key it would refuse
   * dead-letters its event. Called with one object rewritten for every key: read it, never keep it.
   */
  checkKeyEffect?: (effect: KeyEffect) => Error | undefined;
  /** The same for tags. */
  checkTag?: (tag: string) => Error | undefined;
}

/**
 * Which effect wins when several events of ONE entity in a chunk name the same key (all carry
 * the entity's newest version; only the newest event may warm): the higher rank. A warm also
 * leaves a tombstone when nothing is cached, and a tombstone guards the key where a delete only
 * removes it, so warm > tombstone > delete keeps the effect that does the most. Not the same
 * order as the registry's SAFER_ACTION_RANK (two rules of ONE event naming one key: the safer
 * effect wins there, warm last); the two answer different questions.
 */
const SAME_ENTITY_EVENTS_RANK = { delete: 0, tombstone: 1, warm: 2 } as const;

/**
 * Writes into `into` what resolved key `k` of an event does to its key, carrying `version`
 * (the entity's newest in the chunk). Returns `into`: a new object for the plan (toEffect), or
 * the one scratch object the cache protocol's check reads (resolveEffects).
 */
function writeEffect(into: KeyEffect, k: ResolvedKey, version: number, warmAllowed: boolean, tombstoneTtlSeconds: number): KeyEffect {
  into.key = k.key;
  into.version = version;
  into.tombstoneTtlMs = (k.tombstoneTtlSeconds || tombstoneTtlSeconds) * 1000;
  if (k.action === 'warm' && warmAllowed && k.value !== undefined) {
    into.action = 'warm';
    into.value = k.value;
    into.ttlMs = (k.ttlSeconds ?? 0) * 1000 || undefined;
  } else {
    // A warm key of an older event (or a loader warm the service cannot run) still must go away.
    into.action = k.action === 'delete' ? 'delete' : 'tombstone';
    into.value = undefined;
    into.ttlMs = undefined;
  }
  return into;
}

const blankEffect = (): KeyEffect => ({ key: '', version: 0, action: 'delete', tombstoneTtlMs: 0, value: undefined, ttlMs: undefined });

function toEffect(k: ResolvedKey, version: number, warmAllowed: boolean, tombstoneTtlSeconds: number): KeyEffect {
  return writeEffect(blankEffect(), k, version, warmAllowed, tombstoneTtlSeconds);
}

/**
 * A key named by events of two different entities in one chunk (a shared listing, or a mapping
 * that points two entities at one key): their versions do not compare, so it is deleted
 * unversioned (version 0: always deletes, voids the lease, writes no tombstone), never warmed.
 */
function sharedKeyEffect(key: string, tombstoneTtlMs: number): KeyEffect {
  return { key, version: 0, action: 'delete', tombstoneTtlMs };
}

/** The first problem `check` finds among `items` (a loop: no arrays per event on the hot path). */
function firstProblem<T>(items: T[], check: ((item: T) => Error | undefined) | undefined): Error | undefined {
  if (!check) return undefined;
  for (const item of items) {
    const problem = check(item);
    if (problem) return problem;
  }
  return undefined;
}

export function resolveEffects(changes: EntityChange[], resolver: MappingResolver, options: ResolveOptions): EffectPlan {
  // The plan's key effects in first-named order, and where each key sits in it. A key whose
  // index is below `changeStart` was named by an earlier entity of the chunk (it becomes shared).
  const keyEffects: KeyEffect[] = [];
  const keyIndex = new Map<string, number>();
  const tags = new Map<string, TagEffect>();
  const unresolvable: Unresolvable[] = [];
  let namespaces: Map<string, PlannedNamespaceBump> | undefined;
  let purges: PlannedPurge[] | undefined;
  let loads: Map<string, LoaderWarm> | undefined;
  let unmapped = 0;
  const defaultTtlSeconds = options.defaultTombstoneTtlSeconds;
  const tombstoneTtlMs = defaultTtlSeconds * 1000;
  // One checks object for the whole call: the key check reads the event being resolved from these.
  let version = 0;
  let isNewest = false;
  const checkKeyEffect = options.checkKeyEffect;
  // The check reads one scratch effect, rewritten for every key (it keeps nothing of it).
  const scratch = blankEffect();
  const checks: ResolveChecks = {
    key: checkKeyEffect ? (k) => checkKeyEffect(writeEffect(scratch, k, version, isNewest, defaultTtlSeconds)) : undefined,
    tag: options.checkTag,
  };
  for (const change of changes) {
    if (!resolver.hasEntityType(change.entityType)) {
      if (options.strictEntityTypes) {
        for (const decoded of change.events) {
          unresolvable.push({
            decoded,
            code: 'UNKNOWN_ENTITY_TYPE',
            reason: `no mapping for entityType "${change.entityType}" (STRICT_ENTITY_TYPES=true)`,
          });
        }
      } else unmapped += change.events.length;
      continue;
    }
    const changeStart = keyEffects.length;
    version = change.version;
    for (const decoded of change.events) {
      isNewest = decoded.event === change.newest;
      let resolution: Resolution;
      try {
        resolution = resolver.resolve(decoded.event, checks);
      } catch (error) {
        const code = (error as { code?: string }).code;
        // Whole-event problems only (the per-mapping ones come back in resolution.failed).
        const kept = code === 'FOREIGN_KEYSPACE' || code === 'KEYSPACES_REQUIRED' ? code : 'UNRESOLVABLE';
        unresolvable.push({ decoded, code: kept, reason: `${code ?? 'ERROR'}: ${(error as Error).message}` });
        continue;
      }
      if (resolution.failed) {
        for (const f of resolution.failed) {
          const field = f.field ? ` (${f.field})` : '';
          unresolvable.push({
            decoded,
            code: f.code === 'FOREIGN_KEYSPACE' || f.code === 'KEYSPACES_REQUIRED' ? f.code : 'UNRESOLVABLE',
            reason: `${f.code}: mapping "${f.mappingId}" of team "${f.owner}"${field}: ${f.message}`,
            mappingId: f.mappingId,
            team: f.owner,
          });
        }
      }
      // A resolver that did not run the checks itself (resolution.checked): the whole event is refused.
      const problem = resolution.checked ? undefined : uncheckedProblem(resolution, change.version, isNewest, options);
      if (problem) {
        unresolvable.push({
          decoded,
          code: 'UNRESOLVABLE',
          reason: `${(problem as { code?: string }).code ?? 'KEY_REFUSED'}: ${problem.message}`,
        });
        continue;
      }
      for (const k of resolution.keys) {
        const effect = toEffect(k, change.version, isNewest, defaultTtlSeconds);
        const at = keyIndex.get(effect.key);
        if (at === undefined) {
          keyIndex.set(effect.key, keyEffects.length);
          keyEffects.push(effect);
        } else if (at < changeStart) {
          keyEffects[at] = sharedKeyEffect(effect.key, effect.tombstoneTtlMs);
        } else if (SAME_ENTITY_EVENTS_RANK[effect.action] > SAME_ENTITY_EVENTS_RANK[keyEffects[at].action]) {
          // Same entity, same (newest) version: the newest event's warm beats an older event's tombstone.
          keyEffects[at] = effect;
        }
      }
      if (resolution.namespaces) {
        for (const n of resolution.namespaces) {
          const entity = entityIdentity(change);
          (namespaces ??= new Map()).set(`${n.namespace}\u0000${entity}`, {
            namespace: n.namespace,
            entity,
            version: change.version,
            recordTtlMs: tombstoneTtlMs,
          });
        }
      }
      if (resolution.purges) {
        for (const p of resolution.purges)
          (purges ??= []).push({ decoded, mappingId: p.mappingId, team: p.team, tags: p.tags, urls: p.urls });
      }
      if (isNewest) {
        for (const k of resolution.keys) {
          if (k.action !== 'warm' || k.loaderUrl === undefined) continue;
          (loads ??= new Map()).set(k.key, {
            key: k.key,
            loaderUrl: k.loaderUrl,
            version: change.version,
            ttlMs: (k.ttlSeconds ?? 0) * 1000 || undefined,
            tombstoneTtlMs: (k.tombstoneTtlSeconds || defaultTtlSeconds) * 1000,
            mappingId: k.mappingId,
            team: k.team ?? '',
          });
        }
      }
      for (const tag of resolution.tags) {
        const existing = tags.get(tag);
        if (!existing) tags.set(tag, { tag, version: change.version, tombstoneTtlMs });
        else if (existing.version < change.version) existing.version = change.version;
      }
    }
  }
  // A key shared by two entities in this chunk was downgraded to an unversioned delete: never warm it.
  if (loads) for (const effect of keyEffects) if (effect.version === 0) loads.delete(effect.key);
  const plan: EffectPlan = { keys: keyEffects, tags: [...tags.values()], unmapped, unresolvable };
  if (namespaces) plan.namespaces = [...namespaces.values()];
  if (purges) plan.purges = purges;
  if (loads && loads.size > 0) plan.loads = [...loads.values()];
  return plan;
}

/** What the cache protocol's checks say of a resolution its resolver did not check itself (undefined: fine). */
function uncheckedProblem(resolution: Resolution, version: number, isNewest: boolean, options: ResolveOptions): Error | undefined {
  if (options.checkKeyEffect) {
    for (const k of resolution.keys) {
      const problem = options.checkKeyEffect(toEffect(k, version, isNewest, options.defaultTombstoneTtlSeconds));
      if (problem) return problem;
    }
  }
  return firstProblem(resolution.tags, options.checkTag);
}
