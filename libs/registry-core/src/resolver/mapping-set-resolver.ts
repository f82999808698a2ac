// A compiled, immutable mapping set: resolve(event) is the invalidator's hot path. A change to
// the set compiles a new resolver and swaps it in whole (never mutated while in use).
//
// Which mappings apply: all mappings of the event's entityType without a tenant, plus those
// whose tenant equals the event's tenant (union; a tenant mapping adds keys, it does not hide
// the generic ones, because an extra invalidation is safe and a missing one is not).
import type { EntityUpdated } from '@app/contracts';
import { stringifyExactJson } from '@app/contracts';
import { RegistryError, isRegistryError } from '../errors';
import { RegistryLimits, registryLimits } from '../limits';
import { Keyspaces } from '../keyspace/keyspaces';
import { CompiledMapping, compileMapping } from '../mapping/compile-mapping';
import type { Mapping, MappingKeyAction, MappingResolver, Resolution, ResolvedKey, ResolvedNamespace } from '../types';
import type { ExplainedKey, ExplainedNamespace, ExplainedTag, Explanation, SkippedTemplate } from './explanation';

interface EntityGroup {
  /** Mappings without tenant: used for events without a tenant or of a tenant with no own mapping. */
  readonly generic: readonly CompiledMapping[];
  /** tenant -> generic + that tenant's mappings. */
  readonly byTenant: ReadonlyMap<string, readonly CompiledMapping[]>;
  /** Upper bound of keys + tags over all lists; when <= cap the per-event count check is skipped. */
  readonly maxFanout: number;
}

export interface RejectedMapping {
  id: string;
  error: RegistryError;
}

export interface CompileSetOptions {
  limits?: RegistryLimits;
  /**
   * strict (registry writes): any invalid mapping or an entity type/tenant whose mappings together
   * exceed the fan-out cap throws. lenient (followers): invalid mappings are left out and listed
   * in `rejected`; fan-out is then enforced per event.
   */
  mode?: 'strict' | 'lenient';
  /**
   * Team ownership of key prefixes and entity types. A mapping outside its owner's keyspaces is
   * kept but marked foreign (in both modes): resolve() throws FOREIGN_KEYSPACE for every event it
   * matches, so the whole event is refused (the invalidator dead-letters it) and none of its keys,
   * foreign or not, is touched. Registry writes refuse such mappings before they are stored.
   */
  keyspaces?: Keyspaces;
  /**
   * KEYSPACES_REQUIRED: while no keyspace is declared (keyspaces not enforced), every mapping is
   * refused like a foreign one (resolve() throws KEYSPACES_REQUIRED for every event it matches),
   * so no team's mapping is applied before the operator has declared who owns what.
   */
  keyspacesRequired?: boolean;
}

interface Trace {
  templates: Map<string, { template: string; mappingId: string }>;
  skipped: SkippedTemplate[];
  notes: Map<string, string>;
}

// tombstone > delete > warm: when two rules produce one key, the safer effect wins.
const ACTION_STRENGTH: Record<MappingKeyAction, number> = { warm: 0, delete: 1, tombstone: 2 };

function fanoutOf(list: readonly CompiledMapping[]): number {
  return list.reduce((sum, m) => sum + m.keys.length + m.tags.length, 0);
}

function keyspacesRequiredError(mapping: Mapping): RegistryError {
  return new RegistryError(
    'KEYSPACES_REQUIRED',
    `mapping "${mapping.id}" (owner "${mapping.owner}"): no keyspace (key prefix / entity type ownership) is declared and KEYSPACES_REQUIRED=true, so no team's mapping is applied until an admin declares keyspaces`,
  );
}

export class MappingSetResolver implements MappingResolver {
  readonly mappingCount: number;

  private constructor(
    private readonly index: ReadonlyMap<string, EntityGroup>,
    private readonly compiled: readonly CompiledMapping[],
    readonly rejected: readonly RejectedMapping[],
    readonly limits: RegistryLimits,
    readonly keyspaces: Keyspaces = Keyspaces.NONE,
    /** Mappings outside their owner's keyspaces (resolve refuses events they match). */
    private readonly foreign: ReadonlyMap<CompiledMapping, RegistryError> = new Map(),
  ) {
    this.mappingCount = compiled.length;
  }

  static empty(limits: RegistryLimits = registryLimits()): MappingSetResolver {
    return new MappingSetResolver(new Map(), [], [], limits);
  }

  static compile(mappings: Iterable<Mapping>, options: CompileSetOptions = {}): MappingSetResolver {
    const limits = options.limits ?? registryLimits();
    const strict = (options.mode ?? 'strict') === 'strict';
    const compiled: CompiledMapping[] = [];
    const rejected: RejectedMapping[] = [];
    for (const mapping of [...mappings].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
      try {
        compiled.push(compileMapping(mapping, limits));
      } catch (error) {
        if (!isRegistryError(error)) throw error;
        const scoped = new RegistryError(error.code, `mapping "${mapping.id}": ${error.message}`, error.field, error.violations);
        if (strict) throw scoped;
        rejected.push({ id: mapping.id, error: scoped });
      }
    }
    const index = new Map<string, EntityGroup>();
    for (const entityType of new Set(compiled.map((m) => m.mapping.entityType))) {
      const ofType = compiled.filter((m) => m.mapping.entityType === entityType);
      const generic = ofType.filter((m) => m.mapping.tenant === undefined);
      const byTenant = new Map<string, CompiledMapping[]>();
      for (const m of ofType) {
        if (m.mapping.tenant !== undefined && !byTenant.has(m.mapping.tenant)) {
          byTenant.set(m.mapping.tenant, [...generic, ...ofType.filter((o) => o.mapping.tenant === m.mapping.tenant)]);
        }
      }
      const lists: [string, readonly CompiledMapping[]][] = [['(any tenant)', generic], ...[...byTenant].map(([t, l]) => [`tenant ${t}`, l] as [string, CompiledMapping[]])];
      let maxFanout = 0;
      for (const [scope, list] of lists) {
        const fanout = fanoutOf(list);
        maxFanout = Math.max(maxFanout, fanout);
        if (strict && fanout > limits.fanoutCap) {
          throw new RegistryError(
            'FANOUT_LIMIT',
            `entityType "${entityType}", ${scope}: mappings ${list.map((m) => m.mapping.id).join(', ')} together resolve up to ${fanout} keys + tags per event, over the fan-out cap of ${limits.fanoutCap}`,
            'keys',
          );
        }
      }
      index.set(entityType, { generic, byTenant, maxFanout });
    }
    const keyspaces = options.keyspaces ?? Keyspaces.NONE;
    const foreign = new Map<CompiledMapping, RegistryError>();
    if (keyspaces.enforced) {
      for (const m of compiled) {
        try {
          keyspaces.assertMappingInside(m.mapping);
        } catch (error) {
          if (!isRegistryError(error)) throw error;
          foreign.set(m, error);
        }
      }
    } else if (options.keyspacesRequired) {
      for (const m of compiled) foreign.set(m, keyspacesRequiredError(m.mapping));
    }
    return new MappingSetResolver(index, compiled, rejected, limits, keyspaces, foreign);
  }

  /** Mappings outside their owner's keyspaces, with why (FOREIGN_KEYSPACE). */
  foreignMappings(): RejectedMapping[] {
    return [...this.foreign].map(([m, error]) => ({ id: m.mapping.id, error }));
  }

  hasEntityType(entityType: string): boolean {
    return this.index.has(entityType);
  }

  mappings(): Mapping[] {
    return this.compiled.map((m) => m.mapping);
  }

  resolve(event: EntityUpdated): Resolution {
    return this.run(event, undefined);
  }

  explain(event: EntityUpdated): Explanation {
    const trace: Trace = { templates: new Map(), skipped: [], notes: new Map() };
    const list = this.mappingsFor(event);
    const base: Explanation = {
      event: { entityType: event.entityType, entityId: event.entityId, tenant: event.tenant, version: event.version },
      outcome: list.length === 0 ? 'no-mapping' : 'apply',
      mappings: list.map(({ mapping: m }) => ({ id: m.id, owner: m.owner, tenant: m.tenant, version: m.version })),
      keys: { delete: [], tombstone: [], warm: [] },
      tags: [],
      namespaces: [],
      skipped: [],
      fanout: 0,
      fanoutCap: this.limits.fanoutCap,
      keyspacesEnforced: this.keyspaces.enforced,
    };
    let resolution: Resolution;
    try {
      resolution = this.run(event, trace);
    } catch (error) {
      if (!isRegistryError(error)) throw error;
      return { ...base, outcome: 'rejected', skipped: trace.skipped, error: { code: error.code, message: error.message, field: error.field } };
    }
    for (const k of resolution.keys) {
      const origin = trace.templates.get(`k:${k.key}`)!;
      const explained: ExplainedKey = { key: k.key, mappingId: k.mappingId, template: origin.template, tombstoneTtlSeconds: k.tombstoneTtlSeconds };
      if (k.ttlSeconds !== undefined) explained.ttlSeconds = k.ttlSeconds;
      if (k.action === 'warm') explained.warmFrom = k.loaderUrl !== undefined ? 'loader' : 'after';
      if (k.value !== undefined) explained.valueBytes = Buffer.byteLength(k.value);
      if (k.loaderUrl !== undefined) explained.loaderUrl = k.loaderUrl;
      const note = trace.notes.get(k.key);
      if (note) explained.note = note;
      if (this.keyspaces.enforced) explained.keyspaceOwner = this.keyspaces.ownerOf(k.key)?.team ?? null;
      base.keys[k.action].push(explained);
    }
    base.tags = resolution.tags.map((tag) => {
      const explained: ExplainedTag = { tag, ...trace.templates.get(`t:${tag}`)! };
      if (this.keyspaces.enforced) explained.keyspaceOwner = this.keyspaces.ownerOf(tag)?.team ?? null;
      return explained;
    });
    base.namespaces = (resolution.namespaces ?? []).map(({ namespace, mappingId }) => {
      const explained: ExplainedNamespace = { namespace, mappingId, template: trace.templates.get(`n:${namespace}`)!.template };
      if (this.keyspaces.enforced) explained.keyspaceOwner = this.keyspaces.ownerOf(namespace)?.team ?? null;
      return explained;
    });
    if (resolution.purge) {
      base.purge = { tags: resolution.purge.tags, urls: resolution.purge.urls.map((url) => ({ url, ...trace.templates.get(`u:${url}`)! })) };
    }
    base.skipped = trace.skipped;
    base.fanout = resolution.keys.length + resolution.tags.length;
    return base;
  }

  private mappingsFor(event: EntityUpdated): readonly CompiledMapping[] {
    const group = this.index.get(event.entityType);
    if (group === undefined) return [];
    return (event.tenant !== undefined ? group.byTenant.get(event.tenant) : undefined) ?? group.generic;
  }

  private run(event: EntityUpdated, trace: Trace | undefined): Resolution {
    const group = this.index.get(event.entityType);
    if (group === undefined) return { keys: [], tags: [] };
    const list = (event.tenant !== undefined ? group.byTenant.get(event.tenant) : undefined) ?? group.generic;
    if (this.foreign.size > 0) {
      // The whole event is refused: touching only the legit mappings' keys would hide the attack.
      for (const compiled of list) {
        const error = this.foreign.get(compiled);
        if (error) throw error;
      }
    }
    const keys: ResolvedKey[] = [];
    const tags: string[] = [];
    const namespaces: ResolvedNamespace[] = [];
    let purge: { tags: string[]; urls: string[] } | undefined;
    let afterJson: string | undefined;

    for (const compiled of list) {
      const mappingId = compiled.mapping.id;
      for (const rule of compiled.keys) {
        const key = rule.template.render(event);
        if (key === undefined) {
          if (trace) trace.skipped.push({ mappingId, template: rule.template.source, missingField: rule.template.firstMissingField(event)! });
          continue;
        }
        let action = rule.action;
        let value: string | undefined;
        let loaderUrl: string | undefined;
        if (action === 'warm') {
          // A warm rule without a value to warm with (a delete has no `after`) still must
          // invalidate: it becomes a tombstone.
          if (rule.warmFromAfter) {
            if (event.after === undefined || event.after === null) action = 'tombstone';
            else value = afterJson ??= stringifyExactJson(event.after);
          } else {
            loaderUrl = rule.loaderUrl!.render(event);
            if (loaderUrl === undefined) action = 'tombstone';
          }
          if (trace && action === 'tombstone') {
            trace.notes.set(key, rule.warmFromAfter ? 'warm rule, but the event has no `after`: tombstoned instead' : 'warm rule, but the loader URL lacks a field: tombstoned instead');
          }
        }
        const resolved: ResolvedKey = {
          key,
          action,
          tombstoneTtlSeconds: rule.tombstoneTtlSeconds,
          ttlSeconds: action === 'warm' ? rule.ttlSeconds : undefined,
          value,
          loaderUrl,
          mappingId,
        };
        let existing = -1;
        for (let i = 0; i < keys.length; i++) {
          if (keys[i].key === key) {
            existing = i;
            break;
          }
        }
        if (existing < 0) {
          keys.push(resolved);
          if (trace) trace.templates.set(`k:${key}`, { template: rule.template.source, mappingId });
        } else {
          const kept = keys[existing];
          if (ACTION_STRENGTH[resolved.action] > ACTION_STRENGTH[kept.action]) {
            keys[existing] = { ...resolved, tombstoneTtlSeconds: Math.max(kept.tombstoneTtlSeconds, resolved.tombstoneTtlSeconds) };
            if (trace) trace.templates.set(`k:${key}`, { template: rule.template.source, mappingId });
          } else if (resolved.tombstoneTtlSeconds > kept.tombstoneTtlSeconds) {
            keys[existing] = { ...kept, tombstoneTtlSeconds: resolved.tombstoneTtlSeconds };
          }
        }
      }
      for (const template of compiled.tags) {
        const tag = template.render(event);
        if (tag === undefined) {
          if (trace) trace.skipped.push({ mappingId, template: template.source, missingField: template.firstMissingField(event)! });
          continue;
        }
        if (!tags.includes(tag)) {
          tags.push(tag);
          if (trace) trace.templates.set(`t:${tag}`, { template: template.source, mappingId });
        }
        if (compiled.purgeTags) {
          purge ??= { tags: [], urls: [] };
          if (!purge.tags.includes(tag)) purge.tags.push(tag);
        }
      }
      for (const template of compiled.namespaces) {
        const namespace = template.render(event);
        if (namespace === undefined) {
          if (trace) trace.skipped.push({ mappingId, template: template.source, missingField: template.firstMissingField(event)! });
          continue;
        }
        if (!namespaces.some((n) => n.namespace === namespace)) {
          namespaces.push({ namespace, mappingId });
          if (trace) trace.templates.set(`n:${namespace}`, { template: template.source, mappingId });
        }
      }
      for (const template of compiled.purgeUrls) {
        const url = template.render(event);
        if (url === undefined) {
          if (trace) trace.skipped.push({ mappingId, template: template.source, missingField: template.firstMissingField(event)! });
          continue;
        }
        purge ??= { tags: [], urls: [] };
        if (!purge.urls.includes(url)) {
          purge.urls.push(url);
          if (trace) trace.templates.set(`u:${url}`, { template: template.source, mappingId });
        }
      }
    }
    if (group.maxFanout > this.limits.fanoutCap && keys.length + tags.length > this.limits.fanoutCap) {
      throw new RegistryError(
        'FANOUT_LIMIT',
        `event ${event.entityType}:${event.entityId} v${event.version} resolves to ${keys.length} keys + ${tags.length} tags, over the fan-out cap of ${this.limits.fanoutCap}`,
      );
    }
    const resolution: Resolution = { keys, tags };
    if (namespaces.length > 0) resolution.namespaces = namespaces;
    if (purge !== undefined) resolution.purge = purge;
    return resolution;
  }
}
