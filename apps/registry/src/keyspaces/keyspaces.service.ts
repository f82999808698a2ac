// Key prefix and entity type ownership: admin tokens only; each change is one Kafka transaction
// with its audit entry (MappingStore.writeKeyspaces), like mapping changes.
import { Injectable } from '@nestjs/common';
import {
  EntityTypeOwnership,
  entityTypeRecordKey,
  KeyspaceChange,
  KeyspaceIntent,
  KeyspaceRecord,
  MappingStore,
  PrefixOwnership,
  prefixRecordKey,
  RegistryError,
} from '@app/registry-core';
import { actorName, isAdmin, Principal } from '../auth/team-tokens';
import { RegistryConfig } from '../config/registry.config';
import { AuditLog } from '../mappings/audit-log';
import { ApplyKeyspacesDto, PutEntityTypeDto, PutPrefixDto } from './keyspaces.dto';

export interface KeyspacesView {
  /** On as soon as one prefix or entity type is declared (bootstrap rule). */
  enforced: boolean;
  /** KEYSPACES_REQUIRED: while none is declared, team tokens may not write mappings. */
  required: boolean;
  prefixes: PrefixOwnership[];
  entityTypes: EntityTypeOwnership[];
}

export function requireAdmin(principal: Principal, what: string): void {
  if (isAdmin(principal)) return;
  throw new RegistryError('ADMIN_ONLY', `${what} needs an admin token (team "*"); team "${principal.team}" may not change key prefix or entity type ownership`);
}

@Injectable()
export class KeyspacesService {
  constructor(
    private readonly store: MappingStore,
    private readonly audit: AuditLog,
    private readonly config: RegistryConfig,
  ) {}

  view(): KeyspacesView {
    this.store.current(); // 503 until loaded
    const keyspaces = this.store.keyspaces();
    return { enforced: keyspaces.enforced, required: this.config.KEYSPACES_REQUIRED, prefixes: keyspaces.prefixes(), entityTypes: keyspaces.entityTypes() };
  }

  async putPrefix(prefix: string, body: PutPrefixDto, principal: Principal): Promise<{ record: KeyspaceRecord; created: boolean }> {
    requireAdmin(principal, 'PUT /keyspaces/prefixes');
    const record: PrefixOwnership = { kind: 'prefix', prefix, team: body.team, version: 0 };
    return this.putOne(record, principal);
  }

  async putEntityType(entityType: string, body: PutEntityTypeDto, principal: Principal): Promise<{ record: KeyspaceRecord; created: boolean }> {
    requireAdmin(principal, 'PUT /keyspaces/entity-types');
    const current = this.store.keyspaces().entityType(entityType);
    const record: EntityTypeOwnership = { kind: 'entityType', entityType, team: body.team, grants: body.grants ?? current?.grants ?? [], version: 0 };
    return this.putOne(record, principal);
  }

  async grant(entityType: string, team: string, principal: Principal): Promise<KeyspaceRecord> {
    requireAdmin(principal, 'PUT /keyspaces/entity-types/:type/grants/:team');
    const current = this.entityTypeOrThrow(entityType);
    return (await this.putOne({ ...current, grants: [...current.grants, team] }, principal)).record;
  }

  async revoke(entityType: string, team: string, principal: Principal): Promise<void> {
    requireAdmin(principal, 'DELETE /keyspaces/entity-types/:type/grants/:team');
    const current = this.entityTypeOrThrow(entityType);
    if (!current.grants.includes(team)) throw new RegistryError('KEYSPACE_NOT_FOUND', `entity type "${entityType}" is not granted to team "${team}"`);
    await this.putOne({ ...current, grants: current.grants.filter((g) => g !== team) }, principal);
  }

  async deletePrefix(prefix: string, principal: Principal): Promise<void> {
    requireAdmin(principal, 'DELETE /keyspaces/prefixes');
    await this.write([{ op: 'delete', key: prefixRecordKey(prefix) }], principal);
  }

  async deleteEntityType(entityType: string, principal: Principal): Promise<void> {
    requireAdmin(principal, 'DELETE /keyspaces/entity-types');
    await this.write([{ op: 'delete', key: entityTypeRecordKey(entityType) }], principal);
  }

  /** Declares many at once (one transaction): how an existing registry turns enforcement on. Never removes anything. */
  async apply(body: ApplyKeyspacesDto, principal: Principal): Promise<{ dryRun: boolean; changes: KeyspaceChange[]; unchanged: string[] }> {
    requireAdmin(principal, 'POST /keyspaces/apply');
    const intents: KeyspaceIntent[] = [
      ...(body.prefixes ?? []).map((p) => ({ op: 'put' as const, record: { kind: 'prefix' as const, prefix: p.prefix, team: p.team, version: 0 } })),
      ...(body.entityTypes ?? []).map((t) => ({
        op: 'put' as const,
        record: { kind: 'entityType' as const, entityType: t.entityType, team: t.team, grants: t.grants ?? this.store.keyspaces().entityType(t.entityType)?.grants ?? [], version: 0 },
      })),
    ];
    const result = await this.write(intents, principal, body.dryRun === true);
    return { dryRun: body.dryRun === true, changes: result.changes, unchanged: result.unchanged };
  }

  private entityTypeOrThrow(entityType: string): EntityTypeOwnership {
    this.store.current();
    const current = this.store.keyspaces().entityType(entityType);
    if (!current) throw new RegistryError('KEYSPACE_NOT_FOUND', `entity type "${entityType}" is not declared (PUT /keyspaces/entity-types/${entityType} first)`);
    return current;
  }

  private async putOne(record: KeyspaceRecord, principal: Principal): Promise<{ record: KeyspaceRecord; created: boolean }> {
    const result = await this.write([{ op: 'put', record }], principal);
    const key = result.changes[0]?.key ?? result.unchanged[0];
    const stored = this.store.keyspaces().prefixes().find((p) => prefixRecordKey(p.prefix) === key) ?? this.store.keyspaces().entityTypes().find((t) => entityTypeRecordKey(t.entityType) === key);
    return { record: stored!, created: result.changes[0]?.kind === 'create' };
  }

  private async write(intents: KeyspaceIntent[], principal: Principal, dryRun = false) {
    const result = await this.store.writeKeyspaces(intents, {
      actor: actorName(principal),
      dryRun,
      sideRecords: (changes) => this.audit.recordsForKeyspaces(changes, principal),
    });
    if (result.offsets.length > 0) await this.audit.waitForWrite(result.offsets);
    return result;
  }
}
