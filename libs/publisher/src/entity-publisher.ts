// Publishes entity.updated to Kafka: validated before send, keyed by entity, acks=all, idempotent,
// and sent strictly one producer request at a time so one entity's events reach its partition in
// the order they were published (the invalidator's version guard relies on order only as an
// optimisation, but consumers downstream of us may not have a guard).
import { compressionType, createKafka, registerKafkaCodecs } from '@app/kafka';
import { createLogger, Logger } from '@app/telemetry';
import { CompressionTypes, logLevel, Message, Partitioners } from 'kafkajs';
import { PublisherError } from './errors';
import { encodeEventMessage, Publishable, toPublishRequest } from './event-message';
import { publisherMetrics } from './metrics';
import { EntityPublisherOptions, ProducerLike, ResolvedPublisherOptions, resolvePublisherOptions } from './publisher.options';

interface QueuedGroup {
  messages: Message[];
  resolve: () => void;
  reject: (error: Error) => void;
}

export class EntityPublisher {
  readonly topic: string;
  private readonly options: ResolvedPublisherOptions;
  private readonly producer: ProducerLike;
  private readonly logger: Logger;
  private readonly metrics = publisherMetrics();
  private readonly compression: CompressionTypes;
  private connecting?: Promise<void>;
  private queue: QueuedGroup[] = [];
  private queuedMessages = 0;
  private flushing?: Promise<void>;
  private lingerTimer?: NodeJS.Timeout;
  private closed = false;

  constructor(options: EntityPublisherOptions) {
    this.options = resolvePublisherOptions(options);
    this.topic = this.options.topic;
    this.logger = options.logger ?? createLogger('entity-publisher');
    this.compression = compressionType(this.options.compression);
    // A `kafka` client passed in may not come from createKafka: make sure the codec exists.
    if (this.compression !== CompressionTypes.None) registerKafkaCodecs();
    this.producer = options.producer ?? this.createProducer();
  }

  /** Connects the producer. Optional: the first publish connects too. */
  connect(): Promise<void> {
    if (this.closed) return Promise.reject(this.closedError());
    return this.ensureConnected();
  }

  private ensureConnected(): Promise<void> {
    this.connecting ??= this.producer.connect().catch((error: unknown) => {
      this.connecting = undefined; // the next publish tries again
      throw error;
    });
    return this.connecting;
  }

  /** Resolves once Kafka acknowledged the event (acks=all). A bad event rejects with InvalidEventError and is never sent. */
  publish(event: Publishable): Promise<void> {
    return this.publishMany([event]);
  }

  /**
   * Validates every event first: one bad event refuses the whole call and nothing is sent. The
   * events then travel in one producer request (never split), after events published earlier.
   */
  publishMany(events: readonly Publishable[]): Promise<void> {
    if (this.closed) return Promise.reject(this.closedError());
    let messages: Message[];
    try {
      messages = events.map((item, i) =>
        encodeEventMessage(toPublishRequest(item), this.options.maxEventBytes, events.length > 1 ? i : undefined),
      );
    } catch (error) {
      if (error instanceof PublisherError) this.metrics.refused.inc({ code: error.code });
      return Promise.reject(error);
    }
    if (messages.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ messages, resolve, reject });
      this.queuedMessages += messages.length;
      this.schedule();
    });
  }

  /**
   * Sends what is queued and waits for it, then disconnects; all within closeTimeoutMs, so a
   * shutdown never hangs on an unreachable broker. Events still unacknowledged at the deadline
   * reject with PUBLISHER_CLOSED (they may still reach Kafka: callers that retry send duplicates,
   * which the invalidator ignores). Later publishes reject with PUBLISHER_CLOSED.
   */
  async disconnect(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const deadline = Date.now() + this.options.closeTimeoutMs;
    if (this.lingerTimer) {
      clearTimeout(this.lingerTimer);
      this.lingerTimer = undefined;
      this.startFlush();
    }
    if (this.flushing && !(await settlesBefore(this.flushing, deadline))) {
      this.logger.warn(
        { topic: this.topic, queued: this.queuedMessages },
        'publisher closing before Kafka acknowledged queued events; their callers get PUBLISHER_CLOSED',
      );
    }
    const abandoned = this.queue.splice(0);
    this.queuedMessages = 0;
    abandoned.forEach((group) => group.reject(this.closedError()));
    if (!this.connecting) return;
    const disconnected = this.connecting.then(() => this.producer.disconnect()).catch(() => undefined);
    if (!(await settlesBefore(disconnected, deadline))) {
      // Still connecting (kafkajs retries an unreachable broker): drop the connection attempt.
      this.producer.disconnect().catch(() => undefined);
    }
  }

  private schedule(): void {
    if (this.flushing) return; // the running flush picks up whatever arrives meanwhile
    if (this.options.lingerMs === 0 || this.queuedMessages >= this.options.maxBatchSize) {
      if (this.lingerTimer) clearTimeout(this.lingerTimer);
      this.lingerTimer = undefined;
      this.startFlush();
    } else {
      this.lingerTimer ??= setTimeout(() => {
        this.lingerTimer = undefined;
        this.startFlush();
      }, this.options.lingerMs);
    }
  }

  private startFlush(): void {
    if (this.flushing) return;
    this.flushing = this.flush().finally(() => {
      this.flushing = undefined;
      // A publish that ran between the loop's last check and here saw `flushing` set and left its
      // events for us: pick them up, or they would wait for the next publish.
      if (this.queue.length > 0) this.schedule();
    });
  }

  /** One request at a time, until the queue is empty; events queued during a send go in the next one. */
  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.takeBatch();
      const messages = batch.flatMap((group) => group.messages);
      const endTimer = this.metrics.sendDuration.startTimer({ topic: this.topic });
      try {
        await this.ensureConnected();
        await this.producer.send({ topic: this.topic, messages, acks: -1, compression: this.compression });
        endTimer();
        this.metrics.published.inc({ topic: this.topic }, messages.length);
        batch.forEach((group) => group.resolve());
      } catch (error) {
        this.metrics.sendFailures.inc({ topic: this.topic });
        const reason = error instanceof Error ? error.message : String(error);
        this.logger.warn(
          { topic: this.topic, events: messages.length, reason },
          'publish failed; the callers get PUBLISH_FAILED and may retry (the invalidator ignores duplicates)',
        );
        const failure = new PublisherError(
          'PUBLISH_FAILED',
          `Kafka did not acknowledge ${messages.length} event(s) on topic "${this.topic}": ${reason}`,
          { cause: error },
        );
        batch.forEach((group) => group.reject(failure));
      }
    }
  }

  /** Whole groups (a publishMany call is never split), at least one, up to maxBatchSize messages. */
  private takeBatch(): QueuedGroup[] {
    const batch: QueuedGroup[] = [];
    let size = 0;
    while (this.queue.length > 0) {
      const next = this.queue[0];
      if (batch.length > 0 && size + next.messages.length > this.options.maxBatchSize) break;
      batch.push(next);
      size += next.messages.length;
      this.queue.shift();
    }
    this.queuedMessages -= size;
    return batch;
  }

  private createProducer(): ProducerLike {
    // createKafka registers every compression codec (consumers of this client read them all).
    const kafka =
      this.options.kafka ??
      createKafka({
        clientId: this.options.clientId,
        brokers: this.options.brokers ?? [],
        // kafkajs' default timeouts; retry as documented on EntityPublisherOptions.kafkaConfig
        connectionTimeoutMs: 1_000,
        requestTimeoutMs: 30_000,
        retry: { retries: 2 },
        logLevel: logLevel.WARN,
        // kafkajs' log through the one bridge of @app/kafka (retried-and-harmless entries at debug).
        logger: this.logger,
        logBridge: { namespaceField: 'kafkaNamespace' },
        kafkaConfig: this.options.kafkaConfig,
      });
    // Idempotence in kafkajs needs acks=-1 (set per send) and at most one in-flight request.
    // DefaultPartitioner is Java-compatible murmur2: a key lands on the same partition as from any other client.
    // kafka.producer() merges the client's retry into the producer's, so the unlimited send retry
    // that keeps the idempotent guarantee must be asked for explicitly.
    return kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: { retries: Number.MAX_SAFE_INTEGER, ...this.options.retry },
    });
  }

  private closedError(): PublisherError {
    return new PublisherError('PUBLISHER_CLOSED', `publisher for topic "${this.topic}" is disconnected; create a new one`);
  }
}

/** True when `promise` settles before `deadline` (epoch ms); never rejects. */
async function settlesBefore(promise: Promise<unknown>, deadline: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()))));
  const settled = promise.then(
    () => true as const,
    () => true as const,
  );
  const result = await Promise.race([settled, timedOut]);
  clearTimeout(timer);
  return result;
}
