// The records of step 5 (dead-letter.ts delivers them): rejected messages go to the dead-letter
// topic with the reason and their origin in headers, before their offsets are resolved. Never dropped silently.
// Sized to the DLQ topic: a chunk's dead letters go out in as many produce requests as it takes
// to stay under its max.message.bytes, and a record too large to dead-letter whole goes out as
// a reference (origin, size, reason, first bytes) instead of halting the partition.
import { DLQ_HEADERS } from '@app/contracts';
import type { OutboundRecord } from '@app/kafka';
import { Rejection } from './dead-letter-code';

/** First bytes of the value a reference dead letter keeps. */
export const REFERENCE_HEAD_BYTES = 1024;
/** A reference keeps the key and the original headers only up to these sizes. */
const REFERENCE_KEY_MAX_BYTES = 1024;
const REFERENCE_HEADERS_MAX_BYTES = 8192;
/** Upper bounds of the record batch v2 framing the broker counts against max.message.bytes. */
const BATCH_OVERHEAD_BYTES = 128;
const RECORD_OVERHEAD_BYTES = 40;
const HEADER_OVERHEAD_BYTES = 10;

export interface DeadLetter {
  rejection: Rejection;
  record: OutboundRecord;
  /** True when `record` is a reference, not the whole message. */
  reference: boolean;
}

const byteLength = (v: string | Buffer | null | undefined) => (v == null ? 0 : typeof v === 'string' ? Buffer.byteLength(v) : v.length);

/** What a record costs inside a record batch (an upper bound: varints counted at their widest). */
export function recordBytes(r: OutboundRecord): number {
  let n = RECORD_OVERHEAD_BYTES + byteLength(r.key) + byteLength(r.value);
  for (const [k, v] of Object.entries(r.headers)) n += HEADER_OVERHEAD_BYTES + Buffer.byteLength(k) + byteLength(v);
  return n;
}

/**
 * Bytes of records one produce request may carry to a topic whose max.message.bytes is `max`:
 * the whole request is kept under the limit (so every per-partition batch in it is), minus the
 * batch framing and a 2% margin for what the estimate does not see.
 */
export function deadLetterBudget(maxMessageBytes: number): number {
  return Math.max(1, Math.floor(maxMessageBytes * 0.98) - BATCH_OVERHEAD_BYTES);
}

/**
 * Headers only the invalidator states (why, where from, which mapping, whether the record is a
 * reference). A producer can put them on an ordinary event (or re-publish a consumed dead letter
 * with all its headers): they are never copied from the message, so a forged x-dlq-truncated
 * cannot make the replay tool skip a letter as a reference, nor a forged x-dlq-mapping make a
 * whole-event failure look like one mapping's. (x-dlq-replayed-from is kept: the replay tool
 * sets it on what it re-publishes and checks it against its own marks, dlq-replay-plan.ts.)
 */
const OWN_HEADERS: ReadonlySet<string> = new Set([
  DLQ_HEADERS.reason,
  DLQ_HEADERS.reasonCode,
  DLQ_HEADERS.originTopic,
  DLQ_HEADERS.originPartition,
  DLQ_HEADERS.originOffset,
  DLQ_HEADERS.originTimestamp,
  DLQ_HEADERS.failedAt,
  DLQ_HEADERS.truncated,
  DLQ_HEADERS.originalBytes,
  DLQ_HEADERS.mapping,
  DLQ_HEADERS.team,
]);

/** The message's own headers, without those the invalidator states itself. */
function messageHeaders(r: Rejection): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.headers)) if (v !== undefined && !OWN_HEADERS.has(k.toLowerCase())) headers[k] = v;
  return headers;
}

function dlqHeaders(r: Rejection, originTopic: string, now: Date): Record<string, string> {
  const headers: Record<string, string> = {
    [DLQ_HEADERS.reasonCode]: r.code,
    [DLQ_HEADERS.reason]: r.reason.slice(0, 1000),
    [DLQ_HEADERS.originTopic]: originTopic,
    [DLQ_HEADERS.originPartition]: String(r.partition),
    [DLQ_HEADERS.originOffset]: r.offset,
    [DLQ_HEADERS.originTimestamp]: String(r.timestamp),
    [DLQ_HEADERS.failedAt]: now.toISOString(),
  };
  // One mapping's part of the event (the others were applied): which mapping, whose team.
  if (r.mapping) {
    headers[DLQ_HEADERS.mapping] = r.mapping.mappingId;
    headers[DLQ_HEADERS.team] = r.mapping.team;
  }
  return headers;
}

/** The whole message: original key, value and headers, plus the reason and origin. */
export function toDeadLetterRecord(r: Rejection, originTopic: string, now = new Date()): OutboundRecord {
  const headers = messageHeaders(r);
  Object.assign(headers, dlqHeaders(r, originTopic, now));
  return { key: r.key, value: r.value, headers };
}

/**
 * A reference to a message too large to dead-letter whole (e.g. it arrived compressed): the
 * origin headers as usual, `x-dlq-truncated: true`, `x-dlq-original-bytes`, and as value a small
 * JSON envelope with the sizes, the reason and the first REFERENCE_HEAD_BYTES of the value
 * (base64). Not replayable: the origin topic still holds the message until its retention ends.
 */
export function toReferenceRecord(r: Rejection, originTopic: string, now = new Date()): OutboundRecord {
  const value = r.value ?? Buffer.alloc(0);
  const keyBytes = r.key?.length ?? 0;
  const headers: Record<string, string> = {};
  let originalHeaderBytes = 0;
  for (const [k, v] of Object.entries(r.headers)) if (v !== undefined) originalHeaderBytes += Buffer.byteLength(k) + Buffer.byteLength(v);
  const headersKept = originalHeaderBytes <= REFERENCE_HEADERS_MAX_BYTES;
  if (headersKept) Object.assign(headers, messageHeaders(r));
  Object.assign(headers, dlqHeaders(r, originTopic, now));
  headers[DLQ_HEADERS.truncated] = 'true';
  headers[DLQ_HEADERS.originalBytes] = String(value.length);
  const head = value.subarray(0, REFERENCE_HEAD_BYTES);
  const envelope = {
    reference: true,
    note: 'too large to dead-letter whole; the message is at the origin topic/partition/offset in the headers (until its retention ends)',
    code: r.code,
    reason: r.reason.slice(0, 1000),
    originalBytes: value.length,
    originalKeyBytes: keyBytes,
    originalHeadersKept: headersKept,
    headBytes: head.length,
    headBase64: head.toString('base64'),
    ...(keyBytes > REFERENCE_KEY_MAX_BYTES ? { keyHeadBase64: r.key!.subarray(0, REFERENCE_KEY_MAX_BYTES).toString('base64') } : {}),
  };
  return { key: keyBytes > REFERENCE_KEY_MAX_BYTES ? null : r.key, value: Buffer.from(JSON.stringify(envelope)), headers };
}

/** Every rejection as a record: whole when it fits one produce request of `budget` bytes, else a reference. */
export function planDeadLetters(rejections: Rejection[], originTopic: string, budget: number, now = new Date()): DeadLetter[] {
  return rejections.map((rejection) => {
    const whole = toDeadLetterRecord(rejection, originTopic, now);
    if (recordBytes(whole) <= budget) return { rejection, record: whole, reference: false };
    return { rejection, record: toReferenceRecord(rejection, originTopic, now), reference: true };
  });
}

/** Consecutive groups whose records together stay within `budget` (a record over it alone forms its own group). */
export function splitIntoRequests(letters: DeadLetter[], budget: number): DeadLetter[][] {
  const groups: DeadLetter[][] = [];
  let current: DeadLetter[] = [];
  let size = 0;
  for (const letter of letters) {
    const bytes = recordBytes(letter.record);
    if (current.length > 0 && size + bytes > budget) {
      groups.push(current);
      current = [];
      size = 0;
    }
    current.push(letter);
    size += bytes;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}
