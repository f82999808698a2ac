// The `keyspaces:` section of a file, in the format of the registry's keyspaces file
// (examples/keyspaces.yaml, `npm run mappings -- keyspaces-apply`):
//
//   keyspaces:
//     prefixes:    { "product:": catalog }                        # key prefix -> owner team
//     entityTypes: { product: catalog }                           # or { team: catalog, grants: [search] }
//     topics:      { cdc.catalog.public.catalog_products: catalog }  # change topic -> the team whose table it is
//
// It turns into the same ownership records the compacted topic holds, checked the same way
// (names, and no two teams owning overlapping prefixes). Every problem names its field,
// e.g. `keyspaces.prefixes["~x:"]` or `keyspaces.entityTypes.product.grants[1]`.
import { RegistryError, Violation } from '../errors';
import {
  checkKeyspaceRecord,
  EntityTypeOwnership,
  KeyspaceRecord,
  Keyspaces,
  normaliseKeyspaceRecord,
  PrefixOwnership,
  TopicOwnership,
} from '../keyspace/keyspaces';

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** `parent.key` for plain names, `parent["key"]` otherwise (prefixes hold ":" and the like). */
function member(parent: string, key: string): string {
  return /^[A-Za-z0-9_-]+$/.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;
}

function violationsOf(record: KeyspaceRecord, at: (field: string) => string): Violation[] {
  try {
    checkKeyspaceRecord(record);
    return [];
  } catch (error) {
    if (!(error instanceof RegistryError)) throw error;
    return error.violations.map((v) => ({ ...v, field: at(v.field) }));
  }
}

/**
 * The ownership records a `keyspaces:` section declares (version 1 each: a file states intent,
 * not history). Throws RegistryError (KEYSPACE_INVALID, or KEYSPACE_CONFLICT for overlapping
 * prefixes of two teams) naming every wrong field under `root`.
 */
export function keyspaceRecordsOf(section: unknown, root = 'keyspaces'): KeyspaceRecord[] {
  const problems: Violation[] = [];
  const invalid = (field: string, message: string) => problems.push({ field, code: 'KEYSPACE_INVALID', message });
  if (!isMap(section)) {
    invalid(
      root,
      'expected { prefixes: { <prefix>: <team> }, entityTypes: { <type>: <team> | { team, grants } }, topics: { <change topic>: <team> } }',
    );
    throw RegistryError.fromViolations(problems);
  }
  for (const key of Object.keys(section))
    if (key !== 'prefixes' && key !== 'entityTypes' && key !== 'topics')
      invalid(member(root, key), 'unknown field (only "prefixes", "entityTypes" and "topics")');
  const prefixes: PrefixOwnership[] = [];
  const types: EntityTypeOwnership[] = [];
  const fieldOf = new Map<KeyspaceRecord, string>();

  const prefixRoot = `${root}.prefixes`;
  if (section.prefixes !== undefined && !isMap(section.prefixes)) invalid(prefixRoot, 'expected a map of key prefix to team');
  for (const [prefix, team] of Object.entries(isMap(section.prefixes) ? section.prefixes : {})) {
    const field = member(prefixRoot, prefix);
    const record: PrefixOwnership = { kind: 'prefix', prefix, team: team as string, version: 1 };
    const found = violationsOf(record, () => field);
    problems.push(...found);
    if (found.length === 0) {
      prefixes.push(record);
      fieldOf.set(record, field);
    }
  }

  const typeRoot = `${root}.entityTypes`;
  if (section.entityTypes !== undefined && !isMap(section.entityTypes))
    invalid(typeRoot, 'expected a map of entity type to team or { team, grants }');
  for (const [entityType, value] of Object.entries(isMap(section.entityTypes) ? section.entityTypes : {})) {
    const field = member(typeRoot, entityType);
    if (isMap(value)) {
      const extra = Object.keys(value).filter((k) => k !== 'team' && k !== 'grants');
      for (const k of extra) invalid(member(field, k), 'unknown field (only "team" and "grants")');
    } else if (typeof value !== 'string') {
      invalid(field, 'expected a team name or { team, grants }');
      continue;
    }
    const team = isMap(value) ? value.team : value;
    const grants = isMap(value) ? (value.grants ?? []) : [];
    const record = { kind: 'entityType', entityType, team, grants, version: 1 } as EntityTypeOwnership;
    const found = violationsOf(record, (f) => (f === 'entityType' || (f === 'team' && !isMap(value)) ? field : `${field}.${f}`));
    problems.push(...found);
    if (found.length === 0) types.push(record);
  }

  const topicRoot = `${root}.topics`;
  const topics: TopicOwnership[] = [];
  if (section.topics !== undefined && !isMap(section.topics)) invalid(topicRoot, 'expected a map of change topic to team');
  for (const [topic, team] of Object.entries(isMap(section.topics) ? section.topics : {})) {
    const field = member(topicRoot, topic);
    const record: TopicOwnership = { kind: 'topic', topic, team: team as string, version: 1 };
    const found = violationsOf(record, () => field);
    problems.push(...found);
    if (found.length === 0) topics.push(record);
  }

  // Two teams owning overlapping prefixes would let one write the other's keys.
  const seen: PrefixOwnership[] = [];
  for (const p of prefixes) {
    const conflict = new Keyspaces(seen).conflictsOf(p.prefix, p.team)[0];
    const field = fieldOf.get(p)!;
    if (conflict) {
      problems.push({
        field,
        code: 'KEYSPACE_CONFLICT',
        message: `prefix "${p.prefix}" of team "${p.team}" overlaps prefix "${conflict.prefix}" owned by team "${conflict.team}"; overlapping prefixes must belong to one team`,
      });
    }
    seen.push(p);
  }
  if (problems.length > 0) throw RegistryError.fromViolations(problems);
  return [...prefixes, ...types, ...topics].map(normaliseKeyspaceRecord);
}
