// The GitOps file format: `mappings: [ ... ]`, one entry per mapping (see examples/mappings/), and
// optionally `sources: [ ... ]`, the team's CDC source declarations (which change topic is which
// entity type); an invalidator's MAPPINGS_FILE may also declare `keyspaces:` (keyspaces-yaml.ts).
import { readFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { RegistryError, Violation } from '../errors';
import type { KeyspaceRecord } from '../keyspace/keyspaces';
import { RegistryLimits, registryLimits } from '../limits';
import { mappingContent, validateMapping } from '../mapping/validate-mapping';
import { MappingSetResolver } from '../resolver/mapping-set-resolver';
import type { Mapping } from '../types';
import { CdcSourceDeclaration, validateSourceDeclaration } from '../source/source-declaration';
import { assertOneVersionScheme } from '../source/source-plan';
import { keyspaceRecordsOf } from './keyspaces-yaml';

/**
 * Checks a whole set: every mapping, unique ids, and the fan-out of all mappings of one entity
 * type together. Throws a RegistryError naming the first wrong field ("mappings[2].keys[0].template").
 */
export function validateMappingSet(plain: unknown[], limits: RegistryLimits = registryLimits()): Mapping[] {
  const violations: Violation[] = [];
  const mappings: Mapping[] = [];
  const seen = new Map<string, number>();
  plain.forEach((item, i) => {
    const result = validateMapping(item, limits);
    violations.push(
      ...result.violations.map((v) => ({ ...v, field: v.field === '(root)' ? `mappings[${i}]` : `mappings[${i}].${v.field}` })),
    );
    if (!result.mapping) return;
    const first = seen.get(result.mapping.id);
    if (first !== undefined) {
      violations.push({
        field: `mappings[${i}].id`,
        code: 'DUPLICATE_MAPPING_ID',
        message: `id "${result.mapping.id}" is also used by mappings[${first}]`,
      });
      return;
    }
    seen.set(result.mapping.id, i);
    mappings.push(result.mapping);
  });
  if (violations.length > 0) throw RegistryError.fromViolations(violations);
  MappingSetResolver.compile(mappings, { limits, mode: 'strict' });
  return mappings;
}

/**
 * Checks a list of source declarations: each one (SOURCE_INVALID naming `sources[i].<field>`),
 * one declaration per topic, one version scheme per entity type. Version 1 each: a file states
 * intent, not history.
 */
export function validateSourceSet(plain: unknown[], root = 'sources'): CdcSourceDeclaration[] {
  const violations: Violation[] = [];
  const sources: CdcSourceDeclaration[] = [];
  const seen = new Map<string, number>();
  plain.forEach((item, i) => {
    const at = `${root}[${i}]`;
    const result = validateSourceDeclaration(item);
    violations.push(...result.violations.map((v) => ({ ...v, field: v.field === '(root)' ? at : `${at}.${v.field}` })));
    if (!result.source) return;
    const first = seen.get(result.source.topic);
    if (first !== undefined) {
      violations.push({
        field: `${at}.topic`,
        code: 'SOURCE_CONFLICT',
        message: `topic "${result.source.topic}" is also declared by ${root}[${first}]: a topic has one source declaration`,
      });
      return;
    }
    seen.set(result.source.topic, i);
    sources.push({ ...result.source, version: 1 });
  });
  if (violations.length > 0) throw RegistryError.fromViolations(violations);
  for (const source of sources) assertOneVersionScheme(source, sources);
  return sources;
}

/** A team's GitOps file: its mappings and, when the file has a `sources:` section, its source declarations. */
export interface TeamFile {
  mappings: Mapping[];
  /** Undefined when the file has no `sources:` section (apply then leaves the team's stored declarations alone). */
  sources?: CdcSourceDeclaration[];
}

/** A mapping file with its optional keyspaces and sources (an invalidator's MAPPINGS_FILE). */
export interface MappingsDocument extends TeamFile {
  /** Undefined when the file has no `keyspaces:` section. */
  keyspaces?: KeyspaceRecord[];
}

function parseDocument(text: string, source: string, allowed: readonly string[]): Record<string, unknown> {
  let document: unknown;
  try {
    document = parse(text, { uniqueKeys: true, prettyErrors: true });
  } catch (error) {
    throw new RegistryError('YAML_INVALID', `${source}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const { mappings, sources } = (document ?? {}) as { mappings?: unknown; sources?: unknown };
  if (
    document === null ||
    typeof document !== 'object' ||
    Array.isArray(document) ||
    !(Array.isArray(mappings) || (mappings === undefined && Array.isArray(sources)))
  ) {
    throw new RegistryError('YAML_INVALID', `${source}: expected a document of the form "mappings: [ ... ]"`, 'mappings');
  }
  if (sources !== undefined && !Array.isArray(sources))
    throw new RegistryError('YAML_INVALID', `${source}: "sources" must be a list of source declarations`, 'sources');
  const extra = Object.keys(document).filter((k) => !allowed.includes(k));
  if (extra.length > 0)
    throw new RegistryError(
      'YAML_INVALID',
      `${source}: unknown top-level field(s) ${extra.join(', ')} (only ${allowed.map((k) => `"${k}"`).join(', ')})`,
      extra[0],
    );
  return document as Record<string, unknown>;
}

function teamFileOf(document: Record<string, unknown>, limits?: RegistryLimits): TeamFile {
  const mappings = validateMappingSet((document.mappings as unknown[] | undefined) ?? [], limits);
  return document.sources === undefined ? { mappings } : { mappings, sources: validateSourceSet(document.sources as unknown[]) };
}

/**
 * The GitOps file a team applies: `mappings:` and optionally `sources:` (keyspaces are declared by
 * an admin, not in a team's file). Throws a RegistryError naming the wrong field.
 */
export function parseTeamFile(text: string, limits?: RegistryLimits, source = 'mappings YAML'): TeamFile {
  return teamFileOf(parseDocument(text, source, ['mappings', 'sources']), limits);
}

/** The mappings of a team's file (its `sources:`, if any, are checked too). */
export function parseMappingsYaml(text: string, limits?: RegistryLimits, source = 'mappings YAML'): Mapping[] {
  return parseTeamFile(text, limits, source).mappings;
}

/**
 * An invalidator's mapping file: `mappings:` and, optionally, `keyspaces:` (keyspaceRecordsOf).
 * Throws a RegistryError whose field names the wrong place (`keyspaces.prefixes["x:"]`, `mappings[2].keys[0].template`).
 */
export function parseMappingsDocument(text: string, limits?: RegistryLimits, source = 'mappings YAML'): MappingsDocument {
  const document = parseDocument(text, source, ['keyspaces', 'mappings', 'sources']);
  const keyspaces = 'keyspaces' in document ? keyspaceRecordsOf(document.keyspaces) : undefined;
  return { ...teamFileOf(document, limits), keyspaces };
}

export function loadMappingsYamlFile(path: string, limits?: RegistryLimits): Mapping[] {
  return parseMappingsYaml(readFileSync(path, 'utf8'), limits, path);
}

export function loadTeamFile(path: string, limits?: RegistryLimits): TeamFile {
  return parseTeamFile(readFileSync(path, 'utf8'), limits, path);
}

export function loadMappingsDocumentFile(path: string, limits?: RegistryLimits): MappingsDocument {
  return parseMappingsDocument(readFileSync(path, 'utf8'), limits, path);
}

/** The set as a YAML file, sorted by id. Versions are left out unless asked for (a file states intent, not history). */
export function dumpMappingsYaml(mappings: readonly Mapping[], options: { includeVersion?: boolean } = {}): string {
  const sorted = [...mappings].sort((a, b) => a.id.localeCompare(b.id));
  const entries = sorted.map((m) => (options.includeVersion ? { ...mappingContent(m), version: m.version } : mappingContent(m)));
  return stringify({ mappings: entries }, { lineWidth: 0 });
}
