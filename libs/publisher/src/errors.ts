// Every error the publisher throws carries a stable `code` (documented in docs/clients.md, "Publisher error codes").
import type { EventViolation } from '@app/contracts';

export type PublisherErrorCode = 'INVALID_EVENT' | 'EVENT_TOO_LARGE' | 'INVALID_PUBLISHER_OPTIONS' | 'PUBLISHER_CLOSED' | 'PUBLISH_FAILED';

export class PublisherError extends Error {
  constructor(
    readonly code: PublisherErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PublisherError';
  }
}

/**
 * The event was refused before anything was sent. `field` is the first wrong field (dotted path);
 * `index` is the event's position when it came from `publishMany` (the whole batch is refused).
 */
export class InvalidEventError extends PublisherError {
  readonly field: string;

  constructor(
    readonly violations: EventViolation[],
    readonly index?: number,
    code: 'INVALID_EVENT' | 'EVENT_TOO_LARGE' = 'INVALID_EVENT',
  ) {
    const where = index === undefined ? '' : ` (event #${index} of the batch; nothing in the batch was sent)`;
    const what = violations.map((v) => `${v.field}: ${v.message}`).join('; ');
    super(code, `entity.updated refused before send${where}: ${what}`);
    this.name = 'InvalidEventError';
    this.field = violations[0]?.field ?? '(root)';
  }
}

export class PublisherOptionsError extends PublisherError {
  constructor(
    readonly option: string,
    message: string,
  ) {
    super('INVALID_PUBLISHER_OPTIONS', `publisher option "${option}" ${message}`);
    this.name = 'PublisherOptionsError';
  }
}
