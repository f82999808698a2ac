// One error class for everything the registry refuses, each case a stable `code` (documented in
// docs/registry.md, "Error codes"). Callers branch on `code`, never on `message`.

export const REGISTRY_ERROR_CODES = {
  /** A mapping's shape is wrong (missing/extra field, wrong type); `violations` names each field. */
  MAPPING_INVALID: 'MAPPING_INVALID',
  /** A template is malformed: unbalanced braces, a forbidden literal character, an empty segment, too long. */
  TEMPLATE_SYNTAX: 'TEMPLATE_SYNTAX',
  /** A template references something that is not a known event field. */
  TEMPLATE_UNKNOWN_FIELD: 'TEMPLATE_UNKNOWN_FIELD',
  /** A loader or purge URL template whose scheme, host or port is not literal (a value could change the host). */
  TEMPLATE_UNSAFE_URL: 'TEMPLATE_UNSAFE_URL',
  /** At resolve time: a substituted value would widen or break the key (glob char, separator, empty, too long). */
  TEMPLATE_WIDENS_KEY: 'TEMPLATE_WIDENS_KEY',
  /** At resolve time: a referenced field holds an object or array, which can never be part of a key. */
  TEMPLATE_VALUE_NOT_SCALAR: 'TEMPLATE_VALUE_NOT_SCALAR',
  /** More keys + tags + namespaces + purge URLs than the fan-out cap (per event at resolve time, per entity type/tenant at write time). */
  FANOUT_LIMIT: 'FANOUT_LIMIT',
  /** Two mappings with the same id in one set (YAML file, apply request). */
  DUPLICATE_MAPPING_ID: 'DUPLICATE_MAPPING_ID',
  /** A YAML mapping file does not parse or is not `{ mappings: [...] }`. */
  YAML_INVALID: 'YAML_INVALID',
  /** An HTTP request of the registry API is malformed (body, query or header); `violations` names each field. */
  REQUEST_INVALID: 'REQUEST_INVALID',
  /** A sample event given to explain is not a valid entity.updated v1 event. */
  EVENT_INVALID: 'EVENT_INVALID',
  MAPPING_NOT_FOUND: 'MAPPING_NOT_FOUND',
  /** A mapping would produce a key or tag outside its owner team's key prefixes, or use an entity type its team neither owns nor was granted. */
  FOREIGN_KEYSPACE: 'FOREIGN_KEYSPACE',
  /** A keyspace record (key prefix or entity type ownership) is malformed. */
  KEYSPACE_INVALID: 'KEYSPACE_INVALID',
  /** A keyspace change overlaps another team's prefix, or would leave stored mappings or source declarations outside their owners' keyspaces. */
  KEYSPACE_CONFLICT: 'KEYSPACE_CONFLICT',
  /** Delete of an unknown keyspace record or grant. */
  KEYSPACE_NOT_FOUND: 'KEYSPACE_NOT_FOUND',
  /**
   * KEYSPACES_REQUIRED=true and no keyspace is declared yet: a team token may not write mappings
   * (an admin declares keyspaces first); resolve time: the event matches a mapping while none is
   * declared (the invalidator dead-letters it `KEYSPACES_REQUIRED`).
   */
  KEYSPACES_REQUIRED: 'KEYSPACES_REQUIRED',
  /** A CDC source declaration is malformed: shape, a column or field name, a rename (the rules of the CDC_* settings). */
  SOURCE_INVALID: 'SOURCE_INVALID',
  /** Get/delete of a change topic without a source declaration. */
  SOURCE_NOT_FOUND: 'SOURCE_NOT_FOUND',
  /**
   * A source declaration conflicts with another: one topic named twice in one write, or an entity
   * type fed by a version column in one table and by WAL positions (LSN) in another.
   */
  SOURCE_CONFLICT: 'SOURCE_CONFLICT',
  /** An HTTP request body over the registry's limit (REGISTRY_MAX_BODY_BYTES). */
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  /** The route needs an admin token (team "*"). */
  ADMIN_ONLY: 'ADMIN_ONLY',
  /** The caller's expected version (If-Match) is not the stored one. */
  VERSION_CONFLICT: 'VERSION_CONFLICT',
  /** No or unknown bearer token. */
  NOT_AUTHENTICATED: 'NOT_AUTHENTICATED',
  /** The caller's team does not own the mapping (or the mapping it tries to create names another owner). */
  WRONG_TEAM: 'WRONG_TEAM',
  /** The store has not yet read the mappings topic to its end (start() not finished). */
  STORE_NOT_READY: 'STORE_NOT_READY',
  /** A write was committed to Kafka but this instance did not read it back in time. */
  STORE_TIMEOUT: 'STORE_TIMEOUT',
  /** The store was stopped or its consumer crashed for good. */
  STORE_STOPPED: 'STORE_STOPPED',
} as const;

export type RegistryErrorCode = (typeof REGISTRY_ERROR_CODES)[keyof typeof REGISTRY_ERROR_CODES];

export interface Violation {
  /** Dotted/indexed path of the wrong field, e.g. "keys[0].template". */
  field: string;
  code: RegistryErrorCode;
  message: string;
}

export class RegistryError extends Error {
  override readonly name = 'RegistryError';

  constructor(
    readonly code: RegistryErrorCode,
    message: string,
    /** The wrong field when there is one (e.g. "keys[1].template"). */
    readonly field?: string,
    /** Every violation found when several fields are wrong at once. */
    readonly violations: Violation[] = field ? [{ field, code, message }] : [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** The first violation's code wins; the message lists them all so a log line says everything. */
  static fromViolations(violations: Violation[]): RegistryError {
    const first = violations[0];
    const message = violations.map((v) => `${v.field}: ${v.message}`).join('; ');
    return new RegistryError(first.code, message, first.field, violations);
  }

  /** Re-roots the field path, e.g. "keys[0].template" -> "mappings[2].keys[0].template". */
  withFieldPrefix(prefix: string): RegistryError {
    const join = (f: string) => (f ? (f.startsWith('[') ? `${prefix}${f}` : `${prefix}.${f}`) : prefix);
    const violations = this.violations.map((v) => ({ ...v, field: join(v.field) }));
    return new RegistryError(this.code, this.message, this.field === undefined ? undefined : join(this.field), violations, {
      cause: this.cause,
    });
  }
}

export function isRegistryError(error: unknown, code?: RegistryErrorCode): error is RegistryError {
  return error instanceof RegistryError && (code === undefined || error.code === code);
}
