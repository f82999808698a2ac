// The kafkajs batch consumer behind the BatchConsumer interface (consumer-api.ts), so the
// transport never sees kafkajs types. Offsets are resolved only by the caller (eachBatchAutoResolve
// off) and only for work whose effect is already in Redis; commits happen right after resolving.
import { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type {
  BatchConsumer,
  BatchConsumerOptions,
  BatchControl,
  BatchHandler,
  ConsumerLifecycleListener,
  InboundBatch,
} from './consumer-api';

export class KafkaBatchConsumer implements BatchConsumer {
  readonly client = 'kafkajs' as const;
  private readonly consumer: Consumer;
  private listeners: ConsumerLifecycleListener[] = [];
  private joined = false;

  constructor(
    kafka: Kafka,
    private readonly options: BatchConsumerOptions,
  ) {
    this.consumer = kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: options.heartbeatIntervalMs ?? 3_000,
      maxBytesPerPartition: options.maxBytesPerPartition ?? 1_048_576,
      maxBytes: options.maxBytes ?? 10_485_760,
      maxWaitTimeInMs: options.maxWaitTimeMs ?? 100,
      allowAutoTopicCreation: false,
    });
    const { GROUP_JOIN, CRASH, STOP, REBALANCING } = this.consumer.events;
    this.consumer.on(GROUP_JOIN, (e) => {
      this.joined = true;
      this.emit('group-join', e.payload);
    });
    this.consumer.on(CRASH, (e) => {
      this.joined = false;
      this.emit('crash', e.payload);
    });
    this.consumer.on(STOP, () => {
      this.joined = false;
      this.emit('stop');
    });
    this.consumer.on(REBALANCING, (e) => this.emit('rebalancing', e.payload));
  }

  get hasJoinedGroup(): boolean {
    return this.joined;
  }

  on(listener: ConsumerLifecycleListener): void {
    this.listeners.push(listener);
  }

  private emit(event: Parameters<ConsumerLifecycleListener>[0], detail?: unknown): void {
    for (const l of this.listeners) l(event, detail);
  }

  async start(handler: BatchHandler): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [this.options.topic], fromBeginning: this.options.fromBeginning ?? true });
    await this.consumer.run({
      // Threshold 1: commitOffsetsIfNecessary() commits whatever was resolved, so every chunk's
      // resolve is followed by a real commit (with null/null kafkajs would only commit at batch end).
      autoCommit: true,
      autoCommitInterval: null,
      autoCommitThreshold: 1,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 3,
      eachBatch: (payload) => handler(toInboundBatch(payload), this.control(payload)),
    });
  }

  private control(payload: EachBatchPayload): BatchControl {
    const { topic, partition } = payload.batch;
    let resumeFn: (() => void) | undefined;
    // kafkajs notices a rebalance only when a heartbeat or commit fails; remember it, so a
    // caller that swallowed the error (a retry loop) still sees the batch is no longer ours.
    let lost = false;
    const watch = async <T>(op: () => Promise<T>): Promise<T> => {
      try {
        return await op();
      } catch (error) {
        lost = true;
        throw error;
      }
    };
    return {
      resolveAndCommit: async (offset) => {
        payload.resolveOffset(offset);
        await watch(() => payload.commitOffsetsIfNecessary());
      },
      heartbeat: () => watch(() => payload.heartbeat()),
      isActive: () => !lost && payload.isRunning() && !payload.isStale(),
      pausePartition: () => {
        if (!resumeFn) {
          this.consumer.pause([{ topic, partitions: [partition] }]);
          resumeFn = () => this.consumer.resume([{ topic, partitions: [partition] }]);
        }
      },
      resumePartition: () => {
        resumeFn?.();
        resumeFn = undefined;
      },
    };
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }
}

function toInboundBatch(payload: EachBatchPayload): InboundBatch {
  const { batch } = payload;
  return {
    topic: batch.topic,
    partition: batch.partition,
    highWatermark: batch.highWatermark,
    messages: batch.messages.map((m) => {
      // for...in rather than Object.entries: no array per header per message on the hot path.
      const headers: Record<string, string | undefined> = {};
      const raw = m.headers;
      if (raw) {
        for (const name in raw) {
          if (!Object.prototype.hasOwnProperty.call(raw, name)) continue;
          const value = raw[name];
          headers[name] = value === undefined ? undefined : Array.isArray(value) ? String(value[0]) : String(value);
        }
      }
      return {
        topic: batch.topic,
        partition: batch.partition,
        offset: m.offset,
        key: m.key,
        value: m.value,
        headers,
        timestamp: Number(m.timestamp),
      };
    }),
  };
}
