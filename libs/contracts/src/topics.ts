/** Default topic names. Every app lets them be overridden by config; these are what the stack creates. */
export const DEFAULT_TOPICS = {
  /** Domain events from write services; key = `${entityType}:${entityId}`. */
  entityUpdated: 'entity.updated',
  /** Messages that can never succeed, with the reason and origin in headers. */
  deadLetter: 'entity.updated.dlq',
  /** Compacted: the mapping registry's source of truth, key = mapping id. */
  mappings: 'cache-mappings',
} as const;

export const DEFAULT_ENTITY_UPDATED_PARTITIONS = 6;
