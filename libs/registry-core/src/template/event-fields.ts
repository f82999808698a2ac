// The only event fields a template may reference, and the readers compiled for them.
import type { EntityUpdated } from '@app/contracts';
import { RegistryError } from '../errors';

export const TOP_LEVEL_FIELDS = ['entityId', 'entityType', 'tenant', 'version'] as const;
export const STATE_FIELDS = ['after', 'before'] as const;
/** `after.a.b.c.d` at most: deep paths into a payload are a smell, and each level costs a lookup. */
export const MAX_STATE_PATH_DEPTH = 4;

export type TopLevelField = (typeof TOP_LEVEL_FIELDS)[number];
export type StateField = (typeof STATE_FIELDS)[number];

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PLACEHOLDER_CHARS = /^[A-Za-z0-9_.]+$/;

export const KNOWN_FIELDS_HINT = `${TOP_LEVEL_FIELDS.join(', ')}, after.<field>, before.<field>`;

/** Reads one field of an event; undefined when the event does not carry it. Never throws. */
export type FieldReader = (event: EntityUpdated) => unknown;

export interface FieldPath {
  /** As written in the template, e.g. "after.categoryId". */
  readonly path: string;
  readonly read: FieldReader;
}

function topLevelReader(field: TopLevelField): FieldReader {
  switch (field) {
    case 'entityId':
      return (e) => e.entityId;
    case 'entityType':
      return (e) => e.entityType;
    case 'tenant':
      return (e) => e.tenant;
    case 'version':
      return (e) => e.version;
  }
}

// Own properties only: `after.constructor` must not find Object.prototype.constructor.
function stateReader(root: StateField, path: readonly string[]): FieldReader {
  if (path.length === 1) {
    const [name] = path;
    return (e) => {
      const state = e[root];
      return state !== null && typeof state === 'object' && Object.hasOwn(state, name) ? state[name] : undefined;
    };
  }
  return (e) => {
    let value: unknown = e[root];
    for (const name of path) {
      if (value === null || typeof value !== 'object' || !Object.hasOwn(value, name)) return undefined;
      value = (value as Record<string, unknown>)[name];
    }
    return value;
  };
}

/** Parses the inside of a `{...}` placeholder. Throws TEMPLATE_SYNTAX or TEMPLATE_UNKNOWN_FIELD. */
export function parseFieldPath(raw: string, template: string): FieldPath {
  if (raw.length === 0) throw new RegistryError('TEMPLATE_SYNTAX', `template "${template}": empty placeholder {}`);
  if (!PLACEHOLDER_CHARS.test(raw)) {
    throw new RegistryError(
      'TEMPLATE_SYNTAX',
      `template "${template}": placeholder {${raw}} may only contain letters, digits, "_" and "."`,
    );
  }
  if ((TOP_LEVEL_FIELDS as readonly string[]).includes(raw)) return { path: raw, read: topLevelReader(raw as TopLevelField) };
  const [root, ...rest] = raw.split('.');
  if ((STATE_FIELDS as readonly string[]).includes(root) && rest.length > 0) {
    if (rest.length > MAX_STATE_PATH_DEPTH) {
      throw new RegistryError(
        'TEMPLATE_UNKNOWN_FIELD',
        `template "${template}": {${raw}} is deeper than ${MAX_STATE_PATH_DEPTH} levels below ${root}`,
      );
    }
    if (rest.every((name) => IDENTIFIER.test(name))) return { path: raw, read: stateReader(root as StateField, rest) };
  }
  throw new RegistryError(
    'TEMPLATE_UNKNOWN_FIELD',
    `template "${template}": {${raw}} is not a known event field (known: ${KNOWN_FIELDS_HINT})`,
  );
}
