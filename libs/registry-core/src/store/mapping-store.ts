// The mapping set kept in a compacted Kafka topic (key = mapping id, value = mapping JSON,
// null value = deleted), like a schema registry keeps schemas. Every instance (registry API,
// every invalidator) follows the topic from its beginning, so all of them apply changes in the
// same order, and the set survives the loss of Redis or of any instance.
//
// Writes go through write(): plan the changes against the current set, let the caller veto
// (team check), compile the resulting set strictly (a set that would be refused per event is
// refused at write time), then produce the records, plus any side records (the audit), in ONE
// Kafka transaction, and wait until this instance has read them back (read-your-writes).
//
// The same topic holds the keyspace (ownership) records ("keyspace:...") and the CDC source
// declarations ("source:<change topic>"); each kind has its own write path and its own checks,
// and all of them share the one write queue and the one transactional producer.
import { randomUUID } from 'node:crypto';
import { Kafka, Partitioners, Producer } from 'kafkajs';
import { createLogger, Logger } from '@app/telemetry';
import { DEFAULT_TOPICS } from '@app/contracts';
import { RegistryError, isRegistryError } from '../errors';
import { RegistryLimits, RegistryLimitsInput, registryLimits } from '../limits';
import { diffMappings, FieldChange } from '../diff/mapping-diff';
import { compileMapping, mappingUrlViolations, NO_URL_ALLOW_LISTS, UrlAllowLists } from '../mapping/compile-mapping';
import { MappingDto } from '../mapping/mapping.dto';
import { normaliseMapping, sameContent, validateMapping, validateMappingShape } from '../mapping/validate-mapping';
import { MappingSetResolver } from '../resolver/mapping-set-resolver';
import {
  checkKeyspaceRecord,
  decodeKeyspaceRecord,
  isKeyspaceRecordKey,
  KeyspaceRecord,
  keyspaceRecordKey,
  Keyspaces,
  normaliseKeyspaceRecord,
  PrefixOwnership,
  sameKeyspaceContent,
  TeamHosts,
} from '../keyspace/keyspaces';
import type { Mapping } from '../types';
import { CdcSources } from '../source/cdc-sources';
import {
  CdcSourceDeclaration,
  decodeSourceRecord,
  isSourceRecordKey,
  SOURCE_RECORD_PREFIX,
  sourceRecordKey,
} from '../source/source-declaration';
import { planSourceWrite, SourceChange, SourceIntent, sourcesStrandedBy } from '../source/source-plan';
import { ensureTopic, mappingTopicSpec, registryKafkaClient } from './registry-kafka';
import type { MappingChangeListener, MappingSource } from './mapping-source';
import { FollowedRecord, FollowerHealth, TopicFollower } from './topic-follower';

export interface MappingStoreOptions {
  /** Either a kafkajs client or broker addresses (one of the two is required). */
  kafka?: Kafka;
  brokers?: string[];
  /** Default DEFAULT_TOPICS.mappings ("cache-mappings"). */
  topic?: string;
  /** kafkajs clientId and prefix of the random consumer group / transactional ids. Default "mapping-store". */
  clientId?: string;
  limits?: RegistryLimitsInput;
  logger?: Logger;
  /** Create the compacted topic when missing (the registry does; invalidators should not). Default false. */
  createTopic?: boolean;
  /** start() fails with STORE_TIMEOUT when the topic cannot be read to its end in time. Default 60000. */
  startTimeoutMs?: number;
  /** A write fails with STORE_TIMEOUT when this instance cannot read it back in time. Default 10000. */
  writeTimeoutMs?: number;
  /**
   * KEYSPACES_REQUIRED: while the topic holds no keyspace record, the resolver refuses every
   * mapping (resolve() throws KEYSPACES_REQUIRED), instead of letting any team write any key.
   * Default false.
   */
  keyspacesRequired?: boolean;
  /**
   * LOADER_ALLOWED_HOSTS / PURGE_ALLOWED_HOSTS: the internal hosts loader and purge URLs may name
   * (default none). Writes refuse a mapping naming any other internal host (TEMPLATE_UNSAFE_URL);
   * the compiled resolver refuses such a mapping's part of every event (one written straight to the topic).
   */
  allowedHosts?: UrlAllowLists;
}

export type MappingIntent =
  /** Create or replace; `mapping.version` is ignored (the store assigns it). expectedVersion 0 = must not exist yet. */
  { op: 'put'; mapping: Mapping; expectedVersion?: number } | { op: 'delete'; id: string; expectedVersion?: number };

export interface MappingChange {
  id: string;
  kind: 'create' | 'update' | 'delete';
  before?: Mapping;
  after?: Mapping;
  changes: FieldChange[];
}

/** A record to write in the same transaction as the mapping changes (e.g. the audit entry). */
export interface SideRecord {
  topic: string;
  key: string;
  value: string;
}

export interface WriteOptions {
  /** Recorded as `updatedBy` on changed mappings. */
  actor?: string;
  /** Throw (e.g. RegistryError WRONG_TEAM) to refuse a planned change; nothing is written. */
  authorize?: (change: MappingChange) => void;
  /** Extra records committed atomically with the changes (all or nothing). */
  sideRecords?: (changes: MappingChange[]) => SideRecord[];
  /** Plan and check only: nothing is written. */
  dryRun?: boolean;
}

export type KeyspaceIntent =
  /** Create or replace an ownership record; its version is assigned by the store. */
  | { op: 'put'; record: KeyspaceRecord }
  /** Remove an ownership record by its topic key (keyspaceRecordKey). */
  | { op: 'delete'; key: string };

export interface KeyspaceChange {
  /** The record's topic key, e.g. "keyspace:prefix:product:". */
  key: string;
  kind: 'create' | 'update' | 'delete';
  before?: KeyspaceRecord;
  after?: KeyspaceRecord;
  changes: FieldChange[];
}

export interface KeyspaceWriteOptions {
  actor?: string;
  sideRecords?: (changes: KeyspaceChange[]) => SideRecord[];
  dryRun?: boolean;
}

export interface SourceWriteOptions {
  actor?: string;
  /** Throw (e.g. RegistryError WRONG_TEAM) to refuse a planned change; nothing is written. */
  authorize?: (change: SourceChange) => void;
  sideRecords?: (changes: SourceChange[]) => SideRecord[];
  dryRun?: boolean;
}

export interface SourceWriteResult {
  changes: SourceChange[];
  /** Record keys whose put carried no change. */
  unchanged: string[];
  offsets: WrittenOffset[];
}

export interface KeyspaceWriteResult {
  changes: KeyspaceChange[];
  unchanged: string[];
  offsets: WrittenOffset[];
}

/** Where a write's records landed (the last offset per topic and partition). */
export interface WrittenOffset {
  topic: string;
  partition: number;
  offset: string;
}

export interface WriteResult {
  changes: MappingChange[];
  /** Ids whose put carried no change (no new version, no record). */
  unchanged: string[];
  /** Empty for dry runs and writes without changes. Side-record readers wait for these (read-your-writes). */
  offsets: WrittenOffset[];
}

export class MappingStore implements MappingSource {
  readonly topic: string;
  readonly limits: RegistryLimits;
  readonly allowedHosts: UrlAllowLists;
  private readonly kafka: Kafka;
  private readonly logger: Logger;
  private readonly follower: TopicFollower;
  private readonly mappings = new Map<string, Mapping>();
  private readonly keyspaceRecords = new Map<string, KeyspaceRecord>();
  private keyspaceView = Keyspaces.NONE;
  /** CDC source declarations by change topic, and the view invalidators decode with. */
  private readonly sourceRecords = new Map<string, CdcSourceDeclaration>();
  private sourceView = CdcSources.NONE;
  private readonly listeners = new Set<MappingChangeListener>();
  private resolver: MappingSetResolver;
  private ready = false;
  private producer?: Promise<Producer>;
  private writeQueue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: MappingStoreOptions) {
    this.topic = options.topic ?? DEFAULT_TOPICS.mappings;
    this.limits = registryLimits(options.limits);
    this.allowedHosts = options.allowedHosts ?? NO_URL_ALLOW_LISTS;
    this.logger = options.logger ?? createLogger('mapping-store');
    const clientId = options.clientId ?? 'mapping-store';
    if (options.kafka) this.kafka = options.kafka;
    else if (options.brokers && options.brokers.length > 0) this.kafka = registryKafkaClient(options.brokers, clientId, this.logger);
    else throw new Error('MappingStore needs `kafka` or `brokers`');
    this.resolver = MappingSetResolver.empty(this.limits);
    this.follower = new TopicFollower({
      kafka: this.kafka,
      topic: this.topic,
      groupIdPrefix: clientId,
      logger: this.logger,
      onRecords: (records) => this.apply(records),
      onTopicGone: () => this.forgetTopicState(),
    });
  }

  /**
   * The topic was deleted: what it held no longer exists. Forget it, so a recreated topic is the
   * whole truth once read; the compiled resolver stays in effect until its first records arrive.
   */
  private forgetTopicState(): void {
    this.mappings.clear();
    this.keyspaceRecords.clear();
    this.keyspaceView = Keyspaces.NONE;
    this.sourceRecords.clear();
    this.sourceView = CdcSources.NONE;
  }

  async start(): Promise<void> {
    const started = Date.now();
    if (this.options.createTopic && (await ensureTopic(this.kafka, mappingTopicSpec(this.topic)))) {
      this.logger.info({ topic: this.topic }, 'created the compacted mappings topic');
    }
    await this.follower.start(this.options.startTimeoutMs ?? 60_000);
    // The initial load compiles once, here, not once per fetched batch.
    this.resolver = this.compileCurrent();
    this.sourceView = this.currentSources();
    this.ready = true;
    this.logger.info(
      {
        topic: this.topic,
        mappings: this.resolver.mappingCount,
        keyspaces: this.keyspaceView.size,
        sources: this.sourceRecords.size,
        groupId: this.follower.groupId,
        ms: Date.now() - started,
      },
      'mapping set loaded; following changes',
    );
    if (!this.keyspaceView.enforced && this.options.keyspacesRequired) {
      this.logger.warn(
        { topic: this.topic, mappings: this.mappings.size },
        'no keyspace (key prefix / entity type ownership) is declared and KEYSPACES_REQUIRED=true: no team mapping is applied (events matching one are refused) until an admin declares keyspaces',
      );
    } else if (!this.keyspaceView.enforced && this.mappings.size > 0) {
      this.logger.warn(
        { topic: this.topic },
        'no keyspace (key prefix / entity type ownership) is declared: any team may write any key; declare them with an admin token to turn enforcement on',
      );
    }
    for (const { id, error } of this.resolver.foreignMappings()) {
      if (error.code === 'KEYSPACES_REQUIRED') continue; // said once above
      this.logger.error(
        { topic: this.topic, id, code: error.code, err: error.message },
        "mapping refused (outside its owner team's keyspaces, or a loader/purge URL host not allowed): its part of every event it matches is dead-lettered",
      );
    }
    this.logRefusedSources();
    this.notify([...this.mappings.keys()]);
  }

  async stop(): Promise<void> {
    this.ready = false;
    await this.follower.stop();
    const producer = this.producer;
    this.producer = undefined;
    if (producer) await (await producer.catch(() => undefined))?.disconnect();
  }

  isReady(): boolean {
    return this.ready && !this.follower.failed;
  }

  /** Whether the follower of the topic still reads it (crashed for good, or time since its last fetch). */
  followerHealth(): FollowerHealth {
    return this.follower.health();
  }

  current(): MappingSetResolver {
    if (!this.ready) throw new RegistryError('STORE_NOT_READY', `mapping store has not read ${this.topic} to its end yet (await start())`);
    return this.resolver;
  }

  onChange(listener: MappingChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get(id: string): Mapping | undefined {
    return this.mappings.get(id);
  }

  list(): Mapping[] {
    return [...this.mappings.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  /** Throws TEMPLATE_UNSAFE_URL (a URL host not allowed) or FOREIGN_KEYSPACE, naming the field. */
  assertMappingAllowed(mapping: Mapping): void {
    const unsafe = mappingUrlViolations(mapping, this.allowedHosts);
    if (unsafe.length > 0) throw RegistryError.fromViolations(unsafe);
    this.keyspaceView.assertMappingInside(mapping);
  }

  /** Current key prefix and entity type ownership (as read from the topic). */
  keyspaces(): Keyspaces {
    return this.keyspaceView;
  }

  /** The CDC source declarations in force: per change topic, its declaration or why its records are refused. Read it per chunk. */
  sources(): CdcSources {
    return this.sourceView;
  }

  private currentSources(): CdcSources {
    return new CdcSources(this.sourceRecords.values(), {
      keyspaces: this.keyspaceView,
      keyspacesRequired: this.options.keyspacesRequired,
    });
  }

  private logRefusedSources(changed?: string[]): void {
    for (const { topic, code, message } of this.sourceView.refused()) {
      if (code === 'KEYSPACES_REQUIRED') continue; // said once at start
      if (changed && !changed.some((k) => k === sourceRecordKey(topic) || isKeyspaceRecordKey(k))) continue;
      this.logger.error(
        { topic: this.topic, source: topic, code, err: message },
        "source declaration refused (outside its owner team's keyspaces): every row change of its topic is dead-lettered",
      );
    }
  }

  private compileCurrent(): MappingSetResolver {
    return MappingSetResolver.compile(this.mappings.values(), {
      limits: this.limits,
      mode: 'lenient',
      keyspaces: this.keyspaceView,
      keyspacesRequired: this.options.keyspacesRequired,
      allowedHosts: this.allowedHosts,
    });
  }

  async put(mapping: Mapping, options?: WriteOptions & { expectedVersion?: number }): Promise<WriteResult> {
    return this.write([{ op: 'put', mapping, expectedVersion: options?.expectedVersion }], options);
  }

  async delete(id: string, options?: WriteOptions & { expectedVersion?: number }): Promise<WriteResult> {
    return this.write([{ op: 'delete', id, expectedVersion: options?.expectedVersion }], options);
  }

  /** Makes the stored set equal to `mappings` (YAML seeding): puts what differs, deletes what is missing. */
  async replaceAll(mappings: Mapping[], options?: WriteOptions): Promise<WriteResult> {
    const wanted = new Set(mappings.map((m) => m.id));
    const intents: MappingIntent[] = [
      ...mappings.map((mapping) => ({ op: 'put' as const, mapping })),
      ...this.list()
        .filter((m) => !wanted.has(m.id))
        .map((m) => ({ op: 'delete' as const, id: m.id })),
    ];
    return this.write(intents, options);
  }

  /** Plans, checks and commits `intents` as one transaction. Writes of one instance run one at a time. */
  write(intents: MappingIntent[], options: WriteOptions = {}): Promise<WriteResult> {
    const run = this.writeQueue.then(() => this.writeNow(intents, options));
    this.writeQueue = run.catch(() => undefined);
    return run;
  }

  private async writeNow(intents: MappingIntent[], options: WriteOptions): Promise<WriteResult> {
    if (!this.isReady()) throw new RegistryError('STORE_NOT_READY', `mapping store has not read ${this.topic} to its end yet`);
    const next = new Map(this.mappings);
    const changes: MappingChange[] = [];
    const unchanged: string[] = [];
    const now = new Date().toISOString();
    for (const intent of intents) {
      const id = intent.op === 'put' ? intent.mapping.id : intent.id;
      const before = next.get(id);
      if (intent.expectedVersion !== undefined && (before?.version ?? 0) !== intent.expectedVersion) {
        throw new RegistryError(
          'VERSION_CONFLICT',
          `mapping "${id}" is at version ${before ? before.version : '0 (does not exist)'}, not ${intent.expectedVersion}`,
        );
      }
      if (intent.op === 'delete') {
        if (!before) throw new RegistryError('MAPPING_NOT_FOUND', `mapping "${id}" does not exist`);
        next.delete(id);
        changes.push({ id, kind: 'delete', before, changes: diffMappings(before, undefined) });
        continue;
      }
      const { version: _version, updatedAt: _at, updatedBy: _by, ...content } = intent.mapping;
      const checked = validateMapping(content, this.limits);
      if (!checked.mapping) throw RegistryError.fromViolations(checked.violations);
      if (before && sameContent(before, checked.mapping)) {
        unchanged.push(id);
        continue;
      }
      const after = normaliseMapping({ ...checked.mapping, version: (before?.version ?? 0) + 1, updatedAt: now, updatedBy: options.actor });
      next.set(id, after);
      changes.push({ id, kind: before ? 'update' : 'create', before, after, changes: diffMappings(before, after) });
    }
    for (const change of changes) options.authorize?.(change);
    // The whole resulting set must compile strictly: per-mapping rules and the fan-out of all
    // mappings of an entity type together, in resolve order (the entity type owner's first): a
    // written mapping may not fall beyond the cap.
    MappingSetResolver.compile(next.values(), {
      limits: this.limits,
      mode: 'strict',
      keyspaces: this.keyspaceView,
      written: new Set(changes.map((c) => c.id)),
    });
    // Every written mapping: loader and purge URLs only to allowed hosts, and inside its owner
    // team's keyspaces (when any are declared): key prefixes, entity types, hosts, surrogate keys.
    for (const change of changes) if (change.after) this.assertMappingAllowed(change.after);
    if (options.dryRun || changes.length === 0) return { changes, unchanged, offsets: [] };

    const records = changes.map((c) => ({ key: c.id, kind: c.kind, after: c.after }));
    const offsets = await this.commitAndReadBack(records, options.sideRecords?.(changes) ?? [], options.actor, 'mappings');
    return { changes, unchanged, offsets };
  }

  /**
   * Commits one write's records (a null value for a delete) with its side records in one
   * transaction, then waits until this instance's follower has applied them (read-your-writes).
   */
  private async commitAndReadBack(
    records: { key: string; kind: string; after?: unknown }[],
    side: SideRecord[],
    actor: string | undefined,
    what: 'mappings' | 'keyspaces' | 'sources',
  ): Promise<WrittenOffset[]> {
    const offsets = await this.commit(
      records.map((r) => ({ key: r.key, value: r.after ? JSON.stringify(r.after) : null })),
      side,
    );
    await this.follower.waitForOffsets(
      offsets.filter((o) => o.topic === this.topic),
      this.options.writeTimeoutMs ?? 10_000,
    );
    this.logger.info({ topic: this.topic, actor, changes: records.map((r) => `${r.kind} ${r.key}`) }, `${what} written`);
    return offsets;
  }

  /**
   * CDC source declarations (one per change topic), committed with their side records (audit)
   * in one transaction: planSourceWrite checks shape and names, versions, the caller's veto (the
   * team check), the owner's keyspaces (topic and entity type) and one version scheme per entity type.
   */
  writeSources(intents: SourceIntent[], options: SourceWriteOptions = {}): Promise<SourceWriteResult> {
    const run = this.writeQueue.then(() => this.writeSourcesNow(intents, options));
    this.writeQueue = run.catch(() => undefined);
    return run;
  }

  private async writeSourcesNow(intents: SourceIntent[], options: SourceWriteOptions): Promise<SourceWriteResult> {
    if (!this.isReady()) throw new RegistryError('STORE_NOT_READY', `mapping store has not read ${this.topic} to its end yet`);
    const { changes, unchanged } = planSourceWrite(this.sourceRecords, intents, {
      keyspaces: this.keyspaceView,
      actor: options.actor,
      authorize: options.authorize,
    });
    if (options.dryRun || changes.length === 0) return { changes, unchanged, offsets: [] };
    const offsets = await this.commitAndReadBack(changes, options.sideRecords?.(changes) ?? [], options.actor, 'sources');
    return { changes, unchanged, offsets };
  }

  /** The stored source declarations (this instance's copy of the topic), by topic. */
  listSources(): CdcSourceDeclaration[] {
    return this.sourceView.list();
  }

  getSource(topic: string): CdcSourceDeclaration | undefined {
    return this.sourceRecords.get(topic);
  }

  /**
   * Key prefix / entity type ownership changes (admin only; the caller checks that), committed
   * with their side records (audit) in one transaction. Refused: a prefix overlapping another
   * team's, removing the last declaration (that would turn enforcement off), and any change that
   * would leave a stored mapping outside its owner's keyspaces (the invalidators would then
   * refuse its events). For a first declaration on a registry that already holds mappings,
   * declare every team's keyspaces in one write.
   */
  writeKeyspaces(intents: KeyspaceIntent[], options: KeyspaceWriteOptions = {}): Promise<KeyspaceWriteResult> {
    const run = this.writeQueue.then(() => this.writeKeyspacesNow(intents, options));
    this.writeQueue = run.catch(() => undefined);
    return run;
  }

  private async writeKeyspacesNow(intents: KeyspaceIntent[], options: KeyspaceWriteOptions): Promise<KeyspaceWriteResult> {
    if (!this.isReady()) throw new RegistryError('STORE_NOT_READY', `mapping store has not read ${this.topic} to its end yet`);
    const next = new Map(this.keyspaceRecords);
    const changes: KeyspaceChange[] = [];
    const unchanged: string[] = [];
    const now = new Date().toISOString();
    for (const intent of intents) {
      if (intent.op === 'delete') {
        const before = next.get(intent.key);
        if (!before) throw new RegistryError('KEYSPACE_NOT_FOUND', `keyspace record "${intent.key}" does not exist`);
        next.delete(intent.key);
        changes.push({ key: intent.key, kind: 'delete', before, changes: [{ path: '(keyspace)', before: keyspaceContent(before) }] });
        continue;
      }
      checkKeyspaceRecord(intent.record);
      const key = keyspaceRecordKey(intent.record);
      const before = next.get(key);
      if (before && sameKeyspaceContent(before, intent.record)) {
        unchanged.push(key);
        continue;
      }
      const after = normaliseKeyspaceRecord({
        ...intent.record,
        version: (before?.version ?? 0) + 1,
        updatedAt: now,
        updatedBy: options.actor,
      });
      next.set(key, after);
      changes.push({ key, kind: before ? 'update' : 'create', before, after, changes: diffKeyspaceRecords(before, after) });
    }
    const view = new Keyspaces(next.values());
    for (const p of changes.map((c) => c.after).filter((r): r is PrefixOwnership => r?.kind === 'prefix')) {
      const conflict = view.conflictsOf(p.prefix, p.team)[0];
      if (conflict) {
        throw new RegistryError(
          'KEYSPACE_CONFLICT',
          `prefix "${p.prefix}" of team "${p.team}" overlaps prefix "${conflict.prefix}" owned by team "${conflict.team}"; overlapping prefixes must belong to one team`,
          'prefix',
        );
      }
    }
    // Surrogate-key prefixes, like key prefixes: overlapping ones must belong to one team.
    for (const t of changes.map((c) => c.after).filter((r): r is TeamHosts => r?.kind === 'team')) {
      for (const [i, prefix] of t.surrogateKeyPrefixes.entries()) {
        const conflict = view.surrogateConflictsOf(prefix, t.team)[0];
        if (conflict) {
          throw new RegistryError(
            'KEYSPACE_CONFLICT',
            `surrogate-key prefix "${prefix}" of team "${t.team}" overlaps "${conflict.prefix}" of team "${conflict.team}"; overlapping surrogate-key prefixes must belong to one team`,
            `surrogateKeyPrefixes[${i}]`,
          );
        }
      }
    }
    if (this.keyspaceView.enforced && !view.enforced) {
      throw new RegistryError(
        'KEYSPACE_CONFLICT',
        'this would remove the last keyspace declaration and turn ownership enforcement off; declare another one first',
      );
    }
    // Mappings inside their owners' keyspaces now must stay inside (a mapping already outside,
    // e.g. written straight to the topic, does not block unrelated ownership changes).
    const orphaned: string[] = [];
    for (const mapping of this.mappings.values()) {
      const violations = view.mappingViolations(mapping);
      if (violations.length > 0 && this.keyspaceView.mappingViolations(mapping).length === 0)
        orphaned.push(`mapping "${mapping.id}" (owner "${mapping.owner}"): ${violations.map((v) => v.message).join('; ')}`);
    }
    // Source declarations likewise: taking a topic or an entity type from its declaring team
    // would make the invalidators refuse that table's row changes.
    orphaned.push(...sourcesStrandedBy(this.keyspaceView, view, this.sourceRecords.values()));
    if (orphaned.length > 0) {
      const more = orphaned.length > 5 ? ` (and ${orphaned.length - 5} more)` : '';
      throw new RegistryError(
        'KEYSPACE_CONFLICT',
        `this change would leave stored mappings or source declarations outside their owners' keyspaces: ${orphaned.slice(0, 5).join(' | ')}${more}`,
      );
    }
    if (options.dryRun || changes.length === 0) return { changes, unchanged, offsets: [] };
    const offsets = await this.commitAndReadBack(changes, options.sideRecords?.(changes) ?? [], options.actor, 'keyspaces');
    return { changes, unchanged, offsets };
  }

  private async commit(records: { key: string; value: string | null }[], side: SideRecord[]): Promise<WrittenOffset[]> {
    const producer = await this.transactionalProducer();
    const transaction = await producer.transaction();
    try {
      const byTopic = new Map<string, { key: string; value: string | null }[]>([[this.topic, records]]);
      for (const r of side) byTopic.set(r.topic, [...(byTopic.get(r.topic) ?? []), { key: r.key, value: r.value }]);
      const offsets: WrittenOffset[] = [];
      for (const [topic, messages] of byTopic) {
        const written = await transaction.send({ topic, messages });
        // One partition written: its records are base..base+n-1. Several: at least the base
        // offset of each (a batch to one partition is applied whole by the follower).
        for (const meta of written) {
          const last = written.length === 1 ? BigInt(meta.baseOffset ?? '0') + BigInt(messages.length - 1) : BigInt(meta.baseOffset ?? '0');
          offsets.push({ topic, partition: meta.partition, offset: last.toString() });
        }
      }
      await transaction.commit();
      return offsets;
    } catch (error) {
      await transaction.abort().catch(() => undefined);
      // A failed transactional producer may be fenced: start a fresh one next time.
      this.producer = undefined;
      await producer.disconnect().catch(() => undefined);
      throw error;
    }
  }

  private transactionalProducer(): Promise<Producer> {
    if (!this.producer) {
      const producer = this.kafka.producer({
        // Unique per instance: two registry instances must never fence each other.
        transactionalId: `${this.options.clientId ?? 'mapping-store'}-${randomUUID()}`,
        idempotent: true,
        maxInFlightRequests: 1,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      this.producer = producer.connect().then(() => producer);
      this.producer.catch(() => (this.producer = undefined));
    }
    return this.producer;
  }

  /** Applies one fetched batch from the topic, then swaps in a freshly compiled resolver. */
  private apply(records: FollowedRecord[]): void {
    const changed: string[] = [];
    let sourcesChanged = false;
    for (const record of records) {
      const id = record.key;
      const where = { topic: this.topic, partition: record.partition, offset: record.offset, id };
      if (!id) {
        this.logger.error(where, 'mapping record without key ignored');
        continue;
      }
      if (isKeyspaceRecordKey(id)) {
        if (this.applyKeyspace(id, record.value, where)) changed.push(id);
        continue;
      }
      if (isSourceRecordKey(id)) {
        if (this.applySource(id, record.value, where)) {
          changed.push(id);
          sourcesChanged = true;
        }
        continue;
      }
      if (record.value === null) {
        if (this.mappings.delete(id)) changed.push(id);
        continue;
      }
      const mapping = this.decode(record.value, id);
      if (isRegistryError(mapping)) {
        // E.g. written by a newer registry, or by hand: keep the last good version in effect.
        this.logger.error(
          { ...where, code: mapping.code, err: mapping.message },
          'invalid mapping record ignored; the previous version of this mapping stays in effect',
        );
        continue;
      }
      this.mappings.set(id, mapping);
      changed.push(id);
    }
    if (changed.length === 0 || !this.ready) return;
    const keyspacesChanged = changed.some(isKeyspaceRecordKey);
    if (sourcesChanged || keyspacesChanged) {
      this.sourceView = this.currentSources();
      this.logRefusedSources(changed);
    }
    if (changed.every(isSourceRecordKey)) {
      // Only declarations changed: the compiled resolver stays.
      this.logger.info(
        { topic: this.topic, changed, sources: this.sourceRecords.size },
        'source declarations changed; in effect for the next chunk',
      );
      this.notify(changed);
      return;
    }
    // Every stored mapping compiled on its own (decode), so lenient mode only relaxes the
    // set-wide fan-out check, which resolve() then enforces per event.
    this.resolver = this.compileCurrent();
    this.logger.info({ topic: this.topic, changed, mappings: this.resolver.mappingCount }, 'mapping set changed; new resolver in effect');
    for (const { id, error } of this.resolver.foreignMappings()) {
      if (error.code === 'KEYSPACES_REQUIRED') continue;
      if (changed.includes(id) || changed.some(isKeyspaceRecordKey))
        this.logger.error(
          { topic: this.topic, id, code: error.code, err: error.message },
          "mapping refused (outside its owner team's keyspaces, or a loader/purge URL host not allowed): its part of every event it matches is dead-lettered",
        );
    }
    this.notify(changed);
  }

  /** True when the keyspace view changed. A bad record is logged and ignored (the previous one stays). */
  private applyKeyspace(key: string, value: Buffer | null, where: Record<string, unknown>): boolean {
    if (value === null) {
      if (!this.keyspaceRecords.delete(key)) return false;
    } else {
      const record = decodeKeyspaceRecord(key, value);
      if (isRegistryError(record)) {
        this.logger.error(
          { ...where, code: record.code, err: record.message },
          'invalid keyspace record ignored; the previous version stays in effect',
        );
        return false;
      }
      this.keyspaceRecords.set(key, record);
    }
    this.keyspaceView = new Keyspaces(this.keyspaceRecords.values());
    return true;
  }

  /** True when a declaration changed. A bad record is logged and ignored (the previous one stays in effect). */
  private applySource(key: string, value: Buffer | null, where: Record<string, unknown>): boolean {
    const topic = key.slice(SOURCE_RECORD_PREFIX.length);
    if (value === null) return this.sourceRecords.delete(topic);
    const source = decodeSourceRecord(key, value);
    if (isRegistryError(source)) {
      this.logger.error(
        { ...where, code: source.code, err: source.message },
        'invalid source declaration ignored; the previous version stays in effect',
      );
      return false;
    }
    this.sourceRecords.set(topic, source);
    return true;
  }

  private decode(value: Buffer, id: string): Mapping | RegistryError {
    let plain: unknown;
    try {
      plain = JSON.parse(value.toString('utf8'));
    } catch {
      return new RegistryError('MAPPING_INVALID', 'value is not JSON');
    }
    const shape = validateMappingShape(plain, MappingDto);
    if (!shape.value) return RegistryError.fromViolations(shape.violations);
    if (shape.value.id !== id)
      return new RegistryError('MAPPING_INVALID', `record key "${id}" differs from the mapping's id "${shape.value.id}"`);
    if (shape.value.version === undefined) return new RegistryError('MAPPING_INVALID', 'stored mapping has no version');
    const mapping = normaliseMapping(shape.value);
    try {
      compileMapping(mapping, this.limits);
    } catch (error) {
      if (isRegistryError(error)) return error;
      throw error;
    }
    return mapping;
  }

  private notify(changedIds: string[]): void {
    for (const listener of this.listeners) {
      try {
        listener(this.resolver, changedIds);
      } catch (error) {
        this.logger.error({ err: error }, 'mapping change listener threw; other listeners still run');
      }
    }
  }
}

function keyspaceContent(record: KeyspaceRecord): Omit<KeyspaceRecord, 'version' | 'updatedAt' | 'updatedBy'> {
  const { version: _v, updatedAt: _a, updatedBy: _b, ...content } = normaliseKeyspaceRecord(record);
  return content;
}

function diffKeyspaceRecords(before: KeyspaceRecord | undefined, after: KeyspaceRecord): FieldChange[] {
  if (!before) return [{ path: '(keyspace)', after: keyspaceContent(after) }];
  const a = keyspaceContent(before) as unknown as Record<string, unknown>;
  const b = keyspaceContent(after) as unknown as Record<string, unknown>;
  return [...new Set([...Object.keys(a), ...Object.keys(b)])]
    .filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]))
    .map((k) => ({ path: k, before: a[k], after: b[k] }));
}
