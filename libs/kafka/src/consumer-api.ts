// What the invalidator needs of a Kafka client, whichever library implements it: a batch
// consumer (KafkaBatchConsumer on kafkajs, PlatformaticBatchConsumer on @platformatic/kafka)
// and a record sender (RecordProducer, PlatformaticRecordProducer). No library type leaks out.

export const KAFKA_CLIENT_NAMES = ['kafkajs', 'platformatic'] as const;
export type KafkaClientName = (typeof KAFKA_CLIENT_NAMES)[number];

export interface InboundMessage {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string | undefined>;
  /** Record timestamp (ms since epoch) as the broker stored it. */
  timestamp: number;
}

export interface BatchControl {
  /**
   * Marks every message up to and including `offset` as done; then commits (offset + 1, as Kafka
   * expects). kafkajs: resolves once committed. platformatic: resolves once the commit is under
   * way (the next chunk and fetch overlap it); a failed commit makes isActive() false and is
   * retried before the partition's next fetch. Either way a commit covers only resolved offsets.
   */
  resolveAndCommit(offset: string): Promise<void>;
  heartbeat(): Promise<void>;
  /** False once the consumer is stopping or the batch was taken away by a rebalance. */
  isActive(): boolean;
  /** Stops fetching this partition until `resume` (used while Redis is down). */
  pausePartition(): void;
  resumePartition(): void;
}

/** Messages of one topic-partition, in offset order. */
export interface InboundBatch {
  topic: string;
  partition: number;
  highWatermark: string;
  messages: InboundMessage[];
}

/** Called for one batch at a time per partition: a partition's next batch waits for this promise. */
export type BatchHandler = (batch: InboundBatch, control: BatchControl) => Promise<void>;

export interface BatchConsumerOptions {
  groupId: string;
  topic: string;
  fromBeginning?: boolean;
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  maxBytesPerPartition?: number;
  maxBytes?: number;
  maxWaitTimeMs?: number;
  partitionsConsumedConcurrently?: number;
}

export type ConsumerLifecycleEvent = 'group-join' | 'crash' | 'stop' | 'rebalancing';

/**
 * 'crash' carries `{ error, groupId, restart }` (kafkajs' CRASH payload; the platformatic
 * consumer builds the same shape): restart=false means the consumer gave up for good.
 */
export type ConsumerLifecycleListener = (event: ConsumerLifecycleEvent, detail?: unknown) => void;

export interface BatchConsumer {
  /** Which library consumes (logs, crash messages). */
  readonly client: KafkaClientName;
  readonly hasJoinedGroup: boolean;
  on(listener: ConsumerLifecycleListener): void;
  /** Connects, subscribes and starts handing batches to `handler`; joining the group continues in the background. */
  start(handler: BatchHandler): Promise<void>;
  /** Stops fetching, lets the in-flight batches finish (they see isActive() false), commits what was resolved, leaves the group. */
  stop(): Promise<void>;
}

export interface OutboundRecord {
  key: string | Buffer | null;
  value: string | Buffer | null;
  headers: Record<string, string | Buffer>;
  /** Explicit partition (a replay goes back to its origin partition); else the key decides. */
  partition?: number;
}

export interface RecordSenderOptions {
  /**
   * The client's retries inside one send (>= 1: idempotence needs some). Kept small on purpose:
   * the caller owns the long retry loop (with backoff, heartbeats and a pause), so a send never
   * blocks a batch for longer than `sendTimeoutMs`.
   */
  retries?: number;
  /** One send (the client's retries included) fails after this long. Keep it well below the session timeout. */
  sendTimeoutMs?: number;
}

/** Idempotent, acks from all in-sync replicas, each send awaited (dead letters, DLQ replays). */
export interface RecordSender {
  connect(): Promise<void>;
  /** One produce; rejects on failure or after `sendTimeoutMs` (RecordSendTimeoutError). */
  send(topic: string, records: OutboundRecord[]): Promise<void>;
  disconnect(): Promise<void>;
}

export class RecordSendTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`produce did not complete within ${timeoutMs} ms`);
    this.name = 'RecordSendTimeoutError';
  }
}

/** Races `send` against `timeoutMs`: a send never blocks its caller longer. */
export async function withSendTimeout(send: Promise<unknown>, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RecordSendTimeoutError(timeoutMs)), timeoutMs);
  });
  try {
    await Promise.race([send, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * True when the broker refused a produce because a record or batch is over the topic's size
 * limit: kafkajs sets `type`, @platformatic/kafka `apiId` on a ProtocolError inside `errors`.
 */
export function isRecordTooLargeError(error: unknown): boolean {
  const tooLarge = (code: unknown) => code === 'MESSAGE_TOO_LARGE' || code === 'RECORD_LIST_TOO_LARGE';
  const seen = new Set<unknown>();
  const visit = (e: unknown, depth: number): boolean => {
    if (!e || typeof e !== 'object' || depth > 5 || seen.has(e)) return false;
    seen.add(e);
    const { type, apiId, cause, errors } = e as { type?: unknown; apiId?: unknown; cause?: unknown; errors?: unknown };
    if (tooLarge(type) || tooLarge(apiId)) return true;
    if (visit(cause, depth + 1)) return true;
    return Array.isArray(errors) && errors.some((inner) => visit(inner, depth + 1));
  };
  return visit(error, 0);
}
