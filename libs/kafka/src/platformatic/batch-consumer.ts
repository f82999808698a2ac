// The BatchConsumer (consumer-api.ts) on @platformatic/kafka. Its MessagesStream is one stream of
// single messages for all partitions, with no per-partition pause and no batch boundary, so we
// use its lower-level parts instead: the consumer keeps the group membership (join, sync,
// heartbeats on its own timer, rejoin on rebalance) and each assigned partition gets a
// PartitionWorker (fetch → handler → fetch, own connection so a long poll never delays a
// heartbeat or another partition). Offsets are committed only through BatchControl.
//
// Commits are fenced by generation: a partition's offset is committed with the generation in
// which this member was given that partition, never by the consumer's own commit(). That one,
// when the group rebalances under it, rejoins and sends the same offsets again in the new
// generation, even for a partition that now belongs to another member; the broker accepts it
// (the classic protocol does not check ownership) and the group's offset moves back, which the
// consistency checker saw (an offset going back by hundreds under a broker freeze).
import type { Logger } from 'pino';
import type { Consumer, ConnectionPool, GroupAssignment } from '@platformatic/kafka';
import type { BatchConsumer, BatchConsumerOptions, BatchHandler, ConsumerLifecycleEvent, ConsumerLifecycleListener } from '../consumer-api';
import { platformaticBaseOptions, PlatformaticBaseOptions, PlatformaticConnectionOptions } from './connection';
import { crashPayload, hasFlag, hasProtocolError, isNonRetriable } from './errors';
import { platformaticKafka } from './load';
import { fetchedPartition } from './records';
import { FetchedPartition, PartitionWorker } from './partition-worker';
import { Slots } from './slots';

export interface PlatformaticBatchConsumerOptions extends BatchConsumerOptions {
  connection: PlatformaticConnectionOptions;
  logger?: Logger;
  /** Longest wait between two attempts of a failing fetch or join (doubles from 200 ms). */
  maxRetryDelayMs?: number;
}

/** platformatic's OffsetCommit API of the version the broker and the library both speak. */
interface OffsetCommitApi {
  async(
    connection: unknown,
    groupId: string,
    generationIdOrMemberEpoch: number,
    memberId: string,
    groupInstanceId: null,
    topics: {
      name: string;
      partitions: { partitionIndex: number; committedOffset: bigint; committedLeaderEpoch: number; committedMetadata: null }[];
    }[],
  ): Promise<unknown>;
}

export interface Membership {
  generation: number;
  memberId: string;
}

/**
 * Whether a partition assigned in both the previous and the next join stayed ours in between, so
 * its worker (position, batch in the handler) may go on: only when the next generation directly
 * follows the previous one for the same member. A gap means generations this member was not part
 * of (it was expelled: session timeout, a frozen broker's clock jumping, a member id lost), where
 * another member may have owned the partition and committed past our position; going on from our
 * position would then re-apply old events and commit the group's offset backwards. Such a
 * partition gets a new worker, which starts from the committed offset.
 */
export function keepsPartitionsAcross(previous: Membership | undefined, next: Membership): boolean {
  return (
    previous !== undefined && previous.memberId !== '' && previous.memberId === next.memberId && next.generation === previous.generation + 1
  );
}

const EARLIEST = -2n;
const LATEST = -1n;

/** Each shutdown step (partition loops, final commits, a join in progress, leaving the group) waits at most this long: together (8 s) well inside the default SHUTDOWN_TIMEOUT_MS of 15 s, which also covers the rest of the shutdown. */
const STOP_STEP_MS = 2_000;

export class PlatformaticBatchConsumer implements BatchConsumer {
  readonly client = 'platformatic' as const;
  private consumer?: Consumer;
  private readonly base: PlatformaticBaseOptions;
  private readonly listeners: ConsumerLifecycleListener[] = [];
  private readonly workers = new Map<number, PartitionWorker>();
  /** Every worker loop not yet finished (also revoked ones whose batch is still in the handler). */
  private readonly running = new Set<Promise<void>>();
  private readonly pools = new Map<PartitionWorker, ConnectionPool>();
  /** The generation in which each live worker's partition was (last) given to this member: its commits carry it. */
  private readonly generations = new Map<PartitionWorker, number>();
  private commitPool?: ConnectionPool;
  /** The generation and member id of the last join this consumer saw. */
  private membership?: Membership;
  /** The latest loop of each partition (revoked or not): a new worker of that partition starts after it. */
  private readonly lastLoop = new Map<number, Promise<void>>();
  private slots: Slots;
  private handler?: BatchHandler;
  private joined = false;
  private stopping = false;
  private gaveUp = false;
  private joining?: Promise<void>;
  private closed?: Promise<void>;

  constructor(private readonly options: PlatformaticBatchConsumerOptions) {
    this.base = platformaticBaseOptions(options.connection);
    this.slots = new Slots(options.partitionsConsumedConcurrently ?? 3);
  }

  get hasJoinedGroup(): boolean {
    return this.joined;
  }

  on(listener: ConsumerLifecycleListener): void {
    this.listeners.push(listener);
  }

  private emit(event: ConsumerLifecycleEvent, detail?: unknown): void {
    for (const l of this.listeners) l(event, detail);
  }

  private get log(): Logger | undefined {
    return this.options.logger;
  }

  start(handler: BatchHandler): Promise<void> {
    // A throw while creating the consumer rejects the promise, as the interface promises.
    return new Promise((resolve) => {
      this.open(handler);
      resolve();
    });
  }

  private open(handler: BatchHandler): void {
    const { Consumer } = platformaticKafka();
    this.handler = handler;
    const sessionTimeout = this.options.sessionTimeoutMs ?? 30_000;
    const consumer = new Consumer({
      ...this.base,
      groupId: this.options.groupId,
      autocommit: false,
      sessionTimeout,
      rebalanceTimeout: sessionTimeout,
      heartbeatInterval: this.options.heartbeatIntervalMs ?? 3_000,
      maxWaitTime: this.options.maxWaitTimeMs ?? 100,
      maxBytes: this.options.maxBytes ?? 10_485_760,
      // Its retries (with this delay) run inside one operation; ours (the worker's backoff) around it.
      retries: 3,
      retryDelay: 200,
    });
    this.consumer = consumer;
    consumer.on('consumer:group:join', (payload: { generationId?: number; assignments?: GroupAssignment[] }) => this.onJoin(payload));
    consumer.on('consumer:group:rebalance', (payload: unknown) => this.emit('rebalancing', payload));
    consumer.on('consumer:heartbeat:error', (payload: { error?: Error }) =>
      this.log?.debug({ err: payload.error?.message }, 'heartbeat failed (retried on the next interval)'),
    );
    // A rejoin after a heartbeat said so (rebalance, session expired) failed for good: the membership is gone.
    consumer.on('error', (error: unknown) => this.onGroupError(error));
    consumer.topics.track(this.options.topic);
    // Like kafkajs' run(): start returns once the consumer exists; joining goes on in the
    // background and a join that can never succeed surfaces as a 'crash' event.
    this.joining = this.join();
  }

  /** Joins (again) until it works, or until the error says retrying cannot help. */
  private async join(): Promise<void> {
    for (let attempt = 0; !this.stopping && !this.gaveUp; attempt += 1) {
      try {
        await this.consumer!.joinGroup({});
        return;
      } catch (error) {
        if (this.stopping) return;
        if (isNonRetriable(error)) return this.giveUp(error);
        this.joined = false;
        this.emit('crash', crashPayload(error, this.options.groupId, true, { topic: this.options.topic }));
        await this.sleep(this.retryDelay(attempt));
      }
    }
  }

  private onGroupError(error: unknown): void {
    if (this.stopping || this.gaveUp) return;
    this.joined = false;
    if (isNonRetriable(error)) return this.giveUp(error);
    this.emit('crash', crashPayload(error, this.options.groupId, true, { topic: this.options.topic }));
    // Every partition may be someone else's by now: stop handing out batches until the next join.
    for (const worker of this.workers.values()) worker.revoke();
    this.workers.clear();
    this.generations.clear();
    this.membership = undefined;
    this.joining = this.join();
  }

  /** A new generation: keep the partitions still ours, revoke the others, start the new ones. */
  private onJoin(payload: { generationId?: number; assignments?: GroupAssignment[] }): void {
    // While stopping the library still rejoins until close(): record the new generation for the
    // partitions kept (so the final commit is accepted) and revoke the lost ones; start nothing new.
    if (this.gaveUp) return;
    this.joined = true;
    const mine = new Set(payload.assignments?.find((a) => a.topic === this.options.topic)?.partitions ?? []);
    const generation = payload.generationId ?? this.consumer!.generationId;
    const membership = { generation, memberId: this.consumer!.memberId ?? '' };
    const continuous = keepsPartitionsAcross(this.membership, membership);
    this.membership = membership;
    for (const [partition, worker] of this.workers) {
      if (mine.has(partition) && continuous) {
        // Still ours in the new generation: from now on its commits are this generation's.
        this.generations.set(worker, generation);
        continue;
      }
      // Not ours any more, or maybe not ours for a while: the batch in the handler is abandoned uncommitted.
      worker.revoke();
      this.workers.delete(partition);
      this.generations.delete(worker);
    }
    if (this.stopping) return;
    for (const partition of mine) {
      if (this.workers.has(partition)) continue;
      const worker = this.newWorker(partition);
      this.workers.set(partition, worker);
      this.generations.set(worker, generation);
      // A revoked worker of this partition may still be in the handler: start after it ended (offset order).
      const loop = (this.lastLoop.get(partition) ?? Promise.resolve()).then(() => worker.start()).finally(() => this.closePool(worker));
      this.lastLoop.set(
        partition,
        loop.catch(() => undefined),
      );
      this.track(loop);
    }
    this.emit('group-join', {
      groupId: this.options.groupId,
      generationId: payload.generationId,
      memberAssignment: { [this.options.topic]: [...mine].sort((a, b) => a - b) },
    });
  }

  private track(loop: Promise<void>): void {
    const tracked = loop
      .catch((error) => this.log?.error({ err: (error as Error).message }, 'partition loop failed'))
      .finally(() => this.running.delete(tracked));
    this.running.add(tracked);
  }

  private newWorker(partition: number): PartitionWorker {
    const { ConnectionPool } = platformaticKafka();
    const { topic } = this.options;
    const consumer = this.consumer!;
    let pool: ConnectionPool | undefined;
    let failures = 0;
    /** The last high watermark the broker reported (a fetch session's response may leave the partition out). */
    let highWatermark: bigint | undefined;
    const worker: PartitionWorker = new PartitionWorker({
      topic,
      partition,
      handler: this.handler!,
      slots: this.slots,
      initialPosition: () => this.initialPosition(partition),
      fetch: async (position) => {
        pool ??= new ConnectionPool(this.base.clientId, { ...this.base });
        this.pools.set(worker, pool);
        const fetched = await this.fetchPartition(partition, position, pool, highWatermark);
        highWatermark = fetched.highWatermark;
        failures = 0;
        return fetched;
      },
      commit: (offset) => this.fencedCommit(worker, partition, offset),
      onFetchError: async (error) => {
        if (this.stopping || this.gaveUp) return 'stop';
        if (hasProtocolError(error, 'OFFSET_OUT_OF_RANGE')) {
          this.log?.warn(
            { topic, partition },
            `fetch offset out of range: starting again from the ${(this.options.fromBeginning ?? true) ? 'earliest' : 'latest'} offset`,
          );
          return 'reset';
        }
        if (isNonRetriable(error)) {
          this.giveUp(error, { topic, partition });
          return 'stop';
        }
        if (hasFlag(error, 'hasStaleMetadata')) consumer.clearMetadata();
        failures += 1;
        // The first failures are the normal kind (a leader moving, a broker restarting).
        const level = failures >= 5 ? 'warn' : 'debug';
        this.log?.[level]({ topic, partition, failures, err: (error as Error).message }, 'fetch failed; retrying');
        await this.sleep(this.retryDelay(failures));
        return 'retry';
      },
      onHandlerError: async (error) => {
        if (hasFlag(error, 'needsRejoin')) {
          // A commit refused because the group is rebalancing: ordinary, not a crash. What was
          // applied is committed once the next generation confirms the partition is still ours.
          this.log?.info(
            { topic, partition, err: (error as Error).message },
            'commit refused during a rebalance; retried once the partition is confirmed ours',
          );
          await this.sleep(this.retryDelay(1));
          return;
        }
        // As kafkajs: a batch handler that throws restarts consumption of the partition from the last resolved offset.
        this.log?.error({ topic, partition, err: (error as Error).message }, 'batch handler failed; the batch is fetched again');
        this.emit('crash', crashPayload(error, this.options.groupId, true, { topic, partition }));
        await this.sleep(this.retryDelay(3));
      },
    });
    return worker;
  }

  private closePool(worker: PartitionWorker): void {
    const pool = this.pools.get(worker);
    this.pools.delete(worker);
    pool?.close(() => undefined);
  }

  /** The group's committed offset, else the earliest (fromBeginning) or latest. */
  private async initialPosition(partition: number): Promise<bigint> {
    const { topic } = this.options;
    const consumer = this.consumer!;
    const committed = (await consumer.listCommittedOffsets({ topics: [{ topic, partitions: [partition] }] })).get(topic)?.[partition];
    if (committed !== undefined && committed >= 0n) return committed;
    const timestamp = (this.options.fromBeginning ?? true) ? EARLIEST : LATEST;
    const ends = await consumer.listOffsets({ topics: [topic], partitions: { [topic]: [partition] }, timestamp });
    const offset = ends.get(topic)?.[partition];
    if (offset === undefined) throw new Error(`no ${timestamp === EARLIEST ? 'earliest' : 'latest'} offset for ${topic}[${partition}]`);
    return offset;
  }

  private async fetchPartition(
    partition: number,
    position: bigint,
    pool: ConnectionPool,
    knownHighWatermark: bigint | undefined,
  ): Promise<FetchedPartition> {
    const { topic } = this.options;
    const consumer = this.consumer!;
    const metadata = await consumer.metadata({ topics: [topic] });
    const topicMetadata = metadata.topics.get(topic);
    const leader = topicMetadata?.partitions[partition]?.leader;
    if (!topicMetadata || leader === undefined || leader < 0) {
      consumer.clearMetadata();
      throw new Error(`no leader known for ${topic}[${partition}]`);
    }
    const response = await consumer.fetch({
      node: leader,
      connectionPool: pool,
      maxWaitTime: this.options.maxWaitTimeMs ?? 100,
      maxBytes: this.options.maxBytes ?? 10_485_760,
      topics: [
        {
          topicId: topicMetadata.id,
          partitions: [
            {
              partition,
              fetchOffset: position,
              partitionMaxBytes: this.options.maxBytesPerPartition ?? 1_048_576,
              currentLeaderEpoch: -1,
              lastFetchedEpoch: -1,
            },
          ],
        },
      ],
    });
    // Left out when nothing changed since the last fetch of this session (see fetchedPartition).
    const part = response.responses.flatMap((r) => r.partitions).find((p) => p.partitionIndex === partition);
    return fetchedPartition(topic, partition, position, part, knownHighWatermark);
  }

  /**
   * One OffsetCommit for `partition`, sent to the group coordinator with the generation in which
   * this member owns the partition, and not retried here: if the group moved on, the broker
   * answers ILLEGAL_GENERATION or REBALANCE_IN_PROGRESS and the worker commits again once a new
   * generation confirms the partition is still ours (or never, if it is not).
   */
  private async fencedCommit(worker: PartitionWorker, partition: number, offset: bigint): Promise<void> {
    const consumer = this.consumer!;
    if (this.closed) throw new Error(`consumer closed: not committing offset ${offset} of ${this.options.topic}[${partition}]`);
    const generation = this.generations.get(worker);
    const coordinator = consumer.coordinatorId;
    if (generation === undefined)
      throw new Error(
        `partition ${this.options.topic}[${partition}] is no longer assigned to this member: not committing offset ${offset}`,
      );
    if (coordinator === null || coordinator === undefined || !consumer.memberId)
      throw new Error(`no group coordinator or membership known: not committing offset ${offset} of ${this.options.topic}[${partition}]`);
    const metadata = await consumer.metadata({ topics: [this.options.topic] });
    const broker = metadata.brokers.get(coordinator);
    if (!broker) {
      consumer.clearMetadata();
      throw new Error(`group coordinator ${coordinator} not in the cluster metadata: not committing offset ${offset}`);
    }
    const { kGetApi } = platformaticKafka();
    const api = await new Promise<OffsetCommitApi>((resolve, reject) =>
      (consumer as unknown as Record<symbol, (name: string, cb: (e: Error | null, api: OffsetCommitApi) => void) => void>)[kGetApi](
        'OffsetCommit',
        (error, found) => (error ? reject(error) : resolve(found)),
      ),
    );
    // One pool for all commits (a worker's own pool is closed when its loop ends, before the final commit).
    const { ConnectionPool } = platformaticKafka();
    this.commitPool ??= new ConnectionPool(this.base.clientId, { ...this.base });
    const connection = await this.commitPool.get(broker);
    await api.async(connection, this.options.groupId, generation, consumer.memberId, null, [
      {
        name: this.options.topic,
        partitions: [{ partitionIndex: partition, committedOffset: offset, committedLeaderEpoch: -1, committedMetadata: null }],
      },
    ]);
  }

  /** The consumer cannot go on (non-retriable error): one final 'crash', release everything. */
  private giveUp(error: unknown, where: { topic?: string; partition?: number } = {}): void {
    if (this.gaveUp || this.stopping) return;
    this.gaveUp = true;
    this.joined = false;
    for (const worker of this.workers.values()) worker.revoke();
    this.workers.clear();
    this.generations.clear();
    this.membership = undefined;
    this.emit('crash', crashPayload(error, this.options.groupId, false, { topic: this.options.topic, ...where }));
    void this.close();
  }

  async stop(): Promise<void> {
    if (!this.consumer) return;
    if (!this.stopping) {
      this.stopping = true;
      const workers = [...this.workers.values()];
      for (const worker of workers) worker.stop();
      // In-flight batches finish or abandon (isActive() is false now); then what they resolved is committed.
      // Bounded too: a loop can sit in a fetch that the rebalance holds up (seen in CI: SIGTERM during a
      // rebalance ran into SHUTDOWN_TIMEOUT_MS); closing the connections below ends it, and a batch not
      // committed by then is redelivered to the next owner.
      await this.within(Promise.allSettled([...this.running]), STOP_STEP_MS, 'partition loops');
      // Bounded: a commit sent while the group rebalances can wait for the rejoin; past the bound the next owner reprocesses (idempotent effects).
      const flushed = await Promise.allSettled(workers.map((w) => this.within(w.flush(), STOP_STEP_MS, 'final commit')));
      for (const result of flushed)
        if (result.status === 'rejected')
          this.log?.warn(
            { err: (result.reason as Error).message },
            'final commit failed (the next owner reprocesses from the last commit; effects are idempotent)',
          );
      this.workers.clear();
    }
    await this.close();
    this.joined = false;
    this.emit('stop');
  }

  /** Leaves the group (a member that leaves is not waited for by the next rebalance) and closes every connection. */
  private close(): Promise<void> {
    this.closed ??= (async () => {
      // A join in progress (a rebalance) may wait for every member; shutdown must not (SHUTDOWN_TIMEOUT_MS).
      await this.within(this.joining?.catch(() => undefined) ?? Promise.resolve(), STOP_STEP_MS, 'join in progress');
      await Promise.allSettled([...this.pools.values(), ...(this.commitPool ? [this.commitPool] : [])].map((pool) => pool.close()));
      const left = this.consumer
        ?.close(true)
        .catch((error: Error) =>
          this.log?.warn({ err: error.message }, 'leaving the group failed (the session timeout removes the member)'),
        );
      if (left) await this.within(left, STOP_STEP_MS, 'leaving the group');
    })();
    return this.closed;
  }

  /** Waits for `work` at most `ms`; past that, logs and goes on (shutdown steps only). */
  private async within(work: Promise<unknown>, ms: number, what: string): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)));
    try {
      if ((await Promise.race([work.then(() => 'done' as const), timedOut])) === 'timeout') {
        this.log?.warn(
          { waitedMs: ms },
          `${what} did not finish during shutdown: going on (the group's session timeout and the next owner take over)`,
        );
      }
    } finally {
      clearTimeout(timer);
    }
  }

  private retryDelay(attempt: number): number {
    return Math.min(this.options.maxRetryDelayMs ?? 5_000, 200 * 2 ** Math.min(attempt, 10));
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms).unref());
  }
}
