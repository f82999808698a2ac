// Step 6 (for bad input): publish rejected messages to the dead-letter topic with the reason
// and their origin in headers, before their offsets are resolved. Never dropped silently.
import { DLQ_HEADERS } from '@app/contracts';
import type { OutboundRecord } from '@app/kafka-adapter';
import { Rejection } from './dead-letter-code';

export function toDeadLetterRecord(r: Rejection, originTopic: string, now = new Date()): OutboundRecord {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.headers)) if (v !== undefined) headers[k] = v;
  headers[DLQ_HEADERS.reasonCode] = r.code;
  headers[DLQ_HEADERS.reason] = r.reason.slice(0, 1000);
  headers[DLQ_HEADERS.originTopic] = originTopic;
  headers[DLQ_HEADERS.originPartition] = String(r.partition);
  headers[DLQ_HEADERS.originOffset] = r.offset;
  headers[DLQ_HEADERS.originTimestamp] = String(r.timestamp);
  headers[DLQ_HEADERS.failedAt] = now.toISOString();
  return { key: r.key, value: r.value, headers };
}
