// Step 1 of the pipeline for a change-data-capture source: Debezium change events (PostgreSQL
// connector, JSON converter with or without schemas) -> the same validated EntityUpdated events
// the rest of the pipeline handles. One source = one captured table = one entity type
// (CdcSource, from the CDC_* settings). What Debezium writes beside row changes is skipped and
// counted, never dead-lettered as poison: the null-valued tombstone after a delete (for log
// compaction), heartbeats, logical-decoding messages, truncates, schema-change records.
import { createHash } from 'node:crypto';
import { EntityUpdated, fastValidateEntityUpdated, parseExactJson, SAFE_ID_PATTERN, validateEntityUpdated } from '@app/contracts';
import type { InboundMessage } from '@app/kafka';
import { rejection } from './dead-letter-code';
import type { DecodeResult } from './decode';

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

/** The row as the event carries it: renamed fields, decimals as numbers, excluded columns gone. */
function eventRow(row: Row, source: CdcSource): Row {
  const out: Row = {};
  for (const [column, value] of Object.entries(row)) {
    if (source.excludeColumns.includes(column)) continue;
    let v = value;
    if (typeof v === 'string' && source.numericColumns.includes(column) && /^-?\d+(\.\d+)?$/.test(v)) v = Number(v);
    // An own property whatever the name (a column called __proto__ must not set the prototype).
    Object.defineProperty(out, source.fields[column] ?? column, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function changedFields(before: Row | undefined, after: Row | undefined): string[] | undefined {
  if (!after) return undefined;
  const keys = Object.keys(after);
  if (!before) return keys.slice(0, 256);
  const same = (a: unknown, b: unknown) =>
    JSON.stringify(a, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ===
    JSON.stringify(b, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  return keys.filter((k) => !same(before[k], after[k])).slice(0, 256);
}

export function decodeDebezium(messages: InboundMessage[], options: { maxEventBytes: number; source: CdcSource }): CdcDecodeResult {
  const { source } = options;
  const events: CdcDecodeResult['events'] = [];
  const rejected: CdcDecodeResult['rejected'] = [];
  const skipped: CdcDecodeResult['skipped'] = {};
  const skip = (reason: CdcSkipReason) => (skipped[reason] = (skipped[reason] ?? 0) + 1);
  for (const m of messages) {
    if (!m.value || m.value.length === 0) {
      skip('tombstone');
      continue;
    }
    if (m.value.length > options.maxEventBytes) {
      rejected.push(rejection(m, 'OVERSIZED', `value is ${m.value.length} bytes, limit is ${options.maxEventBytes} (MAX_EVENT_BYTES)`));
      continue;
    }
    let parsed: unknown;
    try {
      parsed = parseExactJson(m.value.toString('utf8'));
    } catch (error) {
      rejected.push(rejection(m, 'BAD_JSON', `value is not JSON: ${(error as Error).message}`));
      continue;
    }
    // JsonConverter with schemas.enable=true wraps the envelope: { schema, payload }.
    if (isRow(parsed) && 'schema' in parsed && 'payload' in parsed) parsed = parsed.payload;
    if (parsed === null) {
      skip('tombstone');
      continue;
    }
    if (!isRow(parsed)) {
      rejected.push(rejection(m, 'BAD_SCHEMA', 'not a Debezium change event (the value is not a JSON object)'));
      continue;
    }
    const e = parsed as Envelope;
    if (e.op === undefined) {
      const keys = Object.keys(e);
      if (keys.length === 1 && keys[0] === 'ts_ms') skip('heartbeat');
      else if (e.ddl !== undefined || e.tableChanges !== undefined) skip('schema_change');
      else
        rejected.push(
          rejection(m, 'BAD_SCHEMA', 'not a Debezium change event (no "op"): is KAFKA_TOPIC a CDC topic and EVENT_FORMAT=debezium meant?'),
        );
      continue;
    }
    if (e.op === 'm') {
      skip('message');
      continue;
    }
    if (e.op === 't') {
      skip('truncate');
      continue;
    }
    if (e.op !== 'c' && e.op !== 'r' && e.op !== 'u' && e.op !== 'd') {
      rejected.push(rejection(m, 'BAD_SCHEMA', `unknown Debezium op ${JSON.stringify(e.op)}`));
      continue;
    }
    const before = isRow(e.before) ? e.before : undefined;
    const after = e.op === 'd' ? undefined : isRow(e.after) ? e.after : undefined;
    const row = e.op === 'd' ? before : after;
    const missing = (what: string) =>
      rejected.push(
        rejection(
          m,
          'CDC_MISSING_COLUMNS',
          `${what} (op "${String(e.op)}"): a delete or update needs the table's old row, ALTER TABLE ... REPLICA IDENTITY FULL`,
        ),
      );
    if (!row) {
      missing(e.op === 'd' ? 'the deleted row is not in the event' : 'the new row is not in the event');
      continue;
    }
    const parts = source.idColumns.map((c) => idPart(row[c]));
    if (parts.some((p) => p === undefined)) {
      missing(`id column(s) ${source.idColumns.join(', ')} missing or not a string/integer`);
      continue;
    }
    const entityId = parts.join('.');
    let tenant: string | undefined;
    if (source.tenantColumn !== undefined) {
      tenant = idPart(row[source.tenantColumn]);
      if (tenant === undefined) {
        missing(`tenant column ${source.tenantColumn} missing`);
        continue;
      }
    }
    const lsn = e.source?.lsn;
    let version: unknown;
    if (source.versionColumn !== undefined) {
      const v = row[source.versionColumn];
      // 0 is no version (they start at 1): the default Debezium puts in a column the old row lacks
      // (REPLICA IDENTITY DEFAULT). Taken as is, a delete would land below the key's floor: lost.
      if (typeof v === 'number' && v < 1) {
        missing(`version column ${source.versionColumn} is ${v}`);
        continue;
      }
      // A delete keeps the row's last version: it is the change after it.
      version = typeof v === 'number' && Number.isSafeInteger(v) ? (e.op === 'd' ? v + 1 : v) : v;
    } else version = lsn;
    if (typeof version === 'bigint' || (typeof version === 'number' && !Number.isSafeInteger(version))) {
      rejected.push(
        rejection(m, 'UNSAFE_INTEGER', `version ${String(version)} is beyond 2^53 - 1: versions are compared as exact numbers`),
      );
      continue;
    }
    if (typeof version !== 'number') {
      missing(
        source.versionColumn !== undefined ? `version column ${source.versionColumn} missing or not an integer` : 'source.lsn missing',
      );
      continue;
    }
    const tsMs = typeof e.source?.ts_ms === 'number' ? e.source.ts_ms : typeof e.ts_ms === 'number' ? e.ts_ms : Date.now();
    const name = (v: unknown) => (typeof v === 'string' ? v : '');
    const table = `${name(e.source?.schema)}.${name(e.source?.table)}`;
    const eventBefore = before ? eventRow(before, source) : undefined;
    const eventAfter = after ? eventRow(after, source) : undefined;
    const event: EntityUpdated = {
      // Same row change, same id: a redelivery after a Connect crash is a duplicate.
      eventId: `cdc:${String(lsn)}:${createHash('sha256').update(`${table}:${entityId}`).digest('hex').slice(0, 24)}`,
      entityType: source.entityType,
      entityId,
      version,
      ...(tenant !== undefined ? { tenant } : {}),
      occurredAt: new Date(tsMs).toISOString(),
      ...(eventBefore ? { before: eventBefore } : {}),
      ...(eventAfter ? { after: eventAfter } : {}),
      ...(e.op === 'u' ? { changedFields: changedFields(eventBefore, eventAfter) } : {}),
    };
    if (!SAFE_ID_PATTERN.test(entityId) || !fastValidateEntityUpdated(event)) {
      const reason = validateEntityUpdated(event)
        .map((v) => `${v.field}: ${v.message}`)
        .join('; ');
      rejected.push(
        rejection(m, 'BAD_SCHEMA', `the row does not make a valid entity.updated event: ${reason || 'entityId is not a safe identifier'}`),
      );
      continue;
    }
    events.push({ event, message: m });
  }
  return { events, rejected, skipped };
}
