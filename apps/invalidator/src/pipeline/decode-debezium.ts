// Step 1 of the pipeline for a change-data-capture source: Debezium change events (PostgreSQL
// connector, JSON converter with or without schemas) -> the same validated EntityUpdated events
// the rest of the pipeline handles. One source = one captured table = one entity type
// (CdcSource): the same for every record (the CDC_* settings), or looked up per record by its
// topic (the registry's source declarations, read per chunk, so a changed declaration applies to
// the next chunk). A row change of a topic without a usable declaration is dead-lettered naming
// the topic (CDC_NO_SOURCE, or why the declaration is refused), never dropped. What Debezium
// writes beside row changes is skipped and counted, never dead-lettered as poison: the
// null-valued tombstone after a delete (for log compaction), heartbeats, logical-decoding
// messages, truncates, schema-change records.
import { createHash } from 'node:crypto';
import { EntityUpdated, fastValidateEntityUpdated, parseExactJson, SAFE_ID_PATTERN, validateEntityUpdated } from '@app/contracts';
import type { InboundMessage } from '@app/kafka';
import type { CdcSource } from '@app/registry-core/source/cdc-source';
import type { CdcSourceRefusal } from '@app/registry-core/source/cdc-sources';
import { DeadLetterCode, rejection } from './dead-letter-code';
import type { DecodeResult } from './decode';

export type { CdcSource };

/** The declaration of a record's topic, or why the topic's row changes are refused (their dead-letter code and reason). */
export type CdcSourceFor = (topic: string) => { source: CdcSource } | CdcSourceRefusal;

export interface CdcDecodeOptions {
  maxEventBytes: number;
  /** One source for every record (the CDC_* settings), or a lookup by the record's topic (the registry's declarations). */
  source: CdcSource | CdcSourceFor;
}

export type CdcSkipReason = 'tombstone' | 'heartbeat' | 'schema_change' | 'message' | 'truncate';

export interface CdcDecodeResult extends DecodeResult {
  /** Records that are not row changes: committed with the chunk, never applied or dead-lettered. */
  skipped: Partial<Record<CdcSkipReason, number>>;
}

interface Envelope {
  op?: unknown;
  before?: unknown;
  after?: unknown;
  source?: { lsn?: unknown; ts_ms?: unknown; schema?: unknown; table?: unknown } | null;
  ts_ms?: unknown;
  ddl?: unknown;
  tableChanges?: unknown;
}

type Row = Record<string, unknown>;

const isRow = (v: unknown): v is Row => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A column value as an identifier part: strings as they are, integers (also beyond 2^53) as their digits. */
function idPart(v: unknown): string | undefined {
  // Empty is missing: Debezium fills the columns a key-only old row lacks with their type's default.
  if (typeof v === 'string') return v === '' ? undefined : v;
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number' && Number.isInteger(v)) return String(v);
  return undefined;
}

/** Thrown inside one record's decode: becomes its dead letter (never the batch's failure). */
class Refused extends Error {
  constructor(
    readonly code: DeadLetterCode,
    message: string,
  ) {
    super(message);
  }
}

const MAX_SAFE_DECIMAL = Number.MAX_SAFE_INTEGER;
/** Milliseconds a Date can hold (ECMAScript: +-8.64e15). */
const MAX_DATE_MS = 8.64e15;

/** A source's lists as sets, built once per declaration (a declaration may list hundreds of columns; a row is decoded per record). */
interface Lookup {
  renames: Map<string, string>;
  numeric: Set<string>;
  excluded: Set<string>;
  ids: Set<string>;
}
const lookups = new WeakMap<CdcSource, Lookup>();

function lookupOf(source: CdcSource): Lookup {
  let found = lookups.get(source);
  if (!found) {
    found = {
      // Own entries only: a rename map never lends a prototype's property to a column.
      renames: new Map(Object.entries(source.fields)),
      numeric: new Set(source.numericColumns),
      excluded: new Set(source.excludeColumns),
      ids: new Set(source.idColumns),
    };
    lookups.set(source, found);
  }
  return found;
}

/**
 * How a dead letter names a field of the source: the operator's CDC_* variable, or the field of
 * the topic's source declaration (the team's to change; the deployment has no CDC_* setting).
 */
type FieldName = (field: 'fields' | 'versionColumn') => string;
const ENV_NAMES: FieldName = (field) => (field === 'fields' ? 'CDC_FIELDS' : 'CDC_VERSION_COLUMN');
const declarationNames =
  (topic: string): FieldName =>
  (field) =>
    `"${field}" of the source declaration of ${topic}`;

/** The row as the event carries it: renamed fields, decimals as numbers, excluded columns gone. */
function eventRow(row: Row, source: CdcSource, nameOf: FieldName): Row {
  const out: Row = {};
  const renamedFrom = new Map<string, string>();
  const { renames, numeric, excluded } = lookupOf(source);
  for (const [column, value] of Object.entries(row)) {
    const field = renames.get(column) ?? column;
    // Excluded by its column name or by the name it is renamed to.
    if (excluded.has(column) || excluded.has(field)) continue;
    if (Object.prototype.hasOwnProperty.call(out, field))
      throw new Refused(
        'BAD_SCHEMA',
        // Name the renamed one of the two columns, whichever came first in the row.
        `${nameOf('fields')} renames ${renames.has(column) ? column : renamedFrom.get(field)} onto ${field}, which the row also has as a column`,
      );
    renamedFrom.set(field, column);
    let v = value;
    if (typeof v === 'string' && numeric.has(column) && /^-?\d+(\.\d+)?$/.test(v)) {
      // Only when a number holds it: a figure beyond 2^53 or Infinity stays the exact string.
      const n = Number(v);
      if (Number.isFinite(n) && Math.abs(n) <= MAX_SAFE_DECIMAL) v = n;
    }
    // An own property whatever the name (a column called __proto__ must not set the prototype).
    Object.defineProperty(out, field, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function changedFields(before: Row | undefined, after: Row | undefined): string[] | undefined {
  if (!after) return undefined;
  const keys = Object.keys(after);
  if (!before) return keys.slice(0, 256);
  const text = (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
  return keys.filter((k) => text(before[k]) !== text(after[k])).slice(0, 256);
}

/** A row that holds nothing but its id: Debezium's old row of a table without REPLICA IDENTITY FULL (non-key columns null, or their type's default). */
function keyOnly(row: Row, source: CdcSource): boolean {
  const { ids } = lookupOf(source);
  return Object.entries(row).every(([column, v]) => ids.has(column) || v === null || v === '' || v === 0 || v === '0' || v === false);
}

interface Identity {
  entityId: string;
  tenant?: string;
}

function identityOf(row: Row, source: CdcSource): Identity | string {
  const parts = source.idColumns.map((c) => idPart(row[c]));
  if (parts.some((p) => p === undefined)) return `id column(s) ${source.idColumns.join(', ')} missing or not a string/integer`;
  // Several id columns are joined with ".": a part holding one could pose as another row.
  if (parts.length > 1 && parts.some((p) => p!.includes('.')))
    throw new Refused('BAD_SCHEMA', `an id column of a composite id (${source.idColumns.join(', ')}) holds ".", the separator`);
  if (source.tenantColumn === undefined) return { entityId: parts.join('.') };
  const tenant = idPart(row[source.tenantColumn]);
  return tenant === undefined ? `tenant column ${source.tenantColumn} missing` : { entityId: parts.join('.'), tenant };
}

type Decoded = { skip: CdcSkipReason } | { events: EntityUpdated[] };

/** One record: skipped, events, or a Refused thrown. The source is looked up only for a row change. */
function decodeRecord(m: InboundMessage, sourceOf: () => CdcSource, nameOf: FieldName): Decoded {
  let parsed: unknown;
  try {
    parsed = parseExactJson(m.value!.toString('utf8'));
  } catch (error) {
    throw new Refused('BAD_JSON', `value is not JSON: ${(error as Error).message}`);
  }
  // JsonConverter with schemas.enable=true wraps the envelope: { schema, payload }.
  if (isRow(parsed) && 'schema' in parsed && 'payload' in parsed) parsed = parsed.payload;
  if (parsed === null) return { skip: 'tombstone' };
  if (!isRow(parsed)) throw new Refused('BAD_SCHEMA', 'not a Debezium change event (the value is not a JSON object)');
  const e = parsed as Envelope;
  if (e.op === undefined) {
    const keys = Object.keys(e);
    if (keys.length === 1 && keys[0] === 'ts_ms') return { skip: 'heartbeat' };
    if (e.ddl !== undefined || e.tableChanges !== undefined) return { skip: 'schema_change' };
    throw new Refused('BAD_SCHEMA', 'not a Debezium change event (no "op"): is KAFKA_TOPIC a CDC topic and EVENT_FORMAT=debezium meant?');
  }
  if (e.op === 'm') return { skip: 'message' };
  if (e.op === 't') return { skip: 'truncate' };
  if (e.op !== 'c' && e.op !== 'r' && e.op !== 'u' && e.op !== 'd')
    throw new Refused('BAD_SCHEMA', `unknown Debezium op ${JSON.stringify(e.op)}`);
  const op = e.op;
  const source = sourceOf();
  const missing = (what: string) =>
    new Refused(
      'CDC_MISSING_COLUMNS',
      `${what} (op "${op}"): a delete or update needs the table's old row, ALTER TABLE ... REPLICA IDENTITY FULL`,
    );

  const before = isRow(e.before) ? e.before : undefined;
  const after = op === 'd' ? undefined : isRow(e.after) ? e.after : undefined;
  if ((op === 'd' || op === 'u') && (!before || keyOnly(before, source))) throw missing('the old row is not in the event');
  const row = op === 'd' ? before : after;
  if (!row) throw missing('the new row is not in the event');
  const identity = identityOf(row, source);
  if (typeof identity === 'string') throw missing(identity);

  const source_ = isRow(e.source) ? e.source : {};
  const lsn = source_.lsn;
  let version: unknown;
  if (source.versionColumn !== undefined) {
    const v = row[source.versionColumn];
    // 0 is no version (they start at 1): the default Debezium puts in a column the old row lacks.
    // Taken as is, a delete would land below the key's floor: lost.
    if (typeof v === 'number' && v < 1) throw missing(`version column ${source.versionColumn} is ${v}`);
    // A delete keeps the row's last version: it is the change after it.
    version = typeof v === 'number' && Number.isSafeInteger(v) ? (op === 'd' ? v + 1 : v) : v;
    // An update that does not raise the version would be taken for the change already applied
    // (deduped) or an older one (skipped): its invalidation would be lost.
    const previous = before?.[source.versionColumn];
    if (op === 'u' && typeof version === 'number' && typeof previous === 'number' && version <= previous)
      throw new Refused(
        'CDC_VERSION_NOT_INCREASED',
        `version column ${source.versionColumn} went from ${previous} to ${version}: every change of a row must raise it (a trigger can), or unset ${nameOf('versionColumn')} to version by WAL position`,
      );
  } else version = lsn;
  if (typeof version === 'bigint' || (typeof version === 'number' && !Number.isSafeInteger(version)))
    throw new Refused('UNSAFE_INTEGER', `version ${String(version)} is beyond 2^53 - 1: versions are compared as exact numbers`);
  if (typeof version !== 'number')
    throw missing(
      source.versionColumn !== undefined ? `version column ${source.versionColumn} missing or not an integer` : 'source.lsn missing',
    );

  const time = [source_.ts_ms, e.ts_ms].find((t): t is number => typeof t === 'number' && Number.isFinite(t) && Math.abs(t) <= MAX_DATE_MS);
  const occurredAt = new Date(time ?? Date.now()).toISOString();
  const name = (v: unknown) => (typeof v === 'string' ? v : '');
  const lsnText = typeof lsn === 'number' || typeof lsn === 'bigint' ? lsn.toString() : typeof lsn === 'string' ? lsn.slice(0, 32) : '';
  const eventBefore = before ? eventRow(before, source, nameOf) : undefined;
  const eventAfter = after ? eventRow(after, source, nameOf) : undefined;
  const build = (id: Identity, withAfter: boolean): EntityUpdated => ({
    // Same row change, same id: a redelivery after a Connect crash is a duplicate.
    eventId: `cdc:${lsnText}:${createHash('sha256')
      .update(`${name(source_.schema)}.${name(source_.table)}:${id.tenant ?? ''}:${id.entityId}`)
      .digest('hex')
      .slice(0, 24)}`,
    entityType: source.entityType,
    entityId: id.entityId,
    version,
    ...(id.tenant !== undefined ? { tenant: id.tenant } : {}),
    occurredAt,
    ...(eventBefore ? { before: eventBefore } : {}),
    ...(withAfter && eventAfter ? { after: eventAfter } : {}),
    ...(withAfter && op === 'u' ? { changedFields: changedFields(eventBefore, eventAfter) } : {}),
  });
  const events = [build(identity, true)];
  // An update that moved the row to another identity (its tenant, or an id column that is not the
  // primary key): the old identity's keys must go too, as for a delete.
  if (op === 'u' && before) {
    const old = identityOf(before, source);
    if (typeof old !== 'string' && (old.entityId !== identity.entityId || old.tenant !== identity.tenant)) events.push(build(old, false));
  }
  for (const event of events) {
    if (!SAFE_ID_PATTERN.test(event.entityId) || !fastValidateEntityUpdated(event)) {
      const reason = validateEntityUpdated(event)
        .map((v) => `${v.field}: ${v.message}`)
        .join('; ');
      throw new Refused(
        'BAD_SCHEMA',
        `the row does not make a valid entity.updated event: ${reason || 'entityId is not a safe identifier'}`,
      );
    }
  }
  return { events };
}

/** The source of a record's topic; a refusal becomes the record's dead letter. */
function sourceResolver(option: CdcDecodeOptions['source']): (topic: string) => CdcSource {
  if (typeof option !== 'function') return () => option;
  return (topic) => {
    const found = option(topic);
    if ('code' in found) throw new Refused(found.code, found.message);
    return found.source;
  };
}

export function decodeDebezium(messages: InboundMessage[], options: CdcDecodeOptions): CdcDecodeResult {
  const sourceFor = sourceResolver(options.source);
  const events: CdcDecodeResult['events'] = [];
  const rejected: CdcDecodeResult['rejected'] = [];
  const skipped: CdcDecodeResult['skipped'] = {};
  for (const m of messages) {
    if (!m.value || m.value.length === 0) {
      skipped.tombstone = (skipped.tombstone ?? 0) + 1;
      continue;
    }
    if (m.value.length > options.maxEventBytes) {
      rejected.push(rejection(m, 'OVERSIZED', `value is ${m.value.length} bytes, limit is ${options.maxEventBytes} (MAX_EVENT_BYTES)`));
      continue;
    }
    try {
      const decoded = decodeRecord(
        m,
        () => sourceFor(m.topic),
        typeof options.source === 'function' ? declarationNames(m.topic) : ENV_NAMES,
      );
      if ('skip' in decoded) skipped[decoded.skip] = (skipped[decoded.skip] ?? 0) + 1;
      else for (const event of decoded.events) events.push({ event, message: m });
    } catch (error) {
      // Whatever a record holds, it is its own dead letter: a throw here would fail the whole batch, again and again.
      if (error instanceof Refused) rejected.push(rejection(m, error.code, error.message));
      else rejected.push(rejection(m, 'BAD_SCHEMA', `could not decode the change event: ${(error as Error).message}`));
    }
  }
  return { events, rejected, skipped };
}
