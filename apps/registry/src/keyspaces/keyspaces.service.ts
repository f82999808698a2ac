// Key prefix, entity type and change topic ownership, and each team's hosts (loader hosts, purge
// hosts, surrogate-key prefixes): admin tokens only; each change is one Kafka transaction with its
// audit entry (MappingStore.writeKeyspaces), like mapping changes.
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
  TeamHosts,
  teamRecordKey,
  TopicOwnership,
  topicRecordKey,
} from '@app/registry-core';
import { actorName, isAdmin, Principal } from '../auth/team-tokens';
import { RegistryConfig } from '../config/registry.config';
import { AuditLog } from '../mappings/audit-log';
import { ApplyKeyspacesDto, PutEntityTypeDto, PutPrefixDto, PutTeamHostsDto } from './keyspaces.dto';

export interface KeyspacesView {
  /** On as soon as one prefix or entity type is declared (bootstrap rule). */
  enforced: boolean;
  /** KEYSPACES_REQUIRED: while none is declared, team tokens may not write mappings. */
  required: boolean;
  prefixes: PrefixOwnership[];
  entityTypes: EntityTypeOwnership[];
  /** Per team: loader hosts, purge hosts, surrogate-key prefixes. */
  teams: TeamHosts[];
  /** Change topics (CDC tables) and their teams: only that team may declare a topic's source. */
  topics: TopicOwnership[];
}

export function requireAdmin(principal: Principal, what: string): void {
  if (isAdmin(principal)) return;
  throw new RegistryError(
    'ADMIN_ONLY',
    `${what} needs an admin token (team "*"); team "${principal.team}" may not change key prefix, entity type or topic ownership, nor team hosts`,
  );
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
    return {
      enforced: keyspaces.enforced,
      required: this.config.KEYSPACES_REQUIRED,
      prefixes: keyspaces.prefixes(),
      entityTypes: keyspaces.entityTypes(),
      teams: keyspaces.teams(),
      topics: keyspaces.topics(),
    };
  }

  async putTopic(topic: string, body: PutPrefixDto, principal: Principal): Promise<{ record: KeyspaceRecord; created: boolean }> {
    requireAdmin(principal, 'PUT /keyspaces/topics');
    return this.putOne({ kind: 'topic', topic, team: body.team, version: 0 }, principal);
  }

  async deleteTopic(topic: string, principal: Principal): Promise<void> {
    requireAdmin(principal, 'DELETE /keyspaces/topics');
    await this.write([{ op: 'delete', key: topicRecordKey(topic) }], principal);
  }

  team(team: string): TeamHosts {
    this.store.current();
    const record = this.store.keyspaces().team(team);
    if (!record)
      throw new RegistryError(
        'KEYSPACE_NOT_FOUND',
        `team "${team}" has no hosts record (PUT /keyspaces/teams/${team} with an admin token)`,
      );
    return record;
  }

  async putTeam(team: string, body: PutTeamHostsDto, principal: Principal): Promise<{ record: KeyspaceRecord; created: boolean }> {
    requireAdmin(principal, 'PUT /keyspaces/teams');
    return this.putOne(this.teamRecord(team, body), principal);
  }

  async deleteTeam(team: string, principal: Principal): Promise<void> {
    requireAdmin(principal, 'DELETE /keyspaces/teams');
    await this.write([{ op: 'delete', key: teamRecordKey(team) }], principal);
  }

  /** A team record from a request: an absent list keeps the current one (none for a new team). */
  private teamRecord(team: string, body: PutTeamHostsDto): TeamHosts {
    const current = this.store.keyspaces().team(team);
    return {
      kind: 'team',
      team,
      loaderHosts: body.loaderHosts ?? current?.loaderHosts ?? [],
      purgeHosts: body.purgeHosts ?? current?.purgeHosts ?? [],
      surrogateKeyPrefixes: body.surrogateKeyPrefixes ?? current?.surrogateKeyPrefixes ?? [],
      version: 0,
    };
  }

  async putPrefix(prefix: string, body: PutPrefixDto, principal: Principal): Promise<{ record: KeyspaceRecord; created: boolean }> {
    requireAdmin(principal, 'PUT /keyspaces/prefixes');
    const record: PrefixOwnership = { kind: 'prefix', prefix, team: body.team, version: 0 };
    return this.putOne(record, principal);
  }

  async putEntityType(
    entityType: string,
    body: PutEntityTypeDto,
    principal: Principal,
  ): Promise<{ record: KeyspaceRecord; created: boolean }> {
    requireAdmin(principal, 'PUT /keyspaces/entity-types');
    const current = this.store.keyspaces().entityType(entityType);
    const record: EntityTypeOwnership = {
      kind: 'entityType',
      entityType,
      team: body.team,
      grants: body.grants ?? current?.grants ?? [],
      version: 0,
    };
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
    if (!current.grants.includes(team))
      throw new RegistryError('KEYSPACE_NOT_FOUND', `entity type "${entityType}" is not granted to team "${team}"`);
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
      ...(body.prefixes ?? []).map((p) => ({
        op: 'put' as const,
        record: { kind: 'prefix' as const, prefix: p.prefix, team: p.team, version: 0 },
      })),
      ...(body.entityTypes ?? []).map((t) => ({
        op: 'put' as const,
        record: {
          kind: 'entityType' as const,
          entityType: t.entityType,
          team: t.team,
          grants: t.grants ?? this.store.keyspaces().entityType(t.entityType)?.grants ?? [],
          version: 0,
        },
      })),
      ...(body.teams ?? []).map((t) => ({ op: 'put' as const, record: this.teamRecord(t.team, t) })),
      ...(body.topics ?? []).map((t) => ({
        op: 'put' as const,
        record: { kind: 'topic' as const, topic: t.topic, team: t.team, version: 0 },
      })),
    ];
    const result = await this.write(intents, principal, body.dryRun === true);
    return { dryRun: body.dryRun === true, changes: result.changes, unchanged: result.unchanged };
  }

  private entityTypeOrThrow(entityType: string): EntityTypeOwnership {
    this.store.current();
    const current = this.store.keyspaces().entityType(entityType);
    if (!current)
      throw new RegistryError(
        'KEYSPACE_NOT_FOUND',
        `entity type "${entityType}" is not declared (PUT /keyspaces/entity-types/${entityType} first)`,
      );
    return current;
  }

  private async putOne(record: KeyspaceRecord, principal: Principal): Promise<{ record: KeyspaceRecord; created: boolean }> {
    const result = await this.write([{ op: 'put', record }], principal);
    const key = result.changes[0]?.key ?? result.unchanged[0];
    const view = this.store.keyspaces();
    const stored =
      view.prefixes().find((p) => prefixRecordKey(p.prefix) === key) ??
      view.entityTypes().find((t) => entityTypeRecordKey(t.entityType) === key) ??
      view.teams().find((t) => teamRecordKey(t.team) === key) ??
      view.topics().find((t) => topicRecordKey(t.topic) === key);
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
