// One place turns an event into a Kafka message: validation (the same function the invalidator
// uses, so an accepted event is never dead-lettered for its schema), size limit, key and headers.
import {
  CURRENT_SCHEMA_VERSION,
  entityMessageKey,
  EntityUpdated,
  EVENT_HEADERS,
  fastValidateEntityUpdated,
  JSON_CONTENT_TYPE,
  validateEntityUpdated,
} from '@app/contracts';
import type { Message } from 'kafkajs';
import { InvalidEventError } from './errors';

/**
 * The invalidator dead-letters events over its MAX_EVENT_BYTES (default 262144) as oversized, so
 * refusing them here, at the source, is kinder. Raise both together.
 */
export const DEFAULT_MAX_EVENT_BYTES = 262_144;

export interface PublishRequest {
  event: EntityUpdated;
  /** Copied to the `x-trace-id` header; defaults to the event id so one id ties logs together. */
  traceId?: string;
}

export type Publishable = EntityUpdated | PublishRequest;

export function toPublishRequest(item: Publishable): PublishRequest {
  return isPublishRequest(item) ? item : { event: item };
}

function isPublishRequest(item: Publishable): item is PublishRequest {
  return typeof item === 'object' && item !== null && 'event' in item && !('eventId' in item);
}

/** Validates and encodes; throws InvalidEventError (naming the field) instead of returning a bad message. */
export function encodeEventMessage(request: PublishRequest, maxEventBytes = DEFAULT_MAX_EVENT_BYTES, index?: number): Message {
  const { event } = request;
  // The fast check agrees with the class-validator DTO (property-tested in libs/contracts); the
  // DTO runs only to name the wrong field.
  if (!fastValidateEntityUpdated(event)) {
    const violations = validateEntityUpdated(event);
    throw new InvalidEventError(
      violations.length > 0 ? violations : [{ field: '(root)', message: 'not a valid entity.updated v1 event' }],
      index,
    );
  }
  const value = JSON.stringify(event);
  const bytes = Buffer.byteLength(value);
  if (bytes > maxEventBytes) {
    throw new InvalidEventError(
      [
        {
          field: '(size)',
          message: `event is ${bytes} bytes, over the ${maxEventBytes} byte limit (maxEventBytes); send less in before/after`,
        },
      ],
      index,
      'EVENT_TOO_LARGE',
    );
  }
  return {
    key: entityMessageKey(event.entityType, event.entityId),
    value,
    headers: {
      [EVENT_HEADERS.schemaVersion]: String(CURRENT_SCHEMA_VERSION),
      [EVENT_HEADERS.contentType]: JSON_CONTENT_TYPE,
      [EVENT_HEADERS.traceId]: request.traceId ?? event.eventId,
    },
  };
}
