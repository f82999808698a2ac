/** Why a message went to the dead-letter topic. Stable: dashboards and alerts key on these. */
export type DeadLetterCode =
  | 'EMPTY_VALUE'
  | 'OVERSIZED'
  | 'BAD_JSON'
  | 'BAD_SCHEMA'
  | 'UNSAFE_INTEGER'
  | 'UNSUPPORTED_SCHEMA_VERSION'
  | 'UNSUPPORTED_CONTENT_TYPE'
  | 'UNKNOWN_ENTITY_TYPE'
  | 'UNRESOLVABLE'
  /** A mapping the event matches produces keys/tags outside its owner team's keyspaces (registry keyspaces). */
  | 'FOREIGN_KEYSPACE'
  /** KEYSPACES_REQUIRED=true and no keyspace is declared yet: no team mapping is applied; replay once keyspaces exist. */
  | 'KEYSPACES_REQUIRED'
  /** Redis was invalidated and the offset committed, but an HTTP cache (PURGE_TARGETS) did not take the purge within PURGE_DEADLINE_MS: replay it. */
  | 'PURGE_FAILED'
  /** Redis was invalidated, but the purge sink refused the item before any request (a URL outside the allowed hosts, a tag that is not one whole key): fix the mapping or PURGE_ALLOWED_HOSTS, then replay. */
  | 'PURGE_REFUSED'
  /** EVENT_FORMAT=debezium with registry sources: a row change of a topic that has no source declaration (declare it, then replay). */
  | 'CDC_NO_SOURCE'
  /** A CDC row change without the columns its source declares (id, tenant, version), or a delete/update without the old row (REPLICA IDENTITY). */
  | 'CDC_MISSING_COLUMNS'
  /** A CDC update whose version column did not grow (it would be deduped or skipped as older): raise it on every change, or version by WAL position. */
  | 'CDC_VERSION_NOT_INCREASED';

import type { InboundMessage } from '@app/kafka';

export interface Rejection {
  /** Kafka coordinates of the message being rejected. */
  partition: number;
  offset: string;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string | undefined>;
  code: DeadLetterCode;
  reason: string;
  /** Only one mapping's part of the event is dead-lettered (x-dlq-mapping, x-dlq-team); the other parts were applied. */
  mapping?: MappingPartOf;
}

/** The mapping (and its team) whose part of an event a dead letter stands for. */
export interface MappingPartOf {
  mappingId: string;
  team: string;
}

/** The one way to turn a message into a dead letter: its Kafka coordinates, bytes and headers, and why (and whose part, when only one mapping's). */
export function rejection(m: InboundMessage, code: DeadLetterCode, reason: string, mapping?: MappingPartOf): Rejection {
  const r: Rejection = {
    partition: m.partition,
    offset: m.offset,
    timestamp: m.timestamp,
    key: m.key,
    value: m.value,
    headers: m.headers,
    code,
    reason,
  };
  if (mapping) r.mapping = mapping;
  return r;
}
