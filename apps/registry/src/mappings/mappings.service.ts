// The registry's use cases over the MappingStore: every change is checked (shape, templates,
// fan-out of the whole resulting set), authorised per team, and committed together with its
// audit entry. Reads come from this instance's copy of the topic.
import { Injectable } from '@nestjs/common';
import { EntityUpdated, validateEntityUpdated } from '@app/contracts';
import {
  diffMappings,
  diffMappingSets,
  Explanation,
  FieldChange,
  Mapping,
  MappingChange,
  MappingSetDiff,
  MappingSetResolver,
  MappingStore,
  RegistryError,
  validateMapping,
  validateMappingSet,
  WriteResult,
} from '@app/registry-core';
import { actorName, assertOwnTeam, isAdmin, Principal } from '../auth/team-tokens';
import { RegistryConfig } from '../config/registry.config';
import { AuditLog } from './audit-log';
import { ApplyRequestDto, ExplainRequestDto, ListMappingsQueryDto, PutMappingDto } from './requests.dto';

export interface PutOutcome {
  mapping: Mapping;
  created: boolean;
  changed: boolean;
}

export interface ApplyOutcome {
  dryRun: boolean;
  diff: MappingSetDiff;
}

function authorize(principal: Principal, change: Pick<MappingChange, 'id' | 'before' | 'after'>): void {
  assertOwnTeam(principal, `mapping "${change.id}"`, change);
}

/**
 * KEYSPACES_REQUIRED: until an admin has declared keyspaces, a team token may not create or
 * change team-owned records (mappings, source declarations): nothing would prove its keys, its
 * topics or its entity types are its own. Deletes stay allowed; admins bootstrap (declare
 * keyspaces, and may write records).
 */
export function assertKeyspacesDeclared(
  config: Pick<RegistryConfig, 'KEYSPACES_REQUIRED'>,
  store: Pick<MappingStore, 'keyspaces'>,
  principal: Principal,
  what: 'mappings' | 'source declarations',
): void {
  if (!config.KEYSPACES_REQUIRED || isAdmin(principal) || store.keyspaces().enforced) return;
  throw new RegistryError(
    'KEYSPACES_REQUIRED',
    `no keyspace (key prefix / entity type ownership) is declared yet and KEYSPACES_REQUIRED=true: team "${principal.team}" may not write ${what} until an admin declares keyspaces (POST /keyspaces/apply, or npm run mappings -- keyspaces-apply)`,
  );
}

@Injectable()
export class MappingsService {
  constructor(
    private readonly store: MappingStore,
    private readonly audit: AuditLog,
    private readonly config: RegistryConfig,
  ) {}

  list(query: ListMappingsQueryDto): Mapping[] {
    this.store.current(); // 503 until the whole set is loaded
    return this.store
      .list()
      .filter(
        (m) =>
          (query.entityType === undefined || m.entityType === query.entityType) && (query.owner === undefined || m.owner === query.owner),
      )
      .filter((m) => query.tenant === undefined || m.tenant === query.tenant);
  }

  get(id: string): Mapping {
    this.store.current();
    const mapping = this.store.get(id);
    if (!mapping) throw new RegistryError('MAPPING_NOT_FOUND', `mapping "${id}" does not exist`);
    return mapping;
  }

  async put(id: string, body: PutMappingDto, principal: Principal, ifMatch?: number): Promise<PutOutcome> {
    if (body.id !== undefined && body.id !== id)
      throw new RegistryError('REQUEST_INVALID', `body id "${body.id}" differs from the path id "${id}"`, 'id');
    const { version, updatedAt: _at, updatedBy: _by, ...spec } = body;
    const mapping = { ...spec, id, version: 0 } as Mapping;
    // Team check before content checks: another team's mapping is not theirs to probe.
    authorize(principal, { id, before: this.store.get(id), after: mapping });
    const result = await this.write([{ op: 'put', mapping, expectedVersion: ifMatch ?? version }], principal);
    const stored = this.store.get(id)!;
    return { mapping: stored, created: result.changes[0]?.kind === 'create', changed: result.changes.length > 0 };
  }

  async delete(id: string, principal: Principal, ifMatch?: number): Promise<void> {
    this.get(id);
    await this.write([{ op: 'delete', id, expectedVersion: ifMatch }], principal);
  }

  /** Full check of a candidate mapping against the stored set; nothing is saved. */
  validate(body: unknown): { valid: true; mapping: Mapping; changes: FieldChange[] } {
    const checked = validateMapping(body, this.store.limits);
    if (!checked.mapping) throw RegistryError.fromViolations(checked.violations);
    const current = this.store.current().mappings();
    const next = new Map(current.map((m) => [m.id, m]));
    next.set(checked.mapping.id, checked.mapping);
    MappingSetResolver.compile(next.values(), {
      limits: this.store.limits,
      mode: 'strict',
      keyspaces: this.store.keyspaces(),
      written: new Set([checked.mapping.id]),
    });
    this.store.assertMappingAllowed(checked.mapping);
    return { valid: true, mapping: checked.mapping, changes: diffMappings(this.store.get(checked.mapping.id), checked.mapping) };
  }

  explain(body: ExplainRequestDto): Explanation {
    const violations = validateEntityUpdated(body.event);
    if (violations.length > 0) {
      throw RegistryError.fromViolations(
        violations.map((v) => ({ field: v.field === '(root)' ? 'event' : `event.${v.field}`, code: 'EVENT_INVALID', message: v.message })),
      );
    }
    let resolver = this.store.current();
    if (body.mappings && body.mappings.length > 0) {
      const candidates = validateMappingSet(body.mappings, this.store.limits);
      const merged = new Map(resolver.mappings().map((m) => [m.id, m]));
      for (const m of candidates) merged.set(m.id, m);
      resolver = MappingSetResolver.compile(merged.values(), {
        limits: this.store.limits,
        mode: 'strict',
        keyspaces: this.store.keyspaces(),
        allowedHosts: this.store.allowedHosts,
      });
    }
    return resolver.explain(body.event as EntityUpdated);
  }

  /** GitOps: make the stored mappings of the file's owners equal to the file. */
  async apply(body: ApplyRequestDto, principal: Principal): Promise<ApplyOutcome> {
    const desired = validateMappingSet(body.mappings, this.store.limits);
    const owners = new Set(body.pruneOwners ?? desired.map((m) => m.owner));
    // A team applies its own file only: every mapping and every pruned owner must be its own,
    // even when that part of the file would change nothing.
    const foreign = [...new Set([...desired.map((m) => m.owner), ...owners])].filter(
      (owner) => !isAdmin(principal) && owner !== principal.team,
    );
    if (foreign.length > 0) {
      throw new RegistryError(
        'WRONG_TEAM',
        `team "${principal.team}" may only apply mappings it owns (the request names owner(s) ${foreign.map((o) => `"${o}"`).join(', ')})`,
        'mappings',
      );
    }
    const diff = diffMappingSets(this.store.current().mappings(), desired, { prune: body.prune === false ? 'none' : owners });
    const intents = [
      ...diff.added.map((mapping) => ({ op: 'put' as const, mapping })),
      ...diff.changed.map((c) => ({ op: 'put' as const, mapping: c.after })),
      ...diff.removed.map((m) => ({ op: 'delete' as const, id: m.id })),
    ];
    for (const intent of intents) {
      const id = intent.op === 'put' ? intent.mapping.id : intent.id;
      authorize(principal, { id, before: this.store.get(id), after: intent.op === 'put' ? intent.mapping : undefined });
    }
    await this.write(intents, principal, body.dryRun === true);
    return { dryRun: body.dryRun === true, diff };
  }

  private async write(intents: Parameters<MappingStore['write']>[0], principal: Principal, dryRun = false): Promise<WriteResult> {
    this.store.current(); // 503 until loaded: the keyspaces are known only then
    if (intents.some((i) => i.op === 'put')) assertKeyspacesDeclared(this.config, this.store, principal, 'mappings');
    const result = await this.store.write(intents, {
      actor: actorName(principal),
      dryRun,
      authorize: (change) => authorize(principal, change),
      sideRecords: (changes) => this.audit.recordsFor(changes, principal),
    });
    if (result.offsets.length > 0) await this.audit.waitForWrite(result.offsets);
    return result;
  }
}
