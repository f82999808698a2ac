import { DEFAULT_TOPICS } from '@app/contracts';
import type { Logger } from '@app/telemetry';
import { KAFKA_COMPRESSION_NAMES, KafkaCompression } from '@app/kafka';
import type { Kafka, KafkaConfig, Producer, RetryOptions } from 'kafkajs';
import { PublisherOptionsError } from './errors';
import { DEFAULT_MAX_EVENT_BYTES } from './event-message';

/** What the publisher needs from a kafkajs producer (a fake in unit tests). */
export type ProducerLike = Pick<Producer, 'connect' | 'disconnect' | 'send'>;

export interface EntityPublisherOptions {
  /** Broker addresses ("host:port"). Give `brokers` or `kafka`. */
  brokers?: string[];
  /** An existing kafkajs client (its own logging, SSL, SASL). */
  kafka?: Kafka;
  /**
   * Extra kafkajs client settings (ssl, sasl, connectionTimeout, retry...) when the publisher creates
   * the client from `brokers`. Default retry: { retries: 2 } for connecting and metadata, so an
   * unreachable broker fails a publish in about a second and the caller (the outbox relay) decides
   * when to try again, instead of kafkajs retrying for ~10 s.
   */
  kafkaConfig?: Omit<KafkaConfig, 'brokers' | 'clientId'>;
  /** Default "entity-publisher". Used only when the publisher creates the Kafka client from `brokers`. */
  clientId?: string;
  /** Default "entity.updated" (DEFAULT_TOPICS.entityUpdated). */
  topic?: string;
  /**
   * Default 0: send as soon as the previous send is acknowledged (events that arrive meanwhile go
   * together in the next send). Above 0: wait up to this long for more events before sending, for
   * high publish rates. Raises latency by at most lingerMs.
   */
  lingerMs?: number;
  /** Default 500: most events in one producer request; a full batch is sent without waiting for lingerMs. */
  maxBatchSize?: number;
  /** Default 262144 (the invalidator's MAX_EVENT_BYTES default): a larger event is refused (EVENT_TOO_LARGE) instead of being dead-lettered. */
  maxEventBytes?: number;
  /**
   * kafkajs producer (send) retry options. Default: retries without limit (each wait capped by
   * kafkajs's maxRetryTime), which keeps the idempotent guarantee and the order; a limit trades
   * them for bounded waits (a resend after giving up may duplicate, which the invalidator ignores).
   */
  retry?: RetryOptions;
  /** Default 5000: on disconnect, how long to wait for events already queued to be acknowledged. */
  closeTimeoutMs?: number;
  /**
   * Default "none". Compression codec of the record batches sent: none, gzip, snappy, lz4 or zstd
   * (every consumer in this project reads all five; a KAFKA_COMPRESSION variable of the app feeds it).
   */
  compression?: KafkaCompression;
  logger?: Logger;
  /** Tests: use this producer instead of creating an idempotent kafkajs producer. */
  producer?: ProducerLike;
}

export type ResolvedPublisherOptions = Required<
  Pick<EntityPublisherOptions, 'topic' | 'lingerMs' | 'maxBatchSize' | 'maxEventBytes' | 'clientId' | 'closeTimeoutMs' | 'compression'>
> &
  EntityPublisherOptions;

function nonNegativeInteger(option: string, value: number): number {
  if (!Number.isInteger(value) || value < 0) throw new PublisherOptionsError(option, `must be a non-negative integer, got ${value}`);
  return value;
}

export function resolvePublisherOptions(options: EntityPublisherOptions): ResolvedPublisherOptions {
  if (!options.producer && !options.kafka && !(options.brokers && options.brokers.length > 0)) {
    throw new PublisherOptionsError('brokers', 'is required (a non-empty list of "host:port"), unless "kafka" is given');
  }
  const topic = options.topic ?? DEFAULT_TOPICS.entityUpdated;
  if (topic.trim() === '') throw new PublisherOptionsError('topic', 'must not be empty');
  const compression = options.compression ?? 'none';
  if (!(KAFKA_COMPRESSION_NAMES as readonly string[]).includes(compression)) {
    throw new PublisherOptionsError(
      'compression',
      `must be one of ${KAFKA_COMPRESSION_NAMES.join(', ')}, got ${JSON.stringify(compression)}`,
    );
  }
  const maxBatchSize = nonNegativeInteger('maxBatchSize', options.maxBatchSize ?? 500);
  if (maxBatchSize < 1) throw new PublisherOptionsError('maxBatchSize', 'must be at least 1');
  return {
    ...options,
    topic,
    clientId: options.clientId ?? 'entity-publisher',
    lingerMs: nonNegativeInteger('lingerMs', options.lingerMs ?? 0),
    maxBatchSize,
    maxEventBytes: nonNegativeInteger('maxEventBytes', options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES),
    closeTimeoutMs: nonNegativeInteger('closeTimeoutMs', options.closeTimeoutMs ?? 5000),
    compression,
  };
}
