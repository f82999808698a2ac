// Reads a whole topic from its beginning and keeps following it; says when it has caught up
// with the end offsets of a given moment (startup, or right after our own write).
//
// Why a consumer group with a random id per instance (and no offset commits): every instance
// must see every record (a broadcast, not a work queue), and kafkajs has no manual partition
// assignment. A fresh group with fromBeginning starts at offset 0 each time; never committing
// means the broker drops the group when the instance leaves. If kafkajs restarts the consumer
// (it then re-reads from the beginning), records already applied are skipped by offset, so a
// follower never goes back to an older state.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Consumer, Kafka } from 'kafkajs';
import type { Logger } from '@app/telemetry';
import { RegistryError } from '../errors';

export interface FollowedRecord {
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
}

export interface TopicFollowerOptions {
  kafka: Kafka;
  topic: string;
  /** Prefix of the random consumer group id, so operators can tell whose group it is. */
  groupIdPrefix: string;
  logger: Logger;
  /** Applies one fetched batch, synchronously (records of one partition, in offset order). */
  onRecords(records: FollowedRecord[]): void;
  /** Longest a fetch waits for new data; bounds how long stop() takes. Default 500. */
  maxWaitTimeInMs?: number;
  /**
   * The topic was deleted (confirmed with the admin API after a crash). If it comes back it is a
   * new log starting at offset 0: the follower forgets its positions (nothing of the new topic is
   * skipped) and the owner should forget the state built from the old one (keeping what is in
   * effect until the new records arrive).
   */
  onTopicGone?(): void;
}

/** Is the follower still reading? For health checks of whoever depends on the followed state. */
export interface FollowerHealth {
  /** Set when kafkajs gave up on the consumer (CRASH with restart=false): it will not fetch again by itself. */
  failed?: Error;
  /** Ms since the last successful fetch (an empty one counts: the consumer is alive); since start() before the first. */
  sinceLastFetchMs: number;
  /** The last error kafkajs reported (a crash it restarts from, a failed fetch), for the reason text. */
  lastError?: string;
}

interface Waiter {
  targets: Map<number, bigint>;
  resolve(): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

export class TopicFollower {
  /** Next offset to read per partition (= last applied + 1). */
  private readonly positions = new Map<number, bigint>();
  private waiters: Waiter[] = [];
  private consumer?: Consumer;
  private stopped = false;
  private failure?: Error;
  private lastFetchAt = Date.now();
  private lastError?: string;
  readonly groupId: string;

  constructor(private readonly options: TopicFollowerOptions) {
    this.groupId = `${options.groupIdPrefix}-${hostname()}-${randomUUID().slice(0, 8)}`;
  }

  /** Starts consuming and resolves once every record present at call time has been applied. */
  async start(timeoutMs: number): Promise<void> {
    if (this.consumer) throw new Error('TopicFollower.start() called twice');
    const { kafka, topic, logger } = this.options;
    const startOffsets = await this.endOffsets();
    const consumer = kafka.consumer({
      groupId: this.groupId,
      maxWaitTimeInMs: this.options.maxWaitTimeInMs ?? 500,
      // Transactions: read only committed records (a registry write is one transaction).
      readUncommitted: false,
    });
    this.consumer = consumer;
    this.lastFetchAt = Date.now();
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      this.lastFetchAt = Date.now();
      this.advance(payload.partition, BigInt(payload.lastOffset) + 1n);
    });
    // Liveness: every successful fetch (empty ones too, every maxWaitTimeInMs) proves the consumer reads.
    consumer.on(consumer.events.FETCH, () => {
      this.lastFetchAt = Date.now();
      this.topicGone = false;
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.lastError = payload.error?.message ?? String(payload.error);
      void this.checkTopicGone();
      if (payload.restart) {
        logger.warn(
          { topic, groupId: this.groupId, err: payload.error },
          'topic follower crashed; kafkajs restarts it (already applied records are skipped)',
        );
      } else {
        this.fail(payload.error);
      }
    });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      // kafkajs awaits eachBatch inside a try, so a throw here is handled like a rejection.
      eachBatch: ({ batch }) => {
        const from = this.positions.get(batch.partition) ?? 0n;
        const records: FollowedRecord[] = [];
        for (const m of batch.messages) {
          if (BigInt(m.offset) < from) continue;
          records.push({
            partition: batch.partition,
            offset: m.offset,
            key: m.key === null ? null : m.key.toString('utf8'),
            value: m.value,
          });
        }
        if (records.length > 0) this.options.onRecords(records);
        this.advance(batch.partition, BigInt(batch.lastOffset()) + 1n);
        return Promise.resolve();
      },
    });
    await this.waitFor(startOffsets, timeoutMs, 'read the topic to its end');
  }

  /**
   * Resolves once everything committed to the topic before this call has been applied. Not for
   * read-your-writes right after a transaction commit: commit markers are written
   * asynchronously, so the end offset may not include it yet; use waitForOffsets instead.
   */
  async catchUp(timeoutMs: number): Promise<void> {
    await this.waitFor(await this.endOffsets(), timeoutMs, 'read the latest records');
  }

  /** Resolves once the records at these offsets (inclusive, per partition) have been applied. */
  waitForOffsets(offsets: { partition: number; offset: string }[], timeoutMs: number): Promise<void> {
    const targets = new Map<number, bigint>();
    for (const o of offsets) {
      const next = BigInt(o.offset) + 1n;
      if (next > (targets.get(o.partition) ?? 0n)) targets.set(o.partition, next);
    }
    return this.waitFor(targets, timeoutMs, 'read back the records just written');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.rejectAll(new RegistryError('STORE_STOPPED', `follower of ${this.options.topic} stopped`));
    const consumer = this.consumer;
    this.consumer = undefined;
    await consumer?.disconnect();
  }

  private async endOffsets(): Promise<Map<number, bigint>> {
    const admin = this.options.kafka.admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchTopicOffsets(this.options.topic);
      // A partition whose end equals its start is empty: nothing to wait for.
      return new Map(offsets.filter((o) => BigInt(o.high) > BigInt(o.low)).map((o) => [o.partition, BigInt(o.high)]));
    } finally {
      await admin.disconnect();
    }
  }

  private advance(partition: number, next: bigint): void {
    if (next > (this.positions.get(partition) ?? 0n)) this.positions.set(partition, next);
    if (this.waiters.length === 0) return;
    const done = this.waiters.filter((w) => this.reached(w.targets));
    if (done.length === 0) return;
    this.waiters = this.waiters.filter((w) => !done.includes(w));
    for (const w of done) {
      clearTimeout(w.timer);
      w.resolve();
    }
  }

  private reached(targets: Map<number, bigint>): boolean {
    for (const [partition, end] of targets) if ((this.positions.get(partition) ?? 0n) < end) return false;
    return true;
  }

  private waitFor(targets: Map<number, bigint>, timeoutMs: number, what: string): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.stopped) return Promise.reject(new RegistryError('STORE_STOPPED', `follower of ${this.options.topic} stopped`));
    if (this.reached(targets)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        targets,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          const behind = [...targets].map(([p, end]) => `partition ${p}: at ${this.positions.get(p) ?? 0n} of ${end}`).join(', ');
          reject(new RegistryError('STORE_TIMEOUT', `could not ${what} of ${this.options.topic} within ${timeoutMs} ms (${behind})`));
        }, timeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  private checkingTopic = false;
  private topicGone = false;

  /** After a crash: was the topic deleted? Then a later topic of that name is a new log (see onTopicGone). */
  private async checkTopicGone(): Promise<void> {
    if (this.checkingTopic || this.topicGone || this.stopped) return;
    this.checkingTopic = true;
    const admin = this.options.kafka.admin();
    try {
      await admin.connect();
      if ((await admin.listTopics()).includes(this.options.topic)) return;
      this.topicGone = true;
      this.positions.clear();
      this.options.logger.error(
        { topic: this.options.topic, groupId: this.groupId },
        'followed topic was deleted: a topic recreated under this name is read from its beginning as a new log; the state read so far stays in effect until then',
      );
      this.options.onTopicGone?.();
    } catch {
      // The admin API is unreachable too: the next crash asks again.
    } finally {
      this.checkingTopic = false;
      await admin.disconnect().catch(() => undefined);
    }
  }

  private fail(error: Error): void {
    this.failure = new RegistryError(
      'STORE_STOPPED',
      `follower of ${this.options.topic} crashed for good: ${error.message}`,
      undefined,
      [],
      { cause: error },
    );
    this.options.logger.error(
      { topic: this.options.topic, groupId: this.groupId, err: error },
      'topic follower crashed and will not restart; the process should be restarted',
    );
    this.rejectAll(this.failure);
  }

  private rejectAll(error: Error): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) {
      clearTimeout(w.timer);
      w.reject(error);
    }
  }

  get failed(): Error | undefined {
    return this.failure;
  }

  /** Dead (crashed for good) or how long since it last fetched; the caller decides what is too long. */
  health(now = Date.now()): FollowerHealth {
    return { failed: this.failure, sinceLastFetchMs: Math.max(0, now - this.lastFetchAt), lastError: this.lastError };
  }
}
