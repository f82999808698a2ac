// Who changed which mapping, when, and exactly what (field-level diff). Entries are written in
// the same Kafka transaction as the mapping change (MappingStore.write's side records), so a
// change is never stored without its audit entry; the topic keeps them across restarts and
// every registry instance reads it back into memory for GET /audit.
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type { Logger } from '@app/telemetry';
import {
  ensureTopic,
  FieldChange,
  KeyspaceChange,
  MappingChange,
  RegistryError,
  SideRecord,
  SourceChange,
  TopicFollower,
  TopicSpec,
  WrittenOffset,
} from '@app/registry-core';
import type { Principal } from '../auth/team-tokens';

export interface AuditEntry {
  /** 2 since token ids are configured names (older entries carried a digest prefix, withheld when read). */
  v?: number;
  id: string;
  /** ISO-8601 time the change was committed by the registry. */
  at: string;
  /** A mapping change (absent for keyspace changes). */
  mappingId?: string;
  /** A keyspace change: the ownership record's key, e.g. "keyspace:prefix:product:". */
  keyspace?: string;
  /** A CDC source declaration change: the change topic it describes. */
  source?: string;
  action: 'create' | 'update' | 'delete';
  actor: { team: string; name?: string; tokenId: string };
  fromVersion?: number;
  toVersion?: number;
  /** Field-level diff; a create/delete is one "(mapping)" change holding the whole mapping. */
  changes: FieldChange[];
}

export interface AuditQuery {
  mappingId?: string;
  keyspace?: string;
  source?: string;
  team?: string;
  limit?: number;
}

const LEGACY_TOKEN_ID = '(withheld: entry written before token ids were names)';

export function auditTopicSpec(topic: string): TopicSpec {
  return { topic, numPartitions: 1, configEntries: [{ name: 'retention.ms', value: '-1' }] };
}

export class AuditLog {
  private entries: AuditEntry[] = [];
  private loaded = false;
  private readonly follower: TopicFollower;

  constructor(
    private readonly kafka: Kafka,
    readonly topic: string,
    private readonly logger: Logger,
    private readonly memory: number,
    clientId: string,
  ) {
    this.follower = new TopicFollower({
      kafka,
      topic,
      groupIdPrefix: `${clientId}-audit`,
      logger,
      onRecords: (records) => this.apply(records),
    });
  }

  async start(createTopic: boolean, timeoutMs: number): Promise<void> {
    if (createTopic && (await ensureTopic(this.kafka, auditTopicSpec(this.topic))))
      this.logger.info({ topic: this.topic }, 'created the audit topic');
    await this.follower.start(timeoutMs);
    this.loaded = true;
    this.logger.info({ topic: this.topic, entries: this.entries.length }, 'audit log loaded');
  }

  stop(): Promise<void> {
    return this.follower.stop();
  }

  /** Waits until the entries of a write (its offsets on the audit topic) are visible in list(). */
  waitForWrite(offsets: WrittenOffset[], timeoutMs = 10_000): Promise<void> {
    return this.follower.waitForOffsets(
      offsets.filter((o) => o.topic === this.topic),
      timeoutMs,
    );
  }

  /** The audit records for a set of changes, to commit atomically with them. */
  recordsFor(changes: MappingChange[], principal: Principal): SideRecord[] {
    return this.records(
      changes,
      principal,
      (change) => ({ mappingId: change.id }),
      (change) => change.id,
    );
  }

  /** The audit records of keyspace (ownership) changes, committed atomically with them. */
  recordsForKeyspaces(changes: KeyspaceChange[], principal: Principal): SideRecord[] {
    return this.records(
      changes,
      principal,
      (change) => ({ keyspace: change.key }),
      (change) => change.key,
    );
  }

  /** The audit records of source declaration changes, committed atomically with them. */
  recordsForSources(changes: SourceChange[], principal: Principal): SideRecord[] {
    return this.records(
      changes,
      principal,
      (change) => ({ source: change.topic }),
      (change) => change.key,
    );
  }

  private records<C extends MappingChange | KeyspaceChange | SourceChange>(
    changes: C[],
    principal: Principal,
    subject: (change: C) => Partial<AuditEntry>,
    key: (change: C) => string,
  ): SideRecord[] {
    const at = new Date().toISOString();
    return changes.map((change) => {
      const entry: AuditEntry = {
        v: 2,
        id: randomUUID(),
        at,
        ...subject(change),
        action: change.kind,
        actor: { team: principal.team, name: principal.name, tokenId: principal.tokenId },
        fromVersion: change.before?.version,
        toVersion: change.after?.version,
        changes: change.changes,
      };
      return { topic: this.topic, key: key(change), value: JSON.stringify(entry) };
    });
  }

  /** Newest first. */
  list(query: AuditQuery = {}): AuditEntry[] {
    if (!this.loaded) throw new RegistryError('STORE_NOT_READY', `audit log has not read ${this.topic} to its end yet`);
    const limit = query.limit ?? 100;
    const out: AuditEntry[] = [];
    for (let i = this.entries.length - 1; i >= 0 && out.length < limit; i--) {
      const e = this.entries[i];
      if (query.mappingId !== undefined && e.mappingId !== query.mappingId) continue;
      if (query.keyspace !== undefined && e.keyspace !== query.keyspace) continue;
      if (query.source !== undefined && e.source !== query.source) continue;
      if (query.team !== undefined && e.actor.team !== query.team) continue;
      out.push(e);
    }
    return out;
  }

  private apply(records: { offset: string; value: Buffer | null }[]): void {
    for (const record of records) {
      if (record.value === null) continue;
      try {
        const entry = JSON.parse(record.value.toString('utf8')) as AuditEntry;
        // Entries of older registries carry a digest prefix of the token: never shown.
        if ((entry.v ?? 1) < 2 && entry.actor) entry.actor = { ...entry.actor, tokenId: LEGACY_TOKEN_ID };
        this.entries.push(entry);
      } catch {
        this.logger.error({ topic: this.topic, offset: record.offset }, 'audit record is not JSON; skipped');
      }
    }
    if (this.entries.length > this.memory) this.entries = this.entries.slice(this.entries.length - this.memory);
  }
}
