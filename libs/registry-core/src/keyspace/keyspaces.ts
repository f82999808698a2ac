// Registry keyspaces: which team owns which key prefixes and entity types. A mapping may only
// produce keys and tags inside its owner team's prefixes, and only for entity types its team
// owns or was granted. Without this, any team could register `product:{entityId}` (another
// team's key), warm it with a far-future version and freeze the real owner out of it.
//
// Ownership records live in the mappings' compacted topic under their own record keys
// ("keyspace:prefix:<prefix>", "keyspace:entity-type:<type>", "keyspace:team:<team>"; a mapping
// id can never contain ":", so they never collide with mappings). They are written by admin
// tokens only.
//
// Team records own hosts: the loader hosts a team's warms may call, the purge hosts its purge
// URLs may name and the surrogate-key prefixes its purged tags must lie in (host patterns are
// exact names or "*.suffix"). When keyspaces are enforced, a team without a record may neither
// warm from a loader nor purge. Surrogate-key prefixes are proven like key prefixes (below):
// a purged tag template's literal prefix starts with one of its team's surrogate prefixes, and
// no other team's surrogate prefix overlaps it.
//
// Topic records own change-data-capture sources: "keyspace:topic:<topic>" says which team's
// table a Debezium change topic is. Only that team may declare the topic's source (which entity
// type its rows are, and which columns give id, tenant and version), and only as an entity type it
// owns (a grant is not enough): otherwise a team could read another team's rows into its keys
// (warm from after) or freeze another team's invalidations with a wrong version column.
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
import type { CdcSourceDeclaration } from '../source/source-declaration';
import { KAFKA_TOPIC_PATTERN } from '../source/source.dto';
import { urlTemplateHost } from '../template/key-template';
import type { Mapping } from '../types';
import { hostMatches, hostPatternProblem } from '../url/target-url';

export const KEYSPACE_RECORD_PREFIX = 'keyspace:';
const PREFIX_RECORD = `${KEYSPACE_RECORD_PREFIX}prefix:`;
const ENTITY_TYPE_RECORD = `${KEYSPACE_RECORD_PREFIX}entity-type:`;
const TEAM_RECORD = `${KEYSPACE_RECORD_PREFIX}team:`;
const TOPIC_RECORD = `${KEYSPACE_RECORD_PREFIX}topic:`;
/** Most host patterns or surrogate-key prefixes one team record lists (each list). */
export const MAX_TEAM_LIST = 100;

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

/** The hosts and surrogate keys one team's mappings may use (loader warms, CDN purges). */
export interface TeamHosts extends RecordMeta {
  kind: 'team';
  team: string;
  /** Host patterns (exact or "*.suffix") its loader URLs may name. */
  loaderHosts: string[];
  /** Host patterns its purge URLs may name. */
  purgeHosts: string[];
  /** Prefixes its purged tags (surrogate keys sent to HTTP caches) must start with. */
  surrogateKeyPrefixes: string[];
}

/** A Debezium change topic (one table of one database) owned by a team: only it may declare the topic's source. */
export interface TopicOwnership extends RecordMeta {
  kind: 'topic';
  /** e.g. "cdc.catalog.public.catalog_products" */
  topic: string;
  team: string;
}

export type KeyspaceRecord = PrefixOwnership | EntityTypeOwnership | TeamHosts | TopicOwnership;

/**
 * Two prefixes overlap when one starts with the other, compared without case: some CDNs
 * (Cloudflare) compare cache tags without case, so "SHOP:" next to another team's "shop:" would
 * let one team purge the other's tags there. Declaring such a pair is a conflict.
 */
function overlapsIgnoringCase(a: string, b: string): boolean {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  return x.startsWith(y) || y.startsWith(x);
}

/** The compacted topic's key of a keyspace record. */
export function keyspaceRecordKey(
  record:
    | Pick<PrefixOwnership, 'kind' | 'prefix'>
    | Pick<EntityTypeOwnership, 'kind' | 'entityType'>
    | Pick<TeamHosts, 'kind' | 'team'>
    | Pick<TopicOwnership, 'kind' | 'topic'>,
): string {
  if (record.kind === 'prefix') return `${PREFIX_RECORD}${record.prefix}`;
  if (record.kind === 'entityType') return `${ENTITY_TYPE_RECORD}${record.entityType}`;
  if (record.kind === 'topic') return `${TOPIC_RECORD}${record.topic}`;
  return `${TEAM_RECORD}${record.team}`;
}

export function topicRecordKey(topic: string): string {
  return `${TOPIC_RECORD}${topic}`;
}

export function teamRecordKey(team: string): string {
  return `${TEAM_RECORD}${team}`;
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
  if (!KEY_PREFIX_PATTERN.test(prefix))
    return `key prefix "${prefix}" may only hold the literal characters of key templates (A-Z a-z 0-9 _ . : - / @ # = + % ~ | ,)`;
  return undefined;
}

function teamProblem(team: unknown, what: string): string | undefined {
  if (typeof team !== 'string' || !SAFE_ID_PATTERN.test(team) || team.length > 64)
    return `${what} must be a team name matching ${SAFE_ID_PATTERN.source}`;
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
  } else if (record.kind === 'team') {
    add('team', teamProblem(record.team, 'team'));
    const list = (field: 'loaderHosts' | 'purgeHosts' | 'surrogateKeyPrefixes', check: (v: unknown) => string | undefined) => {
      const values = record[field];
      if (!Array.isArray(values) || values.length > MAX_TEAM_LIST)
        add(field, `${field} must be an array of at most ${MAX_TEAM_LIST} entries`);
      else values.forEach((v, i) => add(`${field}[${i}]`, check(v)));
    };
    list('loaderHosts', hostPatternProblem);
    list('purgeHosts', hostPatternProblem);
    list('surrogateKeyPrefixes', (v) =>
      prefixProblem(v)?.replace('a key prefix', 'a surrogate-key prefix').replace('key prefix "', 'surrogate-key prefix "'),
    );
  } else if (record.kind === 'topic') {
    if (typeof record.topic !== 'string' || !KAFKA_TOPIC_PATTERN.test(record.topic))
      add('topic', 'topic must be a Kafka topic name (A-Z a-z 0-9 . _ -, at most 249 characters, not "." or "..")');
    add('team', teamProblem(record.team, 'team'));
  } else {
    add('kind', 'kind must be "prefix", "entityType", "team" or "topic"');
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
  if (plain === null || typeof plain !== 'object' || Array.isArray(plain))
    return new RegistryError('KEYSPACE_INVALID', 'a keyspace record must be an object');
  const record = plain as KeyspaceRecord;
  try {
    checkKeyspaceRecord(record);
  } catch (error) {
    return error as RegistryError;
  }
  if (keyspaceRecordKey(record) !== key)
    return new RegistryError('KEYSPACE_INVALID', `record key "${key}" differs from the record's own key "${keyspaceRecordKey(record)}"`);
  if (!Number.isInteger(record.version) || record.version < 1)
    return new RegistryError('KEYSPACE_INVALID', 'stored keyspace record has no version');
  return normaliseKeyspaceRecord(record);
}

/** Fixed property order and defaults, so equal records serialise equally. */
export function normaliseKeyspaceRecord(record: KeyspaceRecord): KeyspaceRecord {
  const meta = { version: record.version, updatedAt: record.updatedAt, updatedBy: record.updatedBy };
  const sorted = (values: string[]) => [...new Set(values)].sort();
  const out =
    record.kind === 'prefix'
      ? { kind: 'prefix' as const, prefix: record.prefix, team: record.team, ...meta }
      : record.kind === 'topic'
        ? { kind: 'topic' as const, topic: record.topic, team: record.team, ...meta }
        : record.kind === 'entityType'
          ? { kind: 'entityType' as const, entityType: record.entityType, team: record.team, grants: sorted(record.grants), ...meta }
          : {
              kind: 'team' as const,
              team: record.team,
              loaderHosts: sorted(record.loaderHosts.map((h) => h.toLowerCase())),
              purgeHosts: sorted(record.purgeHosts.map((h) => h.toLowerCase())),
              surrogateKeyPrefixes: sorted(record.surrogateKeyPrefixes),
              ...meta,
            };
  return JSON.parse(JSON.stringify(out)) as KeyspaceRecord;
}

export function sameKeyspaceContent(a: KeyspaceRecord, b: KeyspaceRecord): boolean {
  const content = (r: KeyspaceRecord) => {
    const { version: _v, updatedAt: _a, updatedBy: _b, ...rest } = normaliseKeyspaceRecord(r);
    return JSON.stringify(rest);
  };
  return content(a) === content(b);
}

/** `source "<topic>" (owner "<team>"): <problems>`, as the registry answers and the invalidator dead-letters. */
export function sourceViolationMessage(source: Pick<CdcSourceDeclaration, 'topic' | 'owner'>, violations: Violation[]): string {
  return `source "${source.topic}" (owner "${source.owner}"): ${violations.map((v) => v.message).join('; ')}`;
}

/** An immutable view of the ownership records, with the checks the registry and the invalidator run. */
export class Keyspaces {
  private readonly prefixList: readonly PrefixOwnership[];
  private readonly types: ReadonlyMap<string, EntityTypeOwnership>;
  private readonly teamHosts: ReadonlyMap<string, TeamHosts>;
  private readonly topicOwners: ReadonlyMap<string, TopicOwnership>;

  constructor(records: Iterable<KeyspaceRecord> = []) {
    const prefixes: PrefixOwnership[] = [];
    const types = new Map<string, EntityTypeOwnership>();
    const teams = new Map<string, TeamHosts>();
    const topics = new Map<string, TopicOwnership>();
    for (const r of records) {
      if (r.kind === 'prefix') prefixes.push(r);
      else if (r.kind === 'entityType') types.set(r.entityType, r);
      else if (r.kind === 'team') teams.set(r.team, r);
      else if (r.kind === 'topic') topics.set(r.topic, r);
    }
    // Longest first: ownerOf() takes the most specific owner.
    this.prefixList = prefixes.sort((a, b) => b.prefix.length - a.prefix.length || (a.prefix < b.prefix ? -1 : 1));
    this.types = types;
    this.teamHosts = teams;
    this.topicOwners = topics;
  }

  static readonly NONE = new Keyspaces();

  /** On as soon as any keyspace record exists (bootstrap rule). */
  get enforced(): boolean {
    return this.size > 0;
  }

  get size(): number {
    return this.prefixList.length + this.types.size + this.teamHosts.size + this.topicOwners.size;
  }

  /** Change topics and the team each belongs to (admin grants for CDC source declarations). */
  topics(): TopicOwnership[] {
    return [...this.topicOwners.values()].sort((a, b) => (a.topic < b.topic ? -1 : 1));
  }

  topic(topic: string): TopicOwnership | undefined {
    return this.topicOwners.get(topic);
  }

  /**
   * Every violation (FOREIGN_KEYSPACE) of a CDC source declaration against its owner's keyspaces;
   * none when not enforced. The owner must own the change topic (an admin's topic record) and the
   * entity type itself: a team granted the entity type attaches mappings to it, but a source
   * decides every version and every row of the type, which is the owner's alone.
   */
  sourceViolations(source: Pick<CdcSourceDeclaration, 'topic' | 'owner' | 'entityType'>): Violation[] {
    if (!this.enforced) return [];
    const out: Violation[] = [];
    const team = source.owner;
    const topic = this.topicOwners.get(source.topic);
    if (!topic) {
      out.push({
        field: 'topic',
        code: 'FOREIGN_KEYSPACE',
        message: `topic "${source.topic}" is not owned by any team (an admin grants it: PUT /keyspaces/topics/${source.topic})`,
      });
    } else if (topic.team !== team) {
      out.push({ field: 'topic', code: 'FOREIGN_KEYSPACE', message: `topic "${source.topic}" is owned by team "${topic.team}"` });
    }
    const type = this.types.get(source.entityType);
    if (!type) {
      out.push({
        field: 'entityType',
        code: 'FOREIGN_KEYSPACE',
        message: `entity type "${source.entityType}" is not owned by any team (an admin assigns it: PUT /keyspaces/entity-types/${source.entityType})`,
      });
    } else if (type.team !== team) {
      out.push({
        field: 'entityType',
        code: 'FOREIGN_KEYSPACE',
        message: `entity type "${source.entityType}" is owned by team "${type.team}"${type.grants.includes(team) ? ` (a grant lets team "${team}" attach mappings to it, not declare its sources)` : ''}`,
      });
    }
    return out;
  }

  /** Throws RegistryError FOREIGN_KEYSPACE naming the source, the topic or entity type and its owner. */
  assertSourceInside(source: Pick<CdcSourceDeclaration, 'topic' | 'owner' | 'entityType'>): void {
    const violations = this.sourceViolations(source);
    if (violations.length === 0) return;
    throw new RegistryError('FOREIGN_KEYSPACE', sourceViolationMessage(source, violations), violations[0].field, violations);
  }

  teams(): TeamHosts[] {
    return [...this.teamHosts.values()].sort((a, b) => (a.team < b.team ? -1 : 1));
  }

  team(team: string): TeamHosts | undefined {
    return this.teamHosts.get(team);
  }

  /** Surrogate-key prefixes of other teams that overlap `prefix` (one starts with the other). */
  surrogateConflictsOf(prefix: string, team: string): { prefix: string; team: string }[] {
    const out: { prefix: string; team: string }[] = [];
    for (const other of this.teamHosts.values()) {
      if (other.team === team) continue;
      for (const p of other.surrogateKeyPrefixes) if (overlapsIgnoringCase(prefix, p)) out.push({ prefix: p, team: other.team });
    }
    return out;
  }

  /** Why a loader (or purge) URL host is not one of team `team`'s hosts; undefined when it is. */
  hostProblem(host: string, team: string, which: 'loader' | 'purge'): string | undefined {
    const record = this.teamHosts.get(team);
    const patterns = record ? (which === 'loader' ? record.loaderHosts : record.purgeHosts) : [];
    if (hostMatches(host, patterns)) return undefined;
    if (patterns.length === 0) {
      return `team "${team}" has no ${which} hosts (an admin declares them: PUT /keyspaces/teams/${team}), so its mappings may not ${which === 'loader' ? 'warm from a loader' : 'purge URLs'}`;
    }
    return `host "${host}" is not one of team "${team}"'s ${which} hosts (${patterns.map((p) => `"${p}"`).join(', ')})`;
  }

  /** Why a purged tag template of team `team` is not provably inside its surrogate-key prefixes. */
  surrogateProblem(template: string, team: string): string | undefined {
    const literal = literalPrefix(template);
    const own = this.teamHosts.get(team)?.surrogateKeyPrefixes ?? [];
    if (own.length === 0)
      return `team "${team}" has no surrogate-key prefixes (an admin declares them: PUT /keyspaces/teams/${team}), so its mappings may not purge tags`;
    if (literal === '')
      return `purged tag "${template}" starts with a variable, so its surrogate keys cannot be proven inside team "${team}"'s surrogate-key prefixes`;
    const foreign = this.surrogateConflictsOf(literal, team).find((c) => literal.startsWith(c.prefix) || c.prefix.startsWith(literal));
    if (foreign) return `purged tag "${template}": surrogate-key prefix "${foreign.prefix}" belongs to team "${foreign.team}"`;
    if (own.some((p) => literal.startsWith(p))) return undefined;
    return `purged tag "${template}" is not inside team "${team}"'s surrogate-key prefixes (${own.map((p) => `"${p}"`).join(', ')})`;
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
    return this.prefixList.filter((p) => p.team !== team && overlapsIgnoringCase(prefix, p.prefix));
  }

  /** Why one key/tag template of team `team` is outside its keyspaces, or undefined when inside. */
  templateProblem(template: string, team: string, what: 'key template' | 'tag template' | 'namespace template'): string | undefined {
    const literal = literalPrefix(template);
    if (literal === '') {
      return `${what} "${template}" starts with a variable, so its keys cannot be proven inside team "${team}"'s key prefixes`;
    }
    // Another team's prefix that the template's keys start with, or that they can reach (nested).
    const foreign =
      this.prefixList.find((p) => p.team !== team && literal.startsWith(p.prefix)) ??
      this.prefixList.find((p) => p.team !== team && p.prefix.startsWith(literal));
    if (foreign) return `${what} "${template}": prefix "${foreign.prefix}" is owned by team "${foreign.team}"`;
    if (this.prefixList.some((p) => p.team === team && literal.startsWith(p.prefix))) return undefined;
    const own = this.prefixList.filter((p) => p.team === team).map((p) => `"${p.prefix}"`);
    return `${what} "${template}": prefix "${literal}" is not owned by any team (team "${team}" owns ${own.length > 0 ? own.sort().join(', ') : 'no key prefix'})`;
  }

  /** Every violation (code FOREIGN_KEYSPACE) of a mapping against its owner's keyspaces; none when not enforced. */
  mappingViolations(mapping: Pick<Mapping, 'entityType' | 'owner' | 'keys' | 'tags' | 'namespaces' | 'purge'>): Violation[] {
    if (!this.enforced) return [];
    const out: Violation[] = [];
    const team = mapping.owner;
    const type = this.types.get(mapping.entityType);
    if (!type) {
      out.push({
        field: 'entityType',
        code: 'FOREIGN_KEYSPACE',
        message: `entity type "${mapping.entityType}" is not owned by any team (an admin assigns it: PUT /keyspaces/entity-types/${mapping.entityType})`,
      });
    } else if (type.team !== team && !type.grants.includes(team)) {
      out.push({
        field: 'entityType',
        code: 'FOREIGN_KEYSPACE',
        message: `entity type "${mapping.entityType}" is owned by team "${type.team}" and not granted to team "${team}"`,
      });
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
    // Hosts: a loader URL and a purge URL must name one of the team's hosts (their host is literal).
    mapping.keys.forEach((rule, i) => {
      if (rule.action !== 'warm' || typeof rule.warmFrom !== 'object' || rule.warmFrom === null) return;
      const parsed = urlTemplateHost(rule.warmFrom.loaderUrl);
      const problem = 'problem' in parsed ? parsed.problem : this.hostProblem(parsed.host, team, 'loader');
      if (problem)
        out.push({
          field: `keys[${i}].warmFrom.loaderUrl`,
          code: 'FOREIGN_KEYSPACE',
          message: `loader URL "${rule.warmFrom.loaderUrl}": ${problem}`,
        });
    });
    (mapping.purge?.urls ?? []).forEach((url, i) => {
      const parsed = urlTemplateHost(url);
      const problem = 'problem' in parsed ? parsed.problem : this.hostProblem(parsed.host, team, 'purge');
      if (problem) out.push({ field: `purge.urls[${i}]`, code: 'FOREIGN_KEYSPACE', message: `purge URL "${url}": ${problem}` });
    });
    // Purged tags are sent to HTTP caches as surrogate keys: they must lie in the team's surrogate-key prefixes.
    if (mapping.purge !== undefined && mapping.purge.tags !== false) {
      const problems = mapping.tags.map((tag) => this.surrogateProblem(tag, team)).filter((p): p is string => p !== undefined);
      if (problems.length > 0) out.push({ field: 'purge.tags', code: 'FOREIGN_KEYSPACE', message: [...new Set(problems)].join('; ') });
    }
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
