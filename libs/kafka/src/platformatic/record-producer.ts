// The RecordSender (consumer-api.ts) on @platformatic/kafka, for dead letters with
// KAFKA_CLIENT=platformatic: idempotent (so acks from all in-sync replicas, one request in
// flight), bounded retries inside one send, each send raced against `sendTimeoutMs` so a DLQ
// outage surfaces as a failed send the pipeline retries with backoff, never a blocked batch.
import type { Producer } from '@platformatic/kafka';
import { OutboundRecord, RecordSender, RecordSenderOptions, withSendTimeout } from '../consumer-api';
import { platformaticBaseOptions, PlatformaticConnectionOptions } from './connection';
import { platformaticKafka } from './load';

export class PlatformaticRecordProducer implements RecordSender {
  private producer?: Producer<Buffer, Buffer, string, Buffer>;
  private readonly sendTimeoutMs: number;

  constructor(
    private readonly connection: PlatformaticConnectionOptions,
    private readonly options: RecordSenderOptions = {},
  ) {
    this.sendTimeoutMs = options.sendTimeoutMs ?? 10_000;
  }

  /** Builds the producer and checks the brokers answer (platformatic connects lazily, on the first request). */
  async connect(): Promise<void> {
    const { Producer, compatibilityPartitioner } = platformaticKafka();
    // retries <= 1 on an idempotent producer means "forever" to platformatic: never below 2.
    this.producer ??= new Producer<Buffer, Buffer, string, Buffer>({
      ...platformaticBaseOptions(this.connection),
      idempotent: true,
      retries: Math.max(2, this.options.retries ?? 2),
      retryDelay: 100,
      autocreateTopics: false,
      // murmur2 & 0x7fffffff: the partition kafkajs' DefaultPartitioner and Java pick for a key.
      partitioner: compatibilityPartitioner,
      serializers: { headerKey: (name?: string) => (name === undefined ? undefined : Buffer.from(name)) },
    });
    await this.producer.metadata({ topics: [] });
  }

  async send(topic: string, records: OutboundRecord[]): Promise<void> {
    if (records.length === 0) return;
    if (!this.producer) throw new Error('PlatformaticRecordProducer.send before connect()');
    const messages = records.map((r) => ({
      topic,
      key: toBuffer(r.key),
      value: toBuffer(r.value),
      // A plain object, not a Map: platformatic tests `instanceof Map`, which fails for a Map made
      // in another realm (the invalidator inside a jest test); header names go through the serializer.
      headers: Object.fromEntries(Object.entries(r.headers).map(([name, value]) => [name, toBuffer(value)!])),
      ...(r.partition !== undefined ? { partition: r.partition } : {}),
    }));
    await withSendTimeout(this.producer.send({ messages }), this.sendTimeoutMs);
  }

  async disconnect(): Promise<void> {
    await this.producer?.close();
  }
}

function toBuffer(value: string | Buffer | null): Buffer | undefined {
  if (value === null) return undefined;
  return Buffer.isBuffer(value) ? value : Buffer.from(value);
}
