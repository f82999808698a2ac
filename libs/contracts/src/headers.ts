/** Kafka header names of entity.updated messages. */
export const EVENT_HEADERS = {
  /** Integer schema version of the payload ("1"). */
  schemaVersion: 'x-schema-version',
  /** "application/json" is the only content type v1 knows. */
  contentType: 'content-type',
  /** W3C traceparent or any opaque trace id; copied to logs and to the dead-letter record. */
  traceId: 'x-trace-id',
} as const;

/** Headers the invalidator adds when it dead-letters a message. */
export const DLQ_HEADERS = {
  reason: 'x-dlq-reason',
  reasonCode: 'x-dlq-reason-code',
  originTopic: 'x-dlq-origin-topic',
  originPartition: 'x-dlq-origin-partition',
  originOffset: 'x-dlq-origin-offset',
  originTimestamp: 'x-dlq-origin-timestamp',
  failedAt: 'x-dlq-failed-at',
  /** "true" on a reference dead letter: the record was too large to dead-letter whole; its value is a small JSON envelope (size, reason, first bytes). */
  truncated: 'x-dlq-truncated',
  /** On a reference dead letter: the original value's size in bytes. */
  originalBytes: 'x-dlq-original-bytes',
  /** On a dead letter of one mapping's part of an event (the other mappings' parts were applied): the mapping's id. */
  mapping: 'x-dlq-mapping',
  /** With x-dlq-mapping: the team owning that mapping. */
  team: 'x-dlq-team',
  /** Added by `npm run dlq -- replay` to a re-published record: `<dlq topic>/<partition>/<offset>` it came from. */
  replayedFrom: 'x-dlq-replayed-from',
  /**
   * On a replay mark, a record `npm run dlq -- replay` writes to the dead-letter topic itself
   * after re-publishing a dead letter: `<dlq topic>/<partition>/<offset>` of the letter replayed.
   * Not a dead letter (no reason code); it is how later runs know what was replayed.
   */
  replayMark: 'x-dlq-replay-mark',
} as const;

export const CURRENT_SCHEMA_VERSION = 1;
export const JSON_CONTENT_TYPE = 'application/json';

/** Message key: one entity stays in one partition, in order. */
export function entityMessageKey(entityType: string, entityId: string): string {
  return `${entityType}:${entityId}`;
}
