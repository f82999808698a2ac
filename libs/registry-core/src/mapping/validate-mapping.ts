// Input -> a checked, normalised Mapping, or every violation with the field that is wrong.
// Used by the YAML loader, the store (records read from the topic) and the registry API.
import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
import { RegistryError, RegistryErrorCode, Violation } from '../errors';
import { RegistryLimits, registryLimits } from '../limits';
import type { KeyRule, Mapping } from '../types';
import { compileMapping } from './compile-mapping';
import { KeyRuleDto, MappingDto, MappingSpecDto } from './mapping.dto';

function joinPath(prefix: string, property: string): string {
  if (/^\d+$/.test(property)) return `${prefix}[${property}]`;
  return prefix ? `${prefix}.${property}` : property;
}

/** class-validator errors -> violations named like "keys[0].template". */
export function violationsOf(errors: ValidationError[], prefix = ''): Violation[] {
  return errors.flatMap((error) => {
    const field = joinPath(prefix, error.property);
    const own = Object.values(error.constraints ?? {}).map((message) => ({
      field,
      code: 'MAPPING_INVALID' as const,
      message: message.replace(/^property /, ''),
    }));
    return [...own, ...violationsOf(error.children ?? [], field)];
  });
}

export const MAPPING_VALIDATOR_OPTIONS = { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true } as const;

/**
 * Paths of own keys named "__proto__" or "constructor" anywhere in a parsed JSON/YAML value.
 * class-transformer (behind every DTO check) silently drops the first and throws a TypeError on
 * the second inside an untyped object (a rename map, a loader spec, an event's `after`): a 500
 * for a request, a throw in the follower for a record. So they are refused before it runs.
 * Iterative: no nesting depth can overflow the stack.
 */
export function objectInternalKeys(plain: unknown, root = '', max = 10): string[] {
  const out: string[] = [];
  const stack: [string, unknown][] = [[root, plain]];
  while (stack.length > 0 && out.length < max) {
    const [path, value] = stack.pop()!;
    if (value === null || typeof value !== 'object') continue;
    if (Array.isArray(value)) {
      value.forEach((v, i) => stack.push([`${path}[${i}]`, v]));
      continue;
    }
    for (const key of Object.keys(value)) {
      const at = path ? `${path}.${key}` : key;
      if (key === '__proto__' || key === 'constructor') out.push(at);
      else stack.push([at, (value as Record<string, unknown>)[key]]);
    }
  }
  return out;
}

/**
 * Structural check of any registry record against its class-validator DTO (types, patterns,
 * unknown properties); each violation carries `code` and names its field.
 */
export function validateShape<T extends object>(
  plain: unknown,
  cls: new () => T,
  code: RegistryErrorCode = 'MAPPING_INVALID',
  what = 'a mapping',
): { value?: T; violations: Violation[] } {
  if (plain === null || typeof plain !== 'object' || Array.isArray(plain)) {
    return { violations: [{ field: '(root)', code, message: `${what} must be an object` }] };
  }
  const internal = objectInternalKeys(plain);
  if (internal.length > 0)
    return {
      violations: internal.map((field) => ({ field, code, message: 'names __proto__ or constructor (object internals): not allowed' })),
    };
  const value = plainToInstance(cls, plain);
  const violations = violationsOf(validateSync(value, MAPPING_VALIDATOR_OPTIONS)).map((v) => ({ ...v, code }));
  return violations.length > 0 ? { violations } : { value, violations };
}

/** Structural check only (types, patterns, unknown properties). */
export function validateMappingShape<T extends MappingSpecDto>(plain: unknown, cls: new () => T): { value?: T; violations: Violation[] } {
  return validateShape(plain, cls);
}

function normaliseRule(rule: KeyRuleDto): KeyRule {
  const out: KeyRule = { template: rule.template, action: rule.action };
  if (rule.ttlSeconds !== undefined) out.ttlSeconds = rule.ttlSeconds;
  if (rule.tombstoneTtlSeconds !== undefined) out.tombstoneTtlSeconds = rule.tombstoneTtlSeconds;
  if (rule.action === 'warm') out.warmFrom = typeof rule.warmFrom === 'object' ? { loaderUrl: rule.warmFrom.loaderUrl } : 'after';
  else if (rule.warmFrom !== undefined) out.warmFrom = rule.warmFrom;
  return out;
}

/** A plain Mapping with a fixed property order and defaults filled (warmFrom "after", tags []). */
export function normaliseMapping(
  input: Omit<MappingSpecDto, 'keys'> & {
    keys: KeyRuleDto[] | KeyRule[];
    id: string;
    version?: number;
    updatedAt?: string;
    updatedBy?: string;
  },
): Mapping {
  const out: Mapping = {
    id: input.id,
    entityType: input.entityType,
    keys: input.keys.map((k) => normaliseRule(k)),
    tags: [...(input.tags ?? [])],
    owner: input.owner,
    version: input.version ?? 0,
  };
  if (input.namespaces !== undefined && input.namespaces.length > 0) out.namespaces = [...input.namespaces];
  if (input.purge !== undefined) {
    out.purge = {};
    if (input.purge.tags !== undefined) out.purge.tags = input.purge.tags;
    if (input.purge.urls !== undefined) out.purge.urls = [...input.purge.urls];
  }
  if (input.tenant !== undefined) out.tenant = input.tenant;
  if (input.description !== undefined) out.description = input.description;
  if (input.updatedAt !== undefined) out.updatedAt = input.updatedAt;
  if (input.updatedBy !== undefined) out.updatedBy = input.updatedBy;
  // Canonical property order, so JSON of equal mappings is equal.
  const { id, entityType, tenant, keys, tags, namespaces, purge, owner, description, version, updatedAt, updatedBy } = out;
  return JSON.parse(
    JSON.stringify({ id, entityType, tenant, keys, tags, namespaces, purge, owner, description, version, updatedAt, updatedBy }),
  ) as Mapping;
}

export interface MappingValidation {
  mapping?: Mapping;
  violations: Violation[];
}

/**
 * Full check of one mapping: shape, then templates and per-mapping fan-out against `limits`.
 * A missing version becomes 0 ("not stored yet").
 */
export function validateMapping(plain: unknown, limits: RegistryLimits = registryLimits()): MappingValidation {
  const shape = validateMappingShape(plain, MappingDto);
  if (!shape.value) return { violations: shape.violations };
  const mapping = normaliseMapping(shape.value);
  try {
    compileMapping(mapping, limits);
  } catch (error) {
    if (error instanceof RegistryError) return { violations: error.violations };
    throw error;
  }
  return { mapping, violations: [] };
}

/** The part of a mapping that changes behaviour: everything but version and change metadata. */
export function mappingContent(mapping: Mapping): Omit<Mapping, 'version' | 'updatedAt' | 'updatedBy'> {
  const { version: _v, updatedAt: _a, updatedBy: _b, ...content } = normaliseMapping(mapping);
  return content;
}

export function sameContent(a: Mapping, b: Mapping): boolean {
  return JSON.stringify(mappingContent(a)) === JSON.stringify(mappingContent(b));
}
