// A small producer for records the service itself writes (dead letters): acks from all
// in-sync replicas, idempotent, awaited before the origin offset is resolved.
import { Kafka, Partitioners, Producer } from 'kafkajs';

export interface OutboundRecord {
  key: string | Buffer | null;
  value: string | Buffer | null;
  headers: Record<string, string>;
}

export class RecordProducer {
  private readonly producer: Producer;

  constructor(kafka: Kafka) {
    // Unlimited retries: idempotence needs them, and a dead letter must not be dropped while Kafka
    // is briefly unavailable (the origin offsets stay uncommitted until the send succeeds; a
    // shutdown is still bounded by SHUTDOWN_TIMEOUT_MS).
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 200, maxRetryTime: 5_000 },
    });
  }

  connect(): Promise<void> {
    return this.producer.connect();
  }

  async send(topic: string, records: OutboundRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.producer.send({ topic, acks: -1, messages: records });
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }
}
