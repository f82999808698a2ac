// Planning a write of source declarations against the stored ones, without Kafka: the store
// (MappingStore.writeSources) commits what this returns, the tests call it directly. Every rule
// a declaration must keep is here, in order: shape and names, expected version, the caller's
// veto (the registry's team check), the owner's keyspaces (its topic and its entity type), and
// one version scheme per entity type.
import { FieldChange, diffContent } from '../diff/mapping-diff';
import { RegistryError } from '../errors';
import { Keyspaces, sourceViolationMessage } from '../keyspace/keyspaces';
import { cdcVersionScheme } from './cdc-source';
import {
  CdcSourceDeclaration,
  normaliseSourceDeclaration,
  sameSourceContent,
  sourceContent,
  sourceRecordKey,
  validateSourceDeclaration,
} from './source-declaration';

export type SourceIntent =
  /** Create or replace; `source.version` is ignored (the store assigns it). expectedVersion 0 = must not exist yet. */
  { op: 'put'; source: CdcSourceDeclaration; expectedVersion?: number } | { op: 'delete'; topic: string; expectedVersion?: number };

export interface SourceChange {
  /** The record key, "source:<topic>". */
  key: string;
  topic: string;
  kind: 'create' | 'update' | 'delete';
  before?: CdcSourceDeclaration;
  after?: CdcSourceDeclaration;
  changes: FieldChange[];
}

export interface SourcePlanContext {
  /** The ownership records in force (not enforced: the bootstrap rule, no topic or entity type check). */
  keyspaces: Keyspaces;
  /** Recorded as `updatedBy`. */
  actor?: string;
  now?: string;
  /** Throw (e.g. RegistryError WRONG_TEAM) to refuse a planned change; nothing is written. */
  authorize?: (change: SourceChange) => void;
}

export interface SourcePlan {
  changes: SourceChange[];
  /** Record keys whose put carried no change. */
  unchanged: string[];
  /** The declarations after the write, by topic. */
  next: Map<string, CdcSourceDeclaration>;
}

export function planSourceWrite(
  current: ReadonlyMap<string, CdcSourceDeclaration>,
  intents: SourceIntent[],
  context: SourcePlanContext,
): SourcePlan {
  const next = new Map(current);
  const changes: SourceChange[] = [];
  const unchanged: string[] = [];
  const named = new Set<string>();
  const now = context.now ?? new Date().toISOString();
  for (const intent of intents) {
    let topic = intent.op === 'put' ? intent.source.topic : intent.topic;
    let after: CdcSourceDeclaration | undefined;
    if (intent.op === 'put') {
      const { version: _v, updatedAt: _a, updatedBy: _b, ...content } = intent.source;
      const checked = validateSourceDeclaration(content);
      if (!checked.source) throw RegistryError.fromViolations(checked.violations);
      after = checked.source;
      topic = after.topic;
    }
    if (named.has(topic))
      throw new RegistryError(
        'SOURCE_CONFLICT',
        `topic "${topic}" is named twice in one write: a topic has one source declaration`,
        'topic',
      );
    named.add(topic);
    const before = next.get(topic);
    if (intent.expectedVersion !== undefined && (before?.version ?? 0) !== intent.expectedVersion)
      throw new RegistryError(
        'VERSION_CONFLICT',
        `source "${topic}" is at version ${before ? before.version : '0 (does not exist)'}, not ${intent.expectedVersion}`,
      );
    const key = sourceRecordKey(topic);
    if (!after) {
      if (!before) throw new RegistryError('SOURCE_NOT_FOUND', `topic "${topic}" has no source declaration`);
      next.delete(topic);
      changes.push({ key, topic, kind: 'delete', before, changes: diffContent(sourceContent(before), undefined, '(source)') });
      continue;
    }
    if (before && sameSourceContent(before, after)) {
      unchanged.push(key);
      continue;
    }
    const stored = normaliseSourceDeclaration({ ...after, version: (before?.version ?? 0) + 1, updatedAt: now, updatedBy: context.actor });
    next.set(topic, stored);
    changes.push({
      key,
      topic,
      kind: before ? 'update' : 'create',
      before,
      after: stored,
      changes: diffContent(before && sourceContent(before), sourceContent(stored), '(source)'),
    });
  }
  for (const change of changes) context.authorize?.(change);
  // The owner must own the topic and the entity type (when keyspaces are enforced): the
  // invalidator refuses a declaration outside them, so the registry never writes one.
  for (const change of changes) if (change.after) context.keyspaces.assertSourceInside(change.after);
  // Only declarations the invalidators apply count: one they refuse (written past the registry
  // outside its owner's keyspaces) versions nothing, and must not veto the owner's declarations.
  const inForce = [...next.values()].filter((s) => context.keyspaces.sourceViolations(s).length === 0);
  for (const change of changes) if (change.after) assertOneVersionScheme(change.after, inForce);
  for (const change of changes) if (change.before && change.after) assertNoVersionDrop(change.before, change.after);
  return { changes, unchanged, next };
}

/**
 * A live declaration switched from WAL positions to a version column: every key of its entity
 * type already holds an LSN (millions and more), above any row version, so each later change
 * would be skipped as older until those versions expire. A column to the LSN only raises them.
 * A change of entity type, or a delete and a new declaration, is not checked: the registry keeps
 * no history of the versions a type's keys hold.
 */
export function assertNoVersionDrop(before: CdcSourceDeclaration, after: CdcSourceDeclaration): void {
  if (before.entityType !== after.entityType || cdcVersionScheme(before) !== 'lsn' || cdcVersionScheme(after) !== 'column') return;
  throw new RegistryError(
    'SOURCE_CONFLICT',
    `source "${after.topic}" versions entity type "${after.entityType}" by WAL position; switching it to version column "${after.versionColumn}" would make every change older than the LSN versions its keys hold (they would be skipped until they expire): delete the declaration, bump the namespace of the entity type's keys, then declare it again`,
    'versionColumn',
  );
}

/**
 * An entity type fed by a version column in one table and by WAL positions in another would be
 * compared across both: an LSN (millions and more) is above every row version, so the tombstone
 * of an LSN-versioned change would make the other table's changes "older" until it expires.
 */
export function assertOneVersionScheme(source: CdcSourceDeclaration, all: Iterable<CdcSourceDeclaration>): void {
  const scheme = cdcVersionScheme(source);
  for (const other of all) {
    if (other.topic === source.topic || other.entityType !== source.entityType || cdcVersionScheme(other) === scheme) continue;
    const describe = (s: CdcSourceDeclaration) =>
      s.versionColumn === undefined ? 'versions by WAL position (no versionColumn)' : `uses version column "${s.versionColumn}"`;
    throw new RegistryError(
      'SOURCE_CONFLICT',
      `source "${source.topic}" ${describe(source)}, but source "${other.topic}" of the same entity type "${source.entityType}" ${describe(other)}: one entity type must be versioned one way (an LSN is above every row version, so one table would freeze the other's invalidations)`,
      'versionColumn',
    );
  }
}

/**
 * Declarations inside their owners' keyspaces under `before` but not under `after` (an
 * ownership change would strand them: the invalidator would refuse their topics), as messages.
 */
export function sourcesStrandedBy(before: Keyspaces, after: Keyspaces, sources: Iterable<CdcSourceDeclaration>): string[] {
  const out: string[] = [];
  for (const source of sources) {
    const violations = after.sourceViolations(source);
    if (violations.length > 0 && before.sourceViolations(source).length === 0) out.push(sourceViolationMessage(source, violations));
  }
  return out;
}
