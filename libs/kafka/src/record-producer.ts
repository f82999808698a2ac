// A small producer for records the service itself writes (dead letters, DLQ replays): acks from
// all in-sync replicas, idempotent, awaited before the origin offset is resolved.
import { Kafka, Partitioners, Producer } from 'kafkajs';

export interface OutboundRecord {
  key: string | Buffer | null;
  value: string | Buffer | null;
  headers: Record<string, string | Buffer>;
  /** Explicit partition (a replay goes back to its origin partition); else the key decides. */
  partition?: number;
}

export interface RecordProducerOptions {
  /**
   * kafkajs retries inside one send (>= 1: idempotence needs some). Kept small on purpose: the
   * caller owns the long retry loop (with backoff, heartbeats and a pause), so a send never
   * blocks a batch for longer than `sendTimeoutMs`.
   */
  retries?: number;
  /** One send (kafkajs retries included) fails after this long. Keep it well below the session timeout. */
  sendTimeoutMs?: number;
}

export class RecordSendTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`produce did not complete within ${timeoutMs} ms`);
    this.name = 'RecordSendTimeoutError';
  }
}

export class RecordProducer {
  private readonly producer: Producer;
  private readonly sendTimeoutMs: number;

  constructor(kafka: Kafka, options: RecordProducerOptions = {}) {
    this.sendTimeoutMs = options.sendTimeoutMs ?? 10_000;
    // Bounded retries: a DLQ outage must surface as a failed send (the pipeline then pauses the
    // partition and retries with backoff while heartbeating), never as a send that blocks forever.
    // kafkajs warns once at start that limited retries "may invalidate EoS": a retried send reuses
    // its sequence numbers, so the broker still drops a duplicate of a send that did land. That
    // known warning is logged at debug by the log bridge (log-bridge.ts, KNOWN_KAFKAJS_WARNINGS).
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: { retries: Math.max(1, options.retries ?? 2), initialRetryTime: 100, maxRetryTime: 1_000 },
    });
  }

  connect(): Promise<void> {
    return this.producer.connect();
  }

  /** One produce (one request per broker); rejects on failure or after `sendTimeoutMs`. */
  async send(topic: string, records: OutboundRecord[]): Promise<void> {
    if (records.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RecordSendTimeoutError(this.sendTimeoutMs)), this.sendTimeoutMs);
    });
    try {
      await Promise.race([this.producer.send({ topic, acks: -1, timeout: this.sendTimeoutMs, messages: records }), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }
}

/** True when the broker refused a produce because a record or batch is over the topic's size limit. */
export function isRecordTooLargeError(error: unknown): boolean {
  for (let e = error as { type?: string; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth += 1) {
    if (e.type === 'MESSAGE_TOO_LARGE' || e.type === 'RECORD_LIST_TOO_LARGE') return true;
  }
  return false;
}
