// The transactional outbox. A write service that changes its database and then publishes to Kafka
// has two writes that can't be atomic together (the dual-write problem): a crash between them loses the
// event, or publishes a change that was rolled back. Instead the service writes the event as a row
// IN THE SAME TRANSACTION as the business change, and OutboxRelay publishes rows afterwards.
import type { EntityUpdated } from '@app/contracts';

export interface OutboxRecord {
  /** Unique per record; `event.eventId` is a good choice (see createOutboxRecord). */
  id: string;
  event: EntityUpdated;
  /** Forwarded as the x-trace-id header, so the request that made the change can be followed. */
  traceId?: string;
}

/** What the relay needs from the store that holds the outbox rows. */
export interface Outbox {
  /** Records not yet sent nor failed, oldest first (the order they were written), at most `limit`. */
  unsent(limit: number): Promise<readonly OutboxRecord[]>;
  /** Records Kafka acknowledged. Must be idempotent; unknown ids are ignored. */
  markSent(ids: readonly string[]): Promise<void>;
  /** A record that can never be published (refused by validation): set it aside, keep it for a human. */
  markFailed(id: string, reason: string): Promise<void>;
  /**
   * Optional: records `unsent` handed out that could not be published (Kafka failed). An outbox
   * whose `unsent` claims rows for one relay among several (PostgresOutbox) gives them back here,
   * so another relay can take them at once. Best effort: the relay ignores its failure.
   */
  release?(ids: readonly string[]): Promise<void>;
}

export function createOutboxRecord(event: EntityUpdated, traceId?: string): OutboxRecord {
  return traceId === undefined ? { id: event.eventId, event } : { id: event.eventId, event, traceId };
}
