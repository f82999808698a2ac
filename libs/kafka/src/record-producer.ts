// A small producer for records the service itself writes (dead letters, DLQ replays): acks from
// all in-sync replicas, idempotent, awaited before the origin offset is resolved.
import { Kafka, Partitioners, Producer } from 'kafkajs';
import { OutboundRecord, RecordSender, RecordSenderOptions, withSendTimeout } from './consumer-api';

/** kafkajs' RecordSenderOptions: `retries` are kafkajs retries inside one send. */
export type RecordProducerOptions = RecordSenderOptions;

export class RecordProducer implements RecordSender {
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
    await withSendTimeout(this.producer.send({ topic, acks: -1, timeout: this.sendTimeoutMs, messages: records }), this.sendTimeoutMs);
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }
}
