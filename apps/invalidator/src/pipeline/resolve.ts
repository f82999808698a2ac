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
import { EntityChange } from './coalesce';

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
  /** namespaceEntity(): the entity with its tenant. */
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
  /** The cache protocol's own key rules (length, reserved prefix...): a key it would refuse dead-letters its event. */
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

function toEffect(k: ResolvedKey, version: number, warmAllowed: boolean, tombstoneTtlSeconds: number): KeyEffect {
  const tombstoneTtlMs = (k.tombstoneTtlSeconds || tombstoneTtlSeconds) * 1000;
  if (k.action === 'warm' && warmAllowed && k.value !== undefined) {
    return { key: k.key, version, action: 'warm', tombstoneTtlMs, value: k.value, ttlMs: (k.ttlSeconds ?? 0) * 1000 || undefined };
  }
  // A warm key of an older event (or a loader warm the service cannot run) still must go away.
  return { key: k.key, version, action: k.action === 'delete' ? 'delete' : 'tombstone', tombstoneTtlMs };
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

/**
 * The entity whose versions a namespace bump compares: tenant, type and id, so one tenant's
 * product 1 at v5 never makes another tenant's product 1 at v3 look like an older replay.
 * Always contains "|" (which no tenant, entity type or id may hold), so records of the former
 * format ("product:1") never match a new identity: they only linger until their TTL.
 */
export function namespaceEntity(change: Pick<EntityChange, 'tenant' | 'entityType' | 'entityId'>): string {
  return `${change.tenant ?? ''}|${change.entityType}|${change.entityId}`;
}

export function resolveEffects(changes: EntityChange[], resolver: MappingResolver, options: ResolveOptions): EffectPlan {
  // per key: its effect, and the entity that named it first (a second entity makes it shared)
  const keys = new Map<string, { effect: KeyEffect; owner: EntityChange }>();
  const tags = new Map<string, TagEffect>();
  const unresolvable: Unresolvable[] = [];
  const namespaces = new Map<string, PlannedNamespaceBump>();
  const purges: PlannedPurge[] = [];
  const loads = new Map<string, LoaderWarm>();
  let unmapped = 0;
  const tombstoneTtlMs = options.defaultTombstoneTtlSeconds * 1000;
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
    for (const decoded of change.events) {
      const isNewest = decoded.event === change.newest;
      const checks: ResolveChecks = {
        key: options.checkKeyEffect
          ? (k) => options.checkKeyEffect!(toEffect(k, change.version, isNewest, options.defaultTombstoneTtlSeconds))
          : undefined,
        tag: options.checkTag,
      };
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
      for (const f of resolution.failed ?? []) {
        const field = f.field ? ` (${f.field})` : '';
        unresolvable.push({
          decoded,
          code: f.code === 'FOREIGN_KEYSPACE' || f.code === 'KEYSPACES_REQUIRED' ? f.code : 'UNRESOLVABLE',
          reason: `${f.code}: mapping "${f.mappingId}" of team "${f.owner}"${field}: ${f.message}`,
          mappingId: f.mappingId,
          team: f.owner,
        });
      }
      const effects = resolution.keys.map((k) => toEffect(k, change.version, isNewest, options.defaultTombstoneTtlSeconds));
      // A resolver that did not run the checks itself (resolution.checked): the whole event is refused.
      const problem = resolution.checked
        ? undefined
        : (firstProblem(effects, options.checkKeyEffect) ?? firstProblem(resolution.tags, options.checkTag));
      if (problem) {
        unresolvable.push({
          decoded,
          code: 'UNRESOLVABLE',
          reason: `${(problem as { code?: string }).code ?? 'KEY_REFUSED'}: ${problem.message}`,
        });
        continue;
      }
      for (const effect of effects) {
        const existing = keys.get(effect.key);
        if (existing === undefined) {
          keys.set(effect.key, { effect, owner: change });
        } else if (existing.owner !== change) {
          existing.effect = sharedKeyEffect(effect.key, effect.tombstoneTtlMs);
        } else if (SAME_ENTITY_EVENTS_RANK[effect.action] > SAME_ENTITY_EVENTS_RANK[existing.effect.action]) {
          // Same entity, same (newest) version: the newest event's warm beats an older event's tombstone.
          existing.effect = effect;
        }
      }
      for (const n of resolution.namespaces ?? []) {
        const entity = namespaceEntity(change);
        namespaces.set(`${n.namespace}\u0000${entity}`, {
          namespace: n.namespace,
          entity,
          version: change.version,
          recordTtlMs: tombstoneTtlMs,
        });
      }
      for (const p of resolution.purges ?? []) purges.push({ decoded, mappingId: p.mappingId, team: p.team, tags: p.tags, urls: p.urls });
      if (isNewest) {
        for (const k of resolution.keys) {
          if (k.action !== 'warm' || k.loaderUrl === undefined) continue;
          loads.set(k.key, {
            key: k.key,
            loaderUrl: k.loaderUrl,
            version: change.version,
            ttlMs: (k.ttlSeconds ?? 0) * 1000 || undefined,
            tombstoneTtlMs: (k.tombstoneTtlSeconds || options.defaultTombstoneTtlSeconds) * 1000,
            mappingId: k.mappingId,
            team: k.team ?? '',
          });
        }
      }
      for (const tag of resolution.tags) {
        const existing = tags.get(tag);
        if (!existing || existing.version < change.version) tags.set(tag, { tag, version: change.version, tombstoneTtlMs });
      }
    }
  }
  // A key shared by two entities in this chunk was downgraded to an unversioned delete: never warm it.
  const keyEffects: KeyEffect[] = [];
  for (const [key, { effect }] of keys) {
    keyEffects.push(effect);
    if (effect.version === 0) loads.delete(key);
  }
  const plan: EffectPlan = { keys: keyEffects, tags: [...tags.values()], unmapped, unresolvable };
  if (namespaces.size > 0) plan.namespaces = [...namespaces.values()];
  if (purges.length > 0) plan.purges = purges;
  if (loads.size > 0) plan.loads = [...loads.values()];
  return plan;
}
