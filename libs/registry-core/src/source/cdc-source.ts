// A table change-data-capture source: which entity type the rows of one Debezium change topic
// are, and which columns give the entity id, the tenant and the version. Declared either by an
// invalidator deployment's CDC_* settings (operators) or by a source declaration in the registry
// (teams, source-declaration.ts). Both are checked here, by the same rules, so a name the env
// path refuses is refused by the registry too.
import { SAFE_ID_PATTERN } from '@app/contracts';
import type { Violation } from '../errors';

export interface CdcSource {
  /** The entity type every row of the table is (selects the mappings). */
  entityType: string;
  /** Primary-key columns giving entityId (joined with "." when several). */
  idColumns: string[];
  /** A column holding a version that grows with every change of the row; absent: the change's WAL position (LSN). */
  versionColumn?: string;
  /** A column holding the tenant, if the table has one. */
  tenantColumn?: string;
  /** Column -> event field renames in before/after (e.g. category_id -> categoryId), so templates read like the outbox event's. */
  fields: Record<string, string>;
  /** Columns that arrive as decimal strings (decimal.handling.mode=string) and are numbers in the event. */
  numericColumns: string[];
  /** Columns never copied into before/after (a warm value must not carry them). */
  excludeColumns: string[];
}

/** A column or field name: an SQL identifier without quoting (what the CDC_* settings always accepted). */
export const CDC_COLUMN_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
/** Names that are object internals in JavaScript: a column or field called so could reach an event's prototype. */
export const CDC_RESERVED_NAMES: readonly string[] = ['__proto__', 'constructor', 'prototype'];
/** Most entries of each column list and of the renames: every record's decode looks them up. */
export const MAX_CDC_COLUMNS = 256;
/** Most id columns (joined into one entity id). */
export const MAX_CDC_ID_COLUMNS = 16;
export const MAX_ENTITY_TYPE_LENGTH = 64;

/** The fields of a CdcSource, as `label` names them in messages (registry: the field; env: the variable). */
export type CdcSourceField = 'entityType' | 'idColumns' | 'versionColumn' | 'tenantColumn' | 'fields' | 'numericColumns' | 'excludeColumns';

const RESERVED_MESSAGE = 'names __proto__, constructor or prototype: not allowed';

/**
 * Every problem of a source's names, each naming its field (`idColumns[1]`, `fields.category_id`);
 * `label` says how a message names a field (the registry: the field itself; the env path: its variable).
 */
export function cdcSourceViolations(source: CdcSource, label: (field: CdcSourceField) => string = (f) => f): Violation[] {
  const out: Violation[] = [];
  const add = (field: string, message: string) => out.push({ field, code: 'SOURCE_INVALID', message });
  const name = (field: string, base: CdcSourceField, value: unknown) => {
    if (typeof value !== 'string' || !CDC_COLUMN_PATTERN.test(value))
      add(field, `${label(base)} must name columns matching ${CDC_COLUMN_PATTERN.source} (got ${JSON.stringify(value)})`);
    else if (CDC_RESERVED_NAMES.includes(value)) add(field, `${label(base)} ${RESERVED_MESSAGE}`);
  };
  if (
    typeof source.entityType !== 'string' ||
    !SAFE_ID_PATTERN.test(source.entityType) ||
    source.entityType.length > MAX_ENTITY_TYPE_LENGTH
  )
    add('entityType', `${label('entityType')} must match ${SAFE_ID_PATTERN.source} and be at most ${MAX_ENTITY_TYPE_LENGTH} characters`);
  const list = (field: 'idColumns' | 'numericColumns' | 'excludeColumns', max: number, min = 0) => {
    const values: unknown = source[field];
    if (!Array.isArray(values) || values.length < min || values.length > max) {
      add(field, `${label(field)} must list ${min > 0 ? `${min} to ` : 'at most '}${max} column names`);
      return;
    }
    values.forEach((v, i) => name(`${field}[${i}]`, field, v));
    if (new Set(values).size !== values.length) add(field, `${label(field)} names a column twice`);
  };
  list('idColumns', MAX_CDC_ID_COLUMNS, 1);
  list('numericColumns', MAX_CDC_COLUMNS);
  list('excludeColumns', MAX_CDC_COLUMNS);
  if (source.versionColumn !== undefined) name('versionColumn', 'versionColumn', source.versionColumn);
  if (source.tenantColumn !== undefined) name('tenantColumn', 'tenantColumn', source.tenantColumn);
  const fields: unknown = source.fields;
  if (fields === null || typeof fields !== 'object' || Array.isArray(fields)) {
    add('fields', `${label('fields')} must be a map of column to field name`);
    return out;
  }
  const renames = Object.entries(fields as Record<string, unknown>);
  if (renames.length > MAX_CDC_COLUMNS) {
    add('fields', `${label('fields')} renames at most ${MAX_CDC_COLUMNS} columns`);
    return out;
  }
  const target = new Map<string, string>();
  for (const [column, field] of renames) {
    const at = `fields.${column}`;
    const before = out.length;
    name(at, 'fields', column);
    if (out.length === before) name(at, 'fields', field);
    if (typeof field !== 'string') continue;
    const other = target.get(field);
    if (other !== undefined) add(at, `${label('fields')} gives two columns the same field name "${field}" (${other} and ${column})`);
    target.set(field, column);
  }
  return out;
}

/**
 * `column:field` pairs (the CDC_FIELDS form) as a renames map whose prototype is null; a column
 * renamed twice is refused here, since a map cannot hold it twice.
 */
export function cdcRenamesFromPairs(pairs: [string, string][], label = 'fields'): Record<string, string> {
  const fields = Object.create(null) as Record<string, string>;
  for (const [column, field] of pairs) {
    if (Object.prototype.hasOwnProperty.call(fields, column)) throw new Error(`${label} renames column ${column} twice`);
    Object.defineProperty(fields, column, { value: field, enumerable: true, writable: true, configurable: true });
  }
  return fields;
}

/** How the source versions its rows: a version column, or the WAL position. One entity type must use one scheme only. */
export function cdcVersionScheme(source: Pick<CdcSource, 'versionColumn'>): 'column' | 'lsn' {
  return source.versionColumn === undefined ? 'lsn' : 'column';
}
