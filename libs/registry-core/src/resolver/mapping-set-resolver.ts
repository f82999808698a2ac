// A compiled, immutable mapping set: resolve(event) is the invalidator's hot path. A change to
// the set compiles a new resolver and swaps it in whole (never mutated while in use).
//
// Which mappings apply: all mappings of the event's entityType without a tenant, plus those
// whose tenant equals the event's tenant (union; a tenant mapping adds keys, it does not hide
// the generic ones, because an extra invalidation is safe and a missing one is not).
//
// Isolation by mapping: each mapping's part of an event is rendered and checked on its own. A
// mapping whose part cannot be applied (a value that would widen a key, a mapping outside its
// team's keyspaces, a refused URL, a part that would push the event over the fan-out cap)
// contributes nothing and is listed in `failed`; every other mapping's part is applied. So one
// team's mapping can never stop another team's invalidation. The entity type owner's mappings
// come first, so a granted team can never push the owner's part over the fan-out cap.
import type { EntityUpdated } from '@app/contracts';
import { stringifyExactJson } from '@app/contracts';
import { RegistryError, RegistryErrorCode, isRegistryError, Violation } from '../errors';
import { RegistryLimits, registryLimits } from '../limits';
import { Keyspaces } from '../keyspace/keyspaces';
import {
  CompiledMapping,
  compileMapping,
  mappingFanout,
  mappingUrlViolations,
  NO_URL_ALLOW_LISTS,
  UrlAllowLists,
} from '../mapping/compile-mapping';
import { checkTargetUrl, TargetUrlError } from '../url/target-url';
import type {
  FailedMapping,
  Mapping,
  MappingKeyAction,
  MappingPurge,
  MappingResolver,
  Resolution,
  ResolveChecks,
  ResolvedKey,
  ResolvedNamespace,
} from '../types';
import type { ExplainedKey, ExplainedNamespace, ExplainedTag, Explanation, SkippedTemplate } from './explanation';

interface EntityGroup {
  /** Mappings without tenant: used for events without a tenant or of a tenant with no own mapping. */
  readonly generic: readonly CompiledMapping[];
  /** tenant -> generic + that tenant's mappings. */
  readonly byTenant: ReadonlyMap<string, readonly CompiledMapping[]>;
  /** Upper bound of keys + tags + namespaces + purge URLs over all lists; when <= cap the per-event count check is skipped. */
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
   * kept but marked foreign (in both modes): for every event it matches, resolve() lists it in
   * `failed` (FOREIGN_KEYSPACE) and none of its keys is touched; the other mappings' parts are
   * applied. Registry writes refuse such mappings before they are stored.
   */
  keyspaces?: Keyspaces;
  /**
   * KEYSPACES_REQUIRED: while no keyspace is declared (keyspaces not enforced), every mapping is
   * refused like a foreign one (resolve() lists it in `failed` with code KEYSPACES_REQUIRED for
   * every event it matches), so no team's mapping is applied before the operator has declared who
   * owns what.
   */
  keyspacesRequired?: boolean;
  /**
   * The operator's LOADER_ALLOWED_HOSTS / PURGE_ALLOWED_HOSTS (default: none). A mapping whose
   * loader or purge URL template names a host they do not allow (internal, loopback, metadata,
   * empty or dots) is kept but refused like a foreign one (TEMPLATE_UNSAFE_URL); every rendered
   * loader and purge URL is checked again (checkTargetUrl) before it is handed out.
   */
  allowedHosts?: UrlAllowLists;
  /**
   * strict mode, a registry write: the ids of the mappings being written. The fan-out cap of an
   * entity type is then enforced against them only: the lists are in resolve order (the entity
   * type owner's mappings first), and the write is refused when one of its mappings falls beyond
   * the cap in that order. So a granted team that filled the budget first cannot lock the owner
   * out of its own mappings (the grantee's parts past the cap are dead-lettered FANOUT_LIMIT at
   * resolve time), while a grantee's write that goes past the cap is refused. Absent, or an entity
   * type without a declared owner: any list over the cap is refused.
   */
  written?: ReadonlySet<string>;
}

interface Trace {
  templates: Map<string, { template: string; mappingId: string }>;
  skipped: SkippedTemplate[];
  notes: Map<string, string>;
}

/** One mapping's part of one event, rendered and checked before it is merged with the others. */
interface MappingPart {
  compiled: CompiledMapping;
  keys: ResolvedKey[];
  tags: string[];
  namespaces: string[];
  urls: string[];
  /** explain() only: where each rendered value came from. */
  trace?: PartTrace;
}

/** Source template per key, tag, namespace and URL (same order as the rendered lists), and notes per key. */
interface PartTrace {
  keyTemplates: string[];
  tagTemplates: string[];
  namespaceTemplates: string[];
  urlTemplates: string[];
  notes: [string, string][];
}

/**
 * The list of a mapping with no template of that kind: shared, never written to (a rendered
 * value is only pushed for a template). Saves two to four arrays per mapping per event on the
 * invalidator's hot path.
 */
const NONE: string[] = Object.freeze([]) as unknown as string[];
const NO_NAMESPACES: ResolvedNamespace[] = Object.freeze([]) as unknown as ResolvedNamespace[];

// Which action a key keeps when two rules of ONE event name it (merge): the higher rank, the
// safer effect. tombstone > delete > warm: a key one rule drops is never warmed, and a
// tombstone also guards against a stale fill. Across the events of one entity in a chunk the
// invalidator ranks the other way round (its SAME_ENTITY_EVENTS_RANK: the newest event's warm wins).
const SAFER_ACTION_RANK: Record<MappingKeyAction, number> = { warm: 0, delete: 1, tombstone: 2 };

/** Upper bound of an event's effects over `list`: keys + tags + namespaces + purge URLs (mappingFanout). */
function fanoutOf(list: readonly CompiledMapping[]): number {
  return list.reduce((sum, m) => sum + mappingFanout(m.mapping), 0);
}

/**
 * Does a written mapping fall beyond the cap in `list`'s order (owner first)? Without `written`,
 * or without a known owner (no order that favours anyone), any list over the cap counts.
 */
function writtenBeyondCap(
  list: readonly CompiledMapping[],
  cap: number,
  written: ReadonlySet<string> | undefined,
  owner: string | undefined,
): boolean {
  if (written === undefined || owner === undefined) return true;
  let sum = 0;
  for (const m of list) {
    sum += mappingFanout(m.mapping);
    if (sum > cap && written.has(m.mapping.id)) return true;
  }
  return false;
}

function keyspacesRequiredError(mapping: Mapping): RegistryError {
  return new RegistryError(
    'KEYSPACES_REQUIRED',
    `mapping "${mapping.id}" (owner "${mapping.owner}"): no keyspace (key prefix / entity type ownership) is declared and KEYSPACES_REQUIRED=true, so no team's mapping is applied until an admin declares keyspaces`,
  );
}

/** The entity type owner's mappings first (then by id): they are merged, and counted against the fan-out cap, first. */
function ownerFirst(list: CompiledMapping[], owner: string | undefined): CompiledMapping[] {
  if (owner === undefined) return list;
  return [...list.filter((m) => m.mapping.owner === owner), ...list.filter((m) => m.mapping.owner !== owner)];
}

/** A key or tag the consumer's checks (ResolveChecks) refuse: fails the mapping's part, code from the check's error. */
class CheckRefusal extends Error {
  readonly code: string;
  constructor(
    cause: Error,
    readonly field: string,
  ) {
    super(cause.message, { cause });
    const code = (cause as { code?: unknown }).code;
    this.code = typeof code === 'string' && code !== '' ? code : 'KEY_REFUSED';
  }
}

/** One error for every violation of a mapping, the first one's code and field first. */
function refusal(mapping: Mapping, violations: Violation[]): RegistryError {
  const message = `mapping "${mapping.id}" (owner "${mapping.owner}"): ${violations.map((v) => `${v.field}: ${v.message}`).join('; ')}`;
  return new RegistryError(violations[0].code, message, violations[0].field, violations);
}

function failure(compiled: CompiledMapping, error: Error & { code?: string; field?: string }): FailedMapping {
  const failed: FailedMapping = {
    mappingId: compiled.mapping.id,
    owner: compiled.mapping.owner,
    code: error.code ?? 'KEY_REFUSED',
    message: error.message,
  };
  if (error.field !== undefined) failed.field = error.field;
  return failed;
}

export class MappingSetResolver implements MappingResolver {
  readonly mappingCount: number;

  private constructor(
    private readonly index: ReadonlyMap<string, EntityGroup>,
    private readonly compiled: readonly CompiledMapping[],
    readonly rejected: readonly RejectedMapping[],
    readonly limits: RegistryLimits,
    readonly keyspaces: Keyspaces = Keyspaces.NONE,
    /** Mappings refused as a whole (outside their owner's keyspaces, or a URL host not allowed): listed in `failed` for every event they match. */
    private readonly foreign: ReadonlyMap<CompiledMapping, RegistryError> = new Map(),
    private readonly allowedHosts: UrlAllowLists = NO_URL_ALLOW_LISTS,
  ) {
    this.mappingCount = compiled.length;
  }

  static empty(limits: RegistryLimits = registryLimits()): MappingSetResolver {
    return new MappingSetResolver(new Map(), [], [], limits);
  }

  static compile(mappings: Iterable<Mapping>, options: CompileSetOptions = {}): MappingSetResolver {
    const limits = options.limits ?? registryLimits();
    const strict = (options.mode ?? 'strict') === 'strict';
    const keyspaces = options.keyspaces ?? Keyspaces.NONE;
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
      const owner = keyspaces.enforced ? keyspaces.entityType(entityType)?.team : undefined;
      const ofType = compiled.filter((m) => m.mapping.entityType === entityType);
      const generic = ownerFirst(
        ofType.filter((m) => m.mapping.tenant === undefined),
        owner,
      );
      const byTenant = new Map<string, CompiledMapping[]>();
      for (const m of ofType) {
        if (m.mapping.tenant !== undefined && !byTenant.has(m.mapping.tenant)) {
          byTenant.set(m.mapping.tenant, ownerFirst([...generic, ...ofType.filter((o) => o.mapping.tenant === m.mapping.tenant)], owner));
        }
      }
      const lists: [string, readonly CompiledMapping[]][] = [
        ['(any tenant)', generic],
        ...[...byTenant].map(([t, l]) => [`tenant ${t}`, l] as [string, CompiledMapping[]]),
      ];
      let maxFanout = 0;
      for (const [scope, list] of lists) {
        const fanout = fanoutOf(list);
        maxFanout = Math.max(maxFanout, fanout);
        if (strict && fanout > limits.fanoutCap && writtenBeyondCap(list, limits.fanoutCap, options.written, owner)) {
          throw new RegistryError(
            'FANOUT_LIMIT',
            `entityType "${entityType}", ${scope}: mappings ${list.map((m) => m.mapping.id).join(', ')} together resolve up to ${fanout} keys + tags + namespaces + purge URLs per event, over the fan-out cap of ${limits.fanoutCap}`,
            'keys',
          );
        }
      }
      index.set(entityType, { generic, byTenant, maxFanout });
    }
    const allowedHosts = options.allowedHosts ?? NO_URL_ALLOW_LISTS;
    const foreign = new Map<CompiledMapping, RegistryError>();
    for (const m of compiled) {
      // URL hygiene first (never allowed for anyone), then the team's keyspaces.
      const violations = [...mappingUrlViolations(m.mapping, allowedHosts), ...keyspaces.mappingViolations(m.mapping)];
      if (violations.length > 0) foreign.set(m, refusal(m.mapping, violations));
      // KEYSPACES_REQUIRED: while no keyspace is declared, no team's mapping is trusted.
      else if (!keyspaces.enforced && options.keyspacesRequired) foreign.set(m, keyspacesRequiredError(m.mapping));
    }
    return new MappingSetResolver(index, compiled, rejected, limits, keyspaces, foreign, allowedHosts);
  }

  /** Mappings refused as a whole, with why (FOREIGN_KEYSPACE outside their owner's keyspaces, TEMPLATE_UNSAFE_URL for a URL host not allowed). */
  foreignMappings(): RejectedMapping[] {
    return [...this.foreign].map(([m, error]) => ({ id: m.mapping.id, error }));
  }

  hasEntityType(entityType: string): boolean {
    return this.index.has(entityType);
  }

  mappings(): Mapping[] {
    return this.compiled.map((m) => m.mapping);
  }

  resolve(event: EntityUpdated, checks?: ResolveChecks): Resolution {
    return this.run(event, undefined, checks);
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
      failed: [],
      fanout: 0,
      fanoutCap: this.limits.fanoutCap,
      keyspacesEnforced: this.keyspaces.enforced,
    };
    let resolution: Resolution;
    try {
      resolution = this.run(event, trace, undefined);
    } catch (error) {
      if (!isRegistryError(error)) throw error;
      return {
        ...base,
        outcome: 'rejected',
        skipped: trace.skipped,
        error: { code: error.code, message: error.message, field: error.field },
      };
    }
    for (const k of resolution.keys) {
      const origin = trace.templates.get(`k:${k.key}`)!;
      const explained: ExplainedKey = {
        key: k.key,
        mappingId: k.mappingId,
        template: origin.template,
        tombstoneTtlSeconds: k.tombstoneTtlSeconds,
      };
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
      base.purge = {
        tags: resolution.purge.tags,
        urls: resolution.purge.urls.map((url) => ({ url, ...trace.templates.get(`u:${url}`)! })),
      };
    }
    base.skipped = trace.skipped;
    base.failed = resolution.failed ?? [];
    if (base.failed.length > 0) {
      // Every matching mapping failed: nothing is applied, the event is dead-lettered (once per mapping).
      const all = base.failed.length === list.length;
      base.outcome = all ? 'rejected' : 'partial';
      if (all)
        base.error = { code: base.failed[0].code as RegistryErrorCode, message: base.failed[0].message, field: base.failed[0].field };
    }
    base.fanout =
      resolution.keys.length +
      resolution.tags.length +
      (resolution.namespaces?.length ?? 0) +
      (resolution.purges ?? []).reduce((n, p) => n + p.urls.length, 0);
    return base;
  }

  private mappingsFor(event: EntityUpdated): readonly CompiledMapping[] {
    const group = this.index.get(event.entityType);
    if (group === undefined) return [];
    return (event.tenant !== undefined ? group.byTenant.get(event.tenant) : undefined) ?? group.generic;
  }

  /** One mapping's part of the event; throws (RegistryError or a check's error) when it cannot be applied. */
  private renderPart(
    compiled: CompiledMapping,
    event: EntityUpdated,
    trace: Trace | undefined,
    checks: ResolveChecks | undefined,
    afterJson: { value?: string },
  ): MappingPart {
    const mappingId = compiled.mapping.id;
    const part: MappingPart = {
      compiled,
      keys: [],
      tags: compiled.tags.length > 0 ? [] : NONE,
      namespaces: compiled.namespaces.length > 0 ? [] : NONE,
      urls: compiled.purgeUrls.length > 0 ? [] : NONE,
    };
    let partTrace: PartTrace | undefined;
    if (trace) part.trace = partTrace = { keyTemplates: [], tagTemplates: [], namespaceTemplates: [], urlTemplates: [], notes: [] };
    for (let ruleIndex = 0; ruleIndex < compiled.keys.length; ruleIndex++) {
      const rule = compiled.keys[ruleIndex];
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
          else value = afterJson.value ??= stringifyExactJson(event.after);
        } else {
          loaderUrl = rule.loaderUrl!.render(event);
          if (loaderUrl === undefined) action = 'tombstone';
          else this.checkRenderedUrl(loaderUrl, compiled.mapping.owner, 'loader', `keys[${ruleIndex}].warmFrom.loaderUrl`);
        }
        if (partTrace && action === 'tombstone') {
          partTrace.notes.push([
            key,
            rule.warmFromAfter
              ? 'warm rule, but the event has no `after`: tombstoned instead'
              : 'warm rule, but the loader URL lacks a field: tombstoned instead',
          ]);
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
      if (loaderUrl !== undefined) resolved.team = compiled.mapping.owner;
      const problem = checks?.key?.(resolved);
      if (problem) throw new CheckRefusal(problem, `keys`);
      part.keys.push(resolved);
      partTrace?.keyTemplates.push(rule.template.source);
    }
    for (const template of compiled.tags) {
      const tag = template.render(event);
      if (tag === undefined) {
        if (trace) trace.skipped.push({ mappingId, template: template.source, missingField: template.firstMissingField(event)! });
        continue;
      }
      const problem = checks?.tag?.(tag);
      if (problem) throw new CheckRefusal(problem, 'tags');
      part.tags.push(tag);
      partTrace?.tagTemplates.push(template.source);
    }
    for (const template of compiled.namespaces) {
      const namespace = template.render(event);
      if (namespace === undefined) {
        if (trace) trace.skipped.push({ mappingId, template: template.source, missingField: template.firstMissingField(event)! });
        continue;
      }
      part.namespaces.push(namespace);
      partTrace?.namespaceTemplates.push(template.source);
    }
    for (let i = 0; i < compiled.purgeUrls.length; i++) {
      const template = compiled.purgeUrls[i];
      const url = template.render(event);
      if (url === undefined) {
        if (trace) trace.skipped.push({ mappingId, template: template.source, missingField: template.firstMissingField(event)! });
        continue;
      }
      this.checkRenderedUrl(url, compiled.mapping.owner, 'purge', `purge.urls[${i}]`);
      part.urls.push(url);
      partTrace?.urlTemplates.push(template.source);
    }
    return part;
  }

  /**
   * A rendered loader or purge URL, as fetch and the CDN adapters will parse it: its host must be
   * allowed (checkTargetUrl with the operator's allow-list) and, with keyspaces, one of the team's.
   * The templates were checked at compile time; this holds whatever the values rendered into.
   */
  private checkRenderedUrl(url: string, team: string, which: 'loader' | 'purge', field: string): void {
    let host: string;
    try {
      host = checkTargetUrl(url, this.allowedHosts[which]).host;
    } catch (error) {
      if (error instanceof TargetUrlError) throw new RegistryError('TEMPLATE_UNSAFE_URL', `${which} URL ${error.message}`, field);
      throw error;
    }
    if (!this.keyspaces.enforced) return;
    const problem = this.keyspaces.hostProblem(host, team, which);
    if (problem) throw new RegistryError('FOREIGN_KEYSPACE', `${which} URL "${url}": ${problem}`, field);
  }

  private run(event: EntityUpdated, trace: Trace | undefined, checks: ResolveChecks | undefined): Resolution {
    const group = this.index.get(event.entityType);
    if (group === undefined) return { keys: [], tags: [] };
    const list = (event.tenant !== undefined ? group.byTenant.get(event.tenant) : undefined) ?? group.generic;
    const keys: ResolvedKey[] = [];
    const tags: string[] = [];
    // Allocated by the first mapping that has some (most events have none).
    let namespaces: ResolvedNamespace[] = NO_NAMESPACES;
    let purges: MappingPurge[] | undefined;
    let failed: FailedMapping[] | undefined;
    const afterJson: { value?: string } = {};
    const capped = group.maxFanout > this.limits.fanoutCap;
    /** Purge URLs of the parts merged so far (each mapping's are sent on their own). */
    let purgeUrls = 0;

    for (const compiled of list) {
      const refused = this.foreign.get(compiled);
      if (refused) {
        (failed ??= []).push(failure(compiled, refused));
        continue;
      }
      let part: MappingPart;
      try {
        part = this.renderPart(compiled, event, trace, checks, afterJson);
      } catch (error) {
        if (!isRegistryError(error) && !(error instanceof CheckRefusal)) throw error;
        (failed ??= []).push(failure(compiled, error));
        continue;
      }
      // Fan-out is a sum over mappings: a part that would push the event over the cap fails alone.
      if (capped) {
        const newKeys = new Set(part.keys.map((k) => k.key).filter((k) => !keys.some((o) => o.key === k)));
        const newNamespaces = new Set(part.namespaces.filter((n) => !namespaces.some((o) => o.namespace === n)));
        const added =
          newKeys.size + new Set(part.tags.filter((t) => !tags.includes(t))).size + newNamespaces.size + new Set(part.urls).size;
        const total = keys.length + tags.length + namespaces.length + purgeUrls + added;
        if (total > this.limits.fanoutCap) {
          (failed ??= []).push({
            mappingId: compiled.mapping.id,
            owner: compiled.mapping.owner,
            code: 'FANOUT_LIMIT',
            message: `event ${event.entityType}:${event.entityId} v${event.version}: mapping "${compiled.mapping.id}" would bring it to ${total} keys + tags + namespaces + purge URLs, over the fan-out cap of ${this.limits.fanoutCap} (the entity type owner's mappings count first)`,
            field: 'keys',
          });
          continue;
        }
      }
      if (part.namespaces.length > 0 && namespaces === NO_NAMESPACES) namespaces = [];
      this.merge(part, keys, tags, namespaces, trace);
      if (part.urls.length === 0 && !(compiled.purgeTags && part.tags.length > 0)) continue;
      const urls = [...new Set(part.urls)];
      purgeUrls += urls.length;
      const purgeTags = compiled.purgeTags ? [...new Set(part.tags)] : [];
      (purges ??= []).push({ mappingId: compiled.mapping.id, team: compiled.mapping.owner, tags: purgeTags, urls });
    }
    const resolution: Resolution = { keys, tags };
    if (namespaces.length > 0) resolution.namespaces = namespaces;
    if (purges) {
      resolution.purges = purges;
      const merged = { tags: [] as string[], urls: [] as string[] };
      for (const p of purges) {
        for (const tag of p.tags) if (!merged.tags.includes(tag)) merged.tags.push(tag);
        for (const url of p.urls) if (!merged.urls.includes(url)) merged.urls.push(url);
      }
      resolution.purge = merged;
    }
    if (failed) resolution.failed = failed;
    if (checks) resolution.checked = true;
    return resolution;
  }

  /** Adds one accepted part to the event's resolution (a key named twice keeps the safer action, the longer guard). */
  private merge(part: MappingPart, keys: ResolvedKey[], tags: string[], namespaces: ResolvedNamespace[], trace: Trace | undefined): void {
    const mappingId = part.compiled.mapping.id;
    // part.trace is set exactly when trace is (renderPart).
    const templates = part.trace;
    for (let i = 0; i < part.keys.length; i++) {
      const resolved = part.keys[i];
      const key = resolved.key;
      let existing = -1;
      for (let j = 0; j < keys.length; j++) {
        if (keys[j].key === key) {
          existing = j;
          break;
        }
      }
      if (existing < 0) {
        keys.push(resolved);
        if (trace && templates) trace.templates.set(`k:${key}`, { template: templates.keyTemplates[i], mappingId });
      } else {
        const kept = keys[existing];
        if (SAFER_ACTION_RANK[resolved.action] > SAFER_ACTION_RANK[kept.action]) {
          keys[existing] = { ...resolved, tombstoneTtlSeconds: Math.max(kept.tombstoneTtlSeconds, resolved.tombstoneTtlSeconds) };
          if (trace && templates) trace.templates.set(`k:${key}`, { template: templates.keyTemplates[i], mappingId });
        } else if (resolved.tombstoneTtlSeconds > kept.tombstoneTtlSeconds) {
          keys[existing] = { ...kept, tombstoneTtlSeconds: resolved.tombstoneTtlSeconds };
        }
      }
    }
    for (let i = 0; i < part.tags.length; i++) {
      const tag = part.tags[i];
      if (tags.includes(tag)) continue;
      tags.push(tag);
      if (trace && templates) trace.templates.set(`t:${tag}`, { template: templates.tagTemplates[i], mappingId });
    }
    for (let i = 0; i < part.namespaces.length; i++) {
      const namespace = part.namespaces[i];
      if (namespaces.some((n) => n.namespace === namespace)) continue;
      namespaces.push({ namespace, mappingId });
      if (trace && templates) trace.templates.set(`n:${namespace}`, { template: templates.namespaceTemplates[i], mappingId });
    }
    if (trace && templates) {
      part.urls.forEach((url, i) => {
        if (!trace.templates.has(`u:${url}`)) trace.templates.set(`u:${url}`, { template: templates.urlTemplates[i], mappingId });
      });
      for (const [key, note] of templates.notes) trace.notes.set(key, note);
    }
  }
}
