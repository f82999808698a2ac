// Step 1 of the pipeline (invalidation.pipeline.ts), decode: bytes -> validated events. Anything that can never succeed becomes a Rejection.
import {
  CURRENT_SCHEMA_VERSION,
  EntityUpdated,
  EVENT_HEADERS,
  fastValidateEntityUpdated,
  JSON_CONTENT_TYPE,
  parseExactJson,
  validateEntityUpdated,
} from '@app/contracts';
import type { InboundMessage } from '@app/kafka';
import { Rejection, rejection } from './dead-letter-code';

export interface DecodedEvent {
  event: EntityUpdated;
  /** Where it came from (and what is dead-lettered if it cannot be resolved). */
  message: InboundMessage;
  /** Set by dedupe: the event's identity (eventIdentity), built once and remembered after the commit. */
  identity?: string;
}

export interface DecodeResult {
  events: DecodedEvent[];
  rejected: Rejection[];
}

export interface DecodeOptions {
  maxEventBytes: number;
}

const NULLABLE = ['tenant', 'before', 'after', 'changedFields'] as const;

function stripNulls(e: Record<string, unknown>): EntityUpdated {
  // @IsOptional lets null through; downstream code only has to know `undefined`.
  for (const k of NULLABLE) if (e[k] === null) delete e[k];
  return e as unknown as EntityUpdated;
}

/** The digits of an integer beyond the safe range (a BigInt from the lossless parse, or an unsafe number such as 1e300). */
function unsafeIntegerText(v: unknown): string | undefined {
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number' && Number.isInteger(v) && !Number.isSafeInteger(v)) return String(v);
  return undefined;
}

export function decode(messages: InboundMessage[], options: DecodeOptions): DecodeResult {
  const events: DecodedEvent[] = [];
  const rejected: Rejection[] = [];
  for (const m of messages) {
    if (!m.value || m.value.length === 0) {
      rejected.push(rejection(m, 'EMPTY_VALUE', 'message has no value'));
      continue;
    }
    if (m.value.length > options.maxEventBytes) {
      rejected.push(rejection(m, 'OVERSIZED', `value is ${m.value.length} bytes, limit is ${options.maxEventBytes} (MAX_EVENT_BYTES)`));
      continue;
    }
    const schemaVersion = m.headers[EVENT_HEADERS.schemaVersion];
    if (schemaVersion !== undefined && schemaVersion !== String(CURRENT_SCHEMA_VERSION)) {
      rejected.push(
        rejection(
          m,
          'UNSUPPORTED_SCHEMA_VERSION',
          `schema version "${schemaVersion}" is not supported (this consumer knows ${CURRENT_SCHEMA_VERSION})`,
        ),
      );
      continue;
    }
    const contentType = m.headers[EVENT_HEADERS.contentType];
    if (contentType !== undefined && contentType !== JSON_CONTENT_TYPE) {
      rejected.push(rejection(m, 'UNSUPPORTED_CONTENT_TYPE', `content type "${contentType}" is not ${JSON_CONTENT_TYPE}`));
      continue;
    }
    let payload: unknown;
    try {
      // Integers beyond 2^53 - 1 come back as exact BigInts (keys keep their digits).
      payload = parseExactJson(m.value.toString('utf8'));
    } catch (error) {
      rejected.push(rejection(m, 'BAD_JSON', `value is not JSON: ${(error as Error).message}`));
      continue;
    }
    const unsafeVersion = unsafeIntegerText((payload as { version?: unknown } | null)?.version);
    if (unsafeVersion !== undefined) {
      rejected.push(
        rejection(
          m,
          'UNSAFE_INTEGER',
          `version ${unsafeVersion} is beyond 2^53 - 1 (Number.MAX_SAFE_INTEGER): versions are compared as exact numbers`,
        ),
      );
      continue;
    }
    if (!fastValidateEntityUpdated(payload)) {
      const violations = validateEntityUpdated(payload);
      const reason = violations.map((v) => `${v.field}: ${v.message}`).join('; ') || 'does not match entity.updated v1';
      rejected.push(rejection(m, 'BAD_SCHEMA', reason));
      continue;
    }
    events.push({ event: stripNulls(payload as Record<string, unknown>), message: m });
  }
  return { events, rejected };
}
