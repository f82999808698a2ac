// Publishes outbox records in the order they were written, then marks them sent. At-least-once:
// a crash after Kafka acknowledged but before markSent publishes those records again on restart,
// which is harmless because the invalidator dedups by eventId and never moves a key backwards.
// A failed publish stops the batch and retries it later from the same record, so per-entity order holds.
import { createLogger, Logger } from '@app/telemetry';
import { InvalidEventError } from '../errors';
import type { Publishable } from '../event-message';
import { publisherMetrics } from '../metrics';
import type { Outbox, OutboxRecord } from './outbox';

export interface RelayPublisher {
  publishMany(events: readonly Publishable[]): Promise<void>;
}

export interface OutboxRelayOptions {
  /** Default 200: records read and published per round. */
  batchSize?: number;
  /** Default 500: how often to look for records when nobody called notify(). */
  pollIntervalMs?: number;
  /** Default 10000: longest wait between retries while Kafka keeps failing. */
  maxBackoffMs?: number;
  logger?: Logger;
}

export class OutboxRelay {
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly maxBackoffMs: number;
  private readonly logger: Logger;
  private readonly metrics = publisherMetrics();
  private running = false;
  private timer?: NodeJS.Timeout;
  private draining?: Promise<number>;
  private wakeRequested = false;
  private ticking = false;
  private backoffMs = 0;

  constructor(
    private readonly outbox: Outbox,
    private readonly publisher: RelayPublisher,
    options: OutboxRelayOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 200;
    this.pollIntervalMs = options.pollIntervalMs ?? 500;
    this.maxBackoffMs = options.maxBackoffMs ?? 10_000;
    this.logger = options.logger ?? createLogger('outbox-relay');
  }

  /** Starts polling (and publishes what is already waiting right away). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  /** A record was just written: publish now instead of at the next poll. Ignored while backing off from a Kafka failure. */
  notify(): void {
    if (!this.running || this.backoffMs > 0) return;
    if (this.draining) this.wakeRequested = true;
    else this.schedule(0);
  }

  /** Publishes every unsent record now; resolves with how many were sent, rejects if a publish fails. Never runs twice at once. */
  drain(): Promise<number> {
    this.draining ??= this.drainAll().finally(() => {
      this.draining = undefined;
      // notify() during a drain that tick() did not start: nobody else would look before the next poll.
      if (this.wakeRequested && this.running && !this.ticking) {
        this.wakeRequested = false;
        this.schedule(0);
      }
    });
    return this.draining;
  }

  /**
   * Stops polling and waits (up to timeoutMs, default 5000) for a drain in progress. A drain still
   * running after that leaves its records unsent; they go out on the next start.
   */
  async stop(options: { timeoutMs?: number } = {}): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.draining) return;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => (timer = setTimeout(resolve, options.timeoutMs ?? 5000)));
    await Promise.race([
      this.draining.then(
        () => undefined,
        () => undefined,
      ),
      timedOut,
    ]);
    clearTimeout(timer);
  }

  private schedule(delayMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), delayMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    this.timer = undefined;
    this.ticking = true;
    let nextMs = this.pollIntervalMs;
    try {
      const sent = await this.drain();
      if (this.backoffMs > 0) this.logger.info({ sent }, 'outbox relay recovered; publishing again');
      this.backoffMs = 0;
      if (this.wakeRequested) nextMs = 0;
    } catch (error) {
      const first = this.backoffMs === 0;
      this.backoffMs = Math.min(Math.max(this.backoffMs * 2, this.pollIntervalMs), this.maxBackoffMs);
      nextMs = this.backoffMs;
      const reason = error instanceof Error ? error.message : String(error);
      if (first)
        this.logger.warn({ reason, retryInMs: nextMs }, 'outbox relay could not publish; records stay unsent and are retried with backoff');
      else this.logger.debug({ reason, retryInMs: nextMs }, 'outbox relay retry failed');
    }
    this.wakeRequested = false;
    this.ticking = false;
    if (this.running) this.schedule(nextMs);
  }

  private async drainAll(): Promise<number> {
    let total = 0;
    for (;;) {
      const records = await this.outbox.unsent(this.batchSize);
      if (records.length === 0) return total;
      let sent: OutboxRecord[];
      try {
        sent = await this.publishSkippingInvalid([...records]);
      } catch (error) {
        await this.release(records);
        throw error;
      }
      if (sent.length > 0) {
        await this.outbox.markSent(sent.map((r) => r.id));
        this.metrics.outboxRelayed.inc(sent.length);
        total += sent.length;
      }
    }
  }

  /** A failed send: hand the records back (other relays of a shared outbox may take them now). */
  private async release(records: readonly OutboxRecord[]): Promise<void> {
    if (!this.outbox.release) return;
    try {
      await this.outbox.release(records.map((r) => r.id));
    } catch (error) {
      this.logger.debug({ reason: error instanceof Error ? error.message : String(error) }, 'outbox relay could not release its claim');
    }
  }

  /** Publishes the records; one the publisher refuses is set aside (markFailed) so it can't block the rest forever. */
  private async publishSkippingInvalid(records: OutboxRecord[]): Promise<OutboxRecord[]> {
    while (records.length > 0) {
      try {
        await this.publisher.publishMany(records.map((r) => ({ event: r.event, traceId: r.traceId })));
        return records;
      } catch (error) {
        if (!(error instanceof InvalidEventError)) throw error;
        const index = error.index ?? 0;
        const [bad] = records.splice(index, 1);
        this.logger.error(
          { recordId: bad.id, entityType: bad.event?.entityType, entityId: bad.event?.entityId, field: error.field, reason: error.message },
          'outbox record can never be published; set aside as failed, the rest continue',
        );
        await this.outbox.markFailed(bad.id, error.message);
        this.metrics.outboxFailed.inc();
      }
    }
    return records;
  }
}
