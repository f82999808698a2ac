// CDC source declarations: a team says which entity type the rows of one of its Debezium change
// topics are, and which columns give id, tenant and version. Every change is checked
// (planSourceWrite: shape and names, the owner's topic and entity type, one version scheme per
// entity type), authorised per team, and committed with its audit entry in one transaction.
import { Injectable } from '@nestjs/common';
import { CdcSourceDeclaration, MappingStore, RegistryError, SourceChange, SourceIntent, SourceWriteResult } from '@app/registry-core';
import { actorName, assertOwnTeam, isAdmin, Principal } from '../auth/team-tokens';
import { RegistryConfig } from '../config/registry.config';
import { AuditLog } from '../mappings/audit-log';
import { assertKeyspacesDeclared } from '../mappings/mappings.service';
import { ApplySourcesDto, ListSourcesQueryDto, PutSourceDto } from './sources.dto';

export interface SourcePutOutcome {
  source: CdcSourceDeclaration;
  created: boolean;
}

export interface SourcesApplyOutcome {
  dryRun: boolean;
  changes: SourceChange[];
  unchanged: string[];
}

/** The team rule: a team token changes only its own declarations and writes only in its own name. */
export function authorizeSource(principal: Principal, change: Pick<SourceChange, 'topic' | 'before' | 'after'>): void {
  assertOwnTeam(principal, `source "${change.topic}"`, change);
}

@Injectable()
export class SourcesService {
  constructor(
    private readonly store: MappingStore,
    private readonly audit: AuditLog,
    private readonly config: RegistryConfig,
  ) {}

  list(query: ListSourcesQueryDto): CdcSourceDeclaration[] {
    this.store.current(); // 503 until the whole topic is loaded
    return this.store
      .listSources()
      .filter(
        (s) =>
          (query.owner === undefined || s.owner === query.owner) && (query.entityType === undefined || s.entityType === query.entityType),
      );
  }

  get(topic: string): CdcSourceDeclaration {
    this.store.current();
    const source = this.store.getSource(topic);
    if (!source) throw new RegistryError('SOURCE_NOT_FOUND', `topic "${topic}" has no source declaration`);
    return source;
  }

  async put(topic: string, body: PutSourceDto, principal: Principal, ifMatch?: number): Promise<SourcePutOutcome> {
    if (body.topic !== undefined && body.topic !== topic)
      throw new RegistryError('REQUEST_INVALID', `body topic "${body.topic}" differs from the path topic "${topic}"`, 'topic');
    const { version, updatedAt: _at, updatedBy: _by, ...spec } = body;
    const source = { ...spec, topic, version: 0 } as CdcSourceDeclaration;
    // Team check before content checks: another team's declaration is not theirs to probe.
    this.store.current();
    authorizeSource(principal, { topic, before: this.store.getSource(topic), after: source });
    const result = await this.write([{ op: 'put', source, expectedVersion: ifMatch ?? version }], principal);
    return { source: this.store.getSource(topic)!, created: result.changes[0]?.kind === 'create' };
  }

  async delete(topic: string, principal: Principal, ifMatch?: number): Promise<void> {
    this.get(topic);
    await this.write([{ op: 'delete', topic, expectedVersion: ifMatch }], principal);
  }

  /** GitOps: make the stored declarations of the file's owners equal to the file's `sources:`. */
  async apply(body: ApplySourcesDto, principal: Principal): Promise<SourcesApplyOutcome> {
    const owners = new Set(body.pruneOwners ?? body.sources.map((s) => s.owner));
    const foreign = [...new Set([...body.sources.map((s) => s.owner), ...owners])].filter(
      (owner) => !isAdmin(principal) && owner !== principal.team,
    );
    if (foreign.length > 0)
      throw new RegistryError(
        'WRONG_TEAM',
        `team "${principal.team}" may only apply source declarations it owns (the request names owner(s) ${foreign.map((o) => `"${o}"`).join(', ')})`,
        'sources',
      );
    this.store.current();
    const wanted = new Set(body.sources.map((s) => s.topic));
    const intents: SourceIntent[] = [
      ...body.sources.map((s) => ({ op: 'put' as const, source: { ...s, version: 0 } as CdcSourceDeclaration })),
      ...(body.prune === false
        ? []
        : this.store
            .listSources()
            .filter((s) => owners.has(s.owner) && !wanted.has(s.topic))
            .map((s) => ({ op: 'delete' as const, topic: s.topic }))),
    ];
    const result = await this.write(intents, principal, body.dryRun === true);
    return { dryRun: body.dryRun === true, changes: result.changes, unchanged: result.unchanged };
  }

  private async write(intents: SourceIntent[], principal: Principal, dryRun = false): Promise<SourceWriteResult> {
    this.store.current(); // 503 until loaded: the keyspaces are known only then
    if (intents.some((i) => i.op === 'put')) assertKeyspacesDeclared(this.config, this.store, principal, 'source declarations');
    const result = await this.store.writeSources(intents, {
      actor: actorName(principal),
      dryRun,
      authorize: (change) => authorizeSource(principal, change),
      sideRecords: (changes) => this.audit.recordsForSources(changes, principal),
    });
    if (result.offsets.length > 0) await this.audit.waitForWrite(result.offsets);
    return result;
  }
}
