// The GitOps file format: `mappings: [ ... ]`, one entry per mapping (see examples/mappings/).
import { readFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { RegistryError, Violation } from '../errors';
import { RegistryLimits, registryLimits } from '../limits';
import { mappingContent, validateMapping } from '../mapping/validate-mapping';
import { MappingSetResolver } from '../resolver/mapping-set-resolver';
import type { Mapping } from '../types';

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
    violations.push(...result.violations.map((v) => ({ ...v, field: v.field === '(root)' ? `mappings[${i}]` : `mappings[${i}].${v.field}` })));
    if (!result.mapping) return;
    const first = seen.get(result.mapping.id);
    if (first !== undefined) {
      violations.push({ field: `mappings[${i}].id`, code: 'DUPLICATE_MAPPING_ID', message: `id "${result.mapping.id}" is also used by mappings[${first}]` });
      return;
    }
    seen.set(result.mapping.id, i);
    mappings.push(result.mapping);
  });
  if (violations.length > 0) throw RegistryError.fromViolations(violations);
  MappingSetResolver.compile(mappings, { limits, mode: 'strict' });
  return mappings;
}

export function parseMappingsYaml(text: string, limits?: RegistryLimits, source = 'mappings YAML'): Mapping[] {
  let document: unknown;
  try {
    document = parse(text, { uniqueKeys: true, prettyErrors: true });
  } catch (error) {
    throw new RegistryError('YAML_INVALID', `${source}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (document === null || typeof document !== 'object' || Array.isArray(document) || !Array.isArray((document as { mappings?: unknown }).mappings)) {
    throw new RegistryError('YAML_INVALID', `${source}: expected a document of the form "mappings: [ ... ]"`, 'mappings');
  }
  const extra = Object.keys(document).filter((k) => k !== 'mappings');
  if (extra.length > 0) throw new RegistryError('YAML_INVALID', `${source}: unknown top-level field(s) ${extra.join(', ')} (only "mappings")`, extra[0]);
  return validateMappingSet((document as { mappings: unknown[] }).mappings, limits);
}

export function loadMappingsYamlFile(path: string, limits?: RegistryLimits): Mapping[] {
  return parseMappingsYaml(readFileSync(path, 'utf8'), limits, path);
}

/** The set as a YAML file, sorted by id. Versions are left out unless asked for (a file states intent, not history). */
export function dumpMappingsYaml(mappings: readonly Mapping[], options: { includeVersion?: boolean } = {}): string {
  const sorted = [...mappings].sort((a, b) => a.id.localeCompare(b.id));
  const entries = sorted.map((m) => (options.includeVersion ? { ...mappingContent(m), version: m.version } : mappingContent(m)));
  return stringify({ mappings: entries }, { lineWidth: 0 });
}
