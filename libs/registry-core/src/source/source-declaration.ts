// A source declaration: a team says which entity type the rows of one Debezium change topic
// (`<prefix>.<schema>.<table>`: one table of one database) are, and which columns give id, tenant
// and version. Stored in the mappings' compacted topic under "source:<topic>": a mapping id has no
// ":" and keyspace records start with "keyspace:", so the three kinds never collide, and a topic
// has exactly one record (one declaration per table).
import { RegistryError, Violation } from '../errors';
import { validateShape } from '../mapping/validate-mapping';
import { CdcSource, cdcSourceViolations } from './cdc-source';
import { SourceDto } from './source.dto';

export const SOURCE_RECORD_PREFIX = 'source:';

export interface CdcSourceDeclaration extends CdcSource {
  /** The Debezium change topic the declaration describes (its record key). */
  topic: string;
  /** The team that owns the declaration (and must own the topic and the entity type). */
  owner: string;
  description?: string;
  /** +1 per change, assigned by the store. */
  version: number;
  updatedAt?: string;
  updatedBy?: string;
}

export function sourceRecordKey(topic: string): string {
  return `${SOURCE_RECORD_PREFIX}${topic}`;
}

export function isSourceRecordKey(key: string): boolean {
  return key.startsWith(SOURCE_RECORD_PREFIX);
}

/** Fixed property order, sorted lists, defaults filled: equal declarations serialise equally. */
export function normaliseSourceDeclaration(input: Omit<SourceDto, 'version'> & { version?: number }): CdcSourceDeclaration {
  const sorted = (values: string[] | undefined) => [...new Set(values ?? [])].sort();
  const fields = Object.fromEntries(Object.entries(input.fields ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const out = {
    topic: input.topic,
    owner: input.owner,
    entityType: input.entityType,
    // Order matters: the id is the columns joined in this order.
    idColumns: [...input.idColumns],
    versionColumn: input.versionColumn,
    tenantColumn: input.tenantColumn,
    fields,
    numericColumns: sorted(input.numericColumns),
    excludeColumns: sorted(input.excludeColumns),
    description: input.description,
    version: input.version ?? 0,
    updatedAt: input.updatedAt,
    updatedBy: input.updatedBy,
  };
  // JSON drops the undefined ones; a "__proto__" key never gets here (cdcSourceViolations refuses it first).
  return JSON.parse(JSON.stringify(out)) as CdcSourceDeclaration;
}

/** Shape (class-validator, SOURCE_INVALID naming the field), then names (the CDC_* settings' rules). */
export function validateSourceDeclaration(plain: unknown): { source?: CdcSourceDeclaration; violations: Violation[] } {
  const shape = validateShape(plain, SourceDto, 'SOURCE_INVALID', 'a source declaration');
  if (!shape.value) return { violations: shape.violations };
  const names = cdcSourceViolations({
    entityType: shape.value.entityType,
    idColumns: shape.value.idColumns,
    versionColumn: shape.value.versionColumn,
    tenantColumn: shape.value.tenantColumn,
    // Read from the request's own object: plainToInstance would have dropped a "__proto__" key.
    fields: (plain as { fields?: Record<string, string> }).fields ?? {},
    numericColumns: shape.value.numericColumns ?? [],
    excludeColumns: shape.value.excludeColumns ?? [],
  });
  if (names.length > 0) return { violations: names };
  return { source: normaliseSourceDeclaration(shape.value), violations: [] };
}

/** The part that changes behaviour: everything but version and change metadata. */
export function sourceContent(source: CdcSourceDeclaration): Omit<CdcSourceDeclaration, 'version' | 'updatedAt' | 'updatedBy'> {
  const { version: _v, updatedAt: _a, updatedBy: _b, ...content } = normaliseSourceDeclaration(source);
  return content;
}

export function sameSourceContent(a: CdcSourceDeclaration, b: CdcSourceDeclaration): boolean {
  return JSON.stringify(sourceContent(a)) === JSON.stringify(sourceContent(b));
}

/** A declaration as read from the topic, or why it is refused (the previous one then stays in effect). */
export function decodeSourceRecord(key: string, value: Buffer | string): CdcSourceDeclaration | RegistryError {
  let plain: unknown;
  try {
    plain = JSON.parse(typeof value === 'string' ? value : value.toString('utf8'));
  } catch {
    return new RegistryError('SOURCE_INVALID', 'value is not JSON');
  }
  const checked = validateSourceDeclaration(plain);
  if (!checked.source) return RegistryError.fromViolations(checked.violations);
  if (sourceRecordKey(checked.source.topic) !== key)
    return new RegistryError(
      'SOURCE_INVALID',
      `record key "${key}" differs from the declaration's own key "${sourceRecordKey(checked.source.topic)}"`,
    );
  if (!Number.isInteger(checked.source.version) || checked.source.version < 1)
    return new RegistryError('SOURCE_INVALID', 'stored source declaration has no version');
  return checked.source;
}

/** The CdcSource part the decoder needs. */
export function cdcSourceOf(declaration: CdcSourceDeclaration): CdcSource {
  const { entityType, idColumns, versionColumn, tenantColumn, fields, numericColumns, excludeColumns } = declaration;
  return { entityType, idColumns, versionColumn, tenantColumn, fields, numericColumns, excludeColumns };
}
