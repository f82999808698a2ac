// Registry keyspaces: which team owns which key prefixes and entity types. A mapping may only
// produce keys and tags inside its owner team's prefixes, and only for entity types its team
// owns or was granted. Without this, any team could register `product:{entityId}` (another
// team's key), warm it with a far-future version and freeze the real owner out of it.
//
// Ownership records live in the mappings' compacted topic under their own record keys
// ("keyspace:prefix:<prefix>", "keyspace:entity-type:<type>"; a mapping id can never contain
// ":", so they never collide with mappings). They are written by admin tokens only.
//
// Bootstrap rule: enforcement is on as soon as the topic holds at least one keyspace record
// (`enforced`); a topic without any (an existing deployment before the upgrade) is not enforced.
//
// Why prefix coverage is a proof: a template's keys all start with its literal prefix (the
// text before its first placeholder). If team T owns a prefix P that starts that literal prefix,
// and no other team owns a prefix overlapping it (one a prefix of the other), then no rendered
// key can lie in another team's prefix: a key starting with both P and Q means P and Q overlap.
// A template that starts with a placeholder proves nothing and is refused.
import { SAFE_ID_PATTERN } from '@app/contracts';
import { RegistryError, Violation } from '../errors';
import type { Mapping } from '../types';

export const KEYSPACE_RECORD_PREFIX = 'keyspace:';
const PREFIX_RECORD = `${KEYSPACE_RECORD_PREFIX}prefix:`;
const ENTITY_TYPE_RECORD = `${KEYSPACE_RECORD_PREFIX}entity-type:`;

/** Literal characters of a key prefix: those of key templates (no placeholders, no glob, no braces). */
export const KEY_PREFIX_PATTERN = /^[A-Za-z0-9_.:\-/@#=+%|,][A-Za-z0-9_.:\-/@#=+%~|,]*$/;
export const MAX_KEY_PREFIX_LENGTH = 128;

interface RecordMeta {
  /** +1 per change, assigned by the store. */
  version: number;
  updatedAt?: string;
  updatedBy?: string;
}

export interface PrefixOwnership extends RecordMeta {
  kind: 'prefix';
  /** e.g. "product:" */
  prefix: string;
  team: string;
}

export interface EntityTypeOwnership extends RecordMeta {
  kind: 'entityType';
  entityType: string;
  team: string;
  /** Other teams allowed to attach mappings to this entity type (their keys still in their own prefixes). */
  grants: string[];
}

export type KeyspaceRecord = PrefixOwnership | EntityTypeOwnership;

/** The compacted topic's key of a keyspace record. */
export function keyspaceRecordKey(record: Pick<PrefixOwnership, 'kind' | 'prefix'> | Pick<EntityTypeOwnership, 'kind' | 'entityType'>): string {
  return record.kind === 'prefix' ? `${PREFIX_RECORD}${record.prefix}` : `${ENTITY_TYPE_RECORD}${record.entityType}`;
}

export function prefixRecordKey(prefix: string): string {
  return `${PREFIX_RECORD}${prefix}`;
}

export function entityTypeRecordKey(entityType: string): string {
  return `${ENTITY_TYPE_RECORD}${entityType}`;
}

export function isKeyspaceRecordKey(key: string): boolean {
  return key.startsWith(KEYSPACE_RECORD_PREFIX);
}

/** The text of a key/tag template before its first placeholder ("" when it starts with one). */
export function literalPrefix(template: string): string {
  const brace = template.indexOf('{');
  return brace < 0 ? template : template.slice(0, brace);
}

/** Undefined when fine, else why the prefix cannot be owned. */
export function prefixProblem(prefix: unknown): string | undefined {
  if (typeof prefix !== 'string' || prefix.length === 0) return 'a key prefix must be a non-empty string';
  if (prefix.length > MAX_KEY_PREFIX_LENGTH) return `a key prefix is at most ${MAX_KEY_PREFIX_LENGTH} characters`;
  if (prefix.startsWith('~')) return 'a key prefix must not start with "~" (reserved for the cache protocol)';
  if (!KEY_PREFIX_PATTERN.test(prefix)) return `key prefix "${prefix}" may only hold the literal characters of key templates (A-Z a-z 0-9 _ . : - / @ # = + % ~ | ,)`;
  return undefined;
}

function teamProblem(team: unknown, what: string): string | undefined {
  if (typeof team !== 'string' || !SAFE_ID_PATTERN.test(team) || team.length > 64) return `${what} must be a team name matching ${SAFE_ID_PATTERN.source}`;
  return undefined;
}

/** Checks a record's content (throws RegistryError KEYSPACE_INVALID naming the field). */
export function checkKeyspaceRecord(record: KeyspaceRecord): void {
  const problems: Violation[] = [];
  const add = (field: string, message: string | undefined) => message && problems.push({ field, code: 'KEYSPACE_INVALID', message });
  if (record.kind === 'prefix') {
    add('prefix', prefixProblem(record.prefix));
    add('team', teamProblem(record.team, 'team'));
  } else if (record.kind === 'entityType') {
    if (typeof record.entityType !== 'string' || !SAFE_ID_PATTERN.test(record.entityType) || record.entityType.length > 64) {
      add('entityType', `entityType must match ${SAFE_ID_PATTERN.source}`);
    }
    add('team', teamProblem(record.team, 'team'));
    if (!Array.isArray(record.grants)) add('grants', 'grants must be an array of team names');
    else record.grants.forEach((g, i) => add(`grants[${i}]`, teamProblem(g, `grants[${i}]`)));
  } else {
    add('kind', 'kind must be "prefix" or "entityType"');
  }
  if (problems.length > 0) throw RegistryError.fromViolations(problems);
}

/** A keyspace record as read from the topic, or the reason it is refused. */
export function decodeKeyspaceRecord(key: string, value: Buffer | string): KeyspaceRecord | RegistryError {
  let plain: unknown;
  try {
    plain = JSON.parse(typeof value === 'string' ? value : value.toString('utf8'));
  } catch {
    return new RegistryError('KEYSPACE_INVALID', 'value is not JSON');
  }
  if (plain === null || typeof plain !== 'object' || Array.isArray(plain)) return new RegistryError('KEYSPACE_INVALID', 'a keyspace record must be an object');
  const record = plain as KeyspaceRecord;
  try {
    checkKeyspaceRecord(record);
  } catch (error) {
    return error as RegistryError;
  }
  if (keyspaceRecordKey(record) !== key) return new RegistryError('KEYSPACE_INVALID', `record key "${key}" differs from the record's own key "${keyspaceRecordKey(record)}"`);
  if (!Number.isInteger(record.version) || record.version < 1) return new RegistryError('KEYSPACE_INVALID', 'stored keyspace record has no version');
  return normaliseKeyspaceRecord(record);
}

/** Fixed property order and defaults, so equal records serialise equally. */
export function normaliseKeyspaceRecord(record: KeyspaceRecord): KeyspaceRecord {
  const meta = { version: record.version, updatedAt: record.updatedAt, updatedBy: record.updatedBy };
  const out =
    record.kind === 'prefix'
      ? { kind: 'prefix' as const, prefix: record.prefix, team: record.team, ...meta }
      : { kind: 'entityType' as const, entityType: record.entityType, team: record.team, grants: [...new Set(record.grants)].sort(), ...meta };
  return JSON.parse(JSON.stringify(out)) as KeyspaceRecord;
}

export function sameKeyspaceContent(a: KeyspaceRecord, b: KeyspaceRecord): boolean {
  const content = (r: KeyspaceRecord) => {
    const { version: _v, updatedAt: _a, updatedBy: _b, ...rest } = normaliseKeyspaceRecord(r);
    return JSON.stringify(rest);
  };
  return content(a) === content(b);
}

/** An immutable view of the ownership records, with the checks the registry and the invalidator run. */
export class Keyspaces {
  private readonly prefixList: readonly PrefixOwnership[];
  private readonly types: ReadonlyMap<string, EntityTypeOwnership>;

  constructor(records: Iterable<KeyspaceRecord> = []) {
    const prefixes: PrefixOwnership[] = [];
    const types = new Map<string, EntityTypeOwnership>();
    for (const r of records) {
      if (r.kind === 'prefix') prefixes.push(r);
      else types.set(r.entityType, r);
    }
    // Longest first: ownerOf() takes the most specific owner.
    this.prefixList = prefixes.sort((a, b) => b.prefix.length - a.prefix.length || (a.prefix < b.prefix ? -1 : 1));
    this.types = types;
  }

  static readonly NONE = new Keyspaces();

  /** On as soon as any keyspace record exists (bootstrap rule). */
  get enforced(): boolean {
    return this.prefixList.length > 0 || this.types.size > 0;
  }

  get size(): number {
    return this.prefixList.length + this.types.size;
  }

  prefixes(): PrefixOwnership[] {
    return [...this.prefixList].sort((a, b) => (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0));
  }

  entityTypes(): EntityTypeOwnership[] {
    return [...this.types.values()].sort((a, b) => (a.entityType < b.entityType ? -1 : 1));
  }

  entityType(entityType: string): EntityTypeOwnership | undefined {
    return this.types.get(entityType);
  }

  /** The owned prefix (longest) a key or tag starts with, and its team. */
  ownerOf(key: string): PrefixOwnership | undefined {
    return this.prefixList.find((p) => key.startsWith(p.prefix));
  }

  /** Prefixes of other teams that overlap `prefix` (one starts with the other). */
  conflictsOf(prefix: string, team: string): PrefixOwnership[] {
    return this.prefixList.filter((p) => p.team !== team && (prefix.startsWith(p.prefix) || p.prefix.startsWith(prefix)));
  }

  /** Why one key/tag template of team `team` is outside its keyspaces, or undefined when inside. */
  templateProblem(template: string, team: string, what: 'key template' | 'tag template' | 'namespace template'): string | undefined {
    const literal = literalPrefix(template);
    if (literal === '') {
      return `${what} "${template}" starts with a variable, so its keys cannot be proven inside team "${team}"'s key prefixes`;
    }
    // Another team's prefix that the template's keys start with, or that they can reach (nested).
    const foreign = this.prefixList.find((p) => p.team !== team && literal.startsWith(p.prefix)) ?? this.prefixList.find((p) => p.team !== team && p.prefix.startsWith(literal));
    if (foreign) return `${what} "${template}": prefix "${foreign.prefix}" is owned by team "${foreign.team}"`;
    if (this.prefixList.some((p) => p.team === team && literal.startsWith(p.prefix))) return undefined;
    const own = this.prefixList.filter((p) => p.team === team).map((p) => `"${p.prefix}"`);
    return `${what} "${template}": prefix "${literal}" is not owned by any team (team "${team}" owns ${own.length > 0 ? own.sort().join(', ') : 'no key prefix'})`;
  }

  /** Every violation (code FOREIGN_KEYSPACE) of a mapping against its owner's keyspaces; none when not enforced. */
  mappingViolations(mapping: Pick<Mapping, 'entityType' | 'owner' | 'keys' | 'tags' | 'namespaces'>): Violation[] {
    if (!this.enforced) return [];
    const out: Violation[] = [];
    const team = mapping.owner;
    const type = this.types.get(mapping.entityType);
    if (!type) {
      out.push({ field: 'entityType', code: 'FOREIGN_KEYSPACE', message: `entity type "${mapping.entityType}" is not owned by any team (an admin assigns it: PUT /keyspaces/entity-types/${mapping.entityType})` });
    } else if (type.team !== team && !type.grants.includes(team)) {
      out.push({ field: 'entityType', code: 'FOREIGN_KEYSPACE', message: `entity type "${mapping.entityType}" is owned by team "${type.team}" and not granted to team "${team}"` });
    }
    mapping.keys.forEach((rule, i) => {
      const problem = this.templateProblem(rule.template, team, 'key template');
      if (problem) out.push({ field: `keys[${i}].template`, code: 'FOREIGN_KEYSPACE', message: problem });
    });
    mapping.tags.forEach((tag, i) => {
      const problem = this.templateProblem(tag, team, 'tag template');
      if (problem) out.push({ field: `tags[${i}]`, code: 'FOREIGN_KEYSPACE', message: problem });
    });
    // A namespace bump makes every key under it a miss: the namespace must lie inside the team's prefixes too.
    (mapping.namespaces ?? []).forEach((namespace, i) => {
      const problem = this.templateProblem(namespace, team, 'namespace template');
      if (problem) out.push({ field: `namespaces[${i}]`, code: 'FOREIGN_KEYSPACE', message: problem });
    });
    return out;
  }

  /** Throws RegistryError FOREIGN_KEYSPACE naming the mapping, the prefix and its owner. */
  assertMappingInside(mapping: Mapping): void {
    const violations = this.mappingViolations(mapping);
    if (violations.length === 0) return;
    const message = `mapping "${mapping.id}" (owner "${mapping.owner}"): ${violations.map((v) => v.message).join('; ')}`;
    throw new RegistryError('FOREIGN_KEYSPACE', message, violations[0].field, violations);
  }
}
