// One assigned partition's loop: fetch from its position, hand the batch to the handler, wait
// for it, then fetch again. So a partition never has two batches in the handler, its batches
// come in offset order, and one batch is at most one fetch (maxBytesPerPartition). Pure apart
// from the injected fetch and commit, so its contract is unit-tested without a broker.
//
// Position: the handler resolves (and commits) offsets as their effects land. The next fetch
// starts after the last resolved offset: a batch the handler gave up on (stopping, revoked,
// Redis never came back) is fetched again, as kafkajs does with unresolved offsets.
//
// Commits overlap the work after them: resolveAndCommit starts the commit and returns, so the
// handler's next chunk and the partition's next fetch do not wait for the broker's answer. A
// commit still only ever covers what was resolved (applied) before it; one commit is in flight at
// a time and the next one takes the latest resolved offset. A commit that fails makes the batch
// inactive and is retried before the next fetch; the loop ends only once its commit settled.
import type { BatchControl, BatchHandler, InboundBatch, InboundMessage } from '../consumer-api';
import type { Slots } from './slots';

export interface FetchedPartition {
  messages: InboundMessage[];
  /** Fetch position after everything fetched (control batches included). */
  nextOffset: bigint;
  highWatermark: bigint;
}

export interface PartitionWorkerDeps {
  topic: string;
  partition: number;
  /** Where consumption starts (the committed offset, or the reset policy's). Called again after OFFSET_OUT_OF_RANGE. */
  initialPosition(): Promise<bigint>;
  /** Long-polls one partition from `position` (returns no messages after the broker's max wait). */
  fetch(position: bigint): Promise<FetchedPartition>;
  /** Commits `nextOffset` (the offset after the last applied message) for this partition. */
  commit(nextOffset: bigint): Promise<void>;
  handler: BatchHandler;
  slots: Slots;
  /**
   * A fetch or start failure: resolves 'retry' (after its backoff), 'reset' (offset out of
   * range: start again from initialPosition) or 'stop' (the consumer gave up).
   */
  onFetchError(error: unknown, worker: PartitionWorker): Promise<'retry' | 'reset' | 'stop'>;
  /** The handler threw: resolves after a backoff; the batch is fetched again from the resolved position. */
  onHandlerError(error: unknown, worker: PartitionWorker): Promise<void>;
}

/** The offset Kafka wants committed after `offset` was applied: the next one to read. */
export function commitOffsetAfter(offset: string): bigint {
  return BigInt(offset) + 1n;
}

export class PartitionWorker {
  private position: bigint | undefined;
  /** Offset after the last message the handler resolved (what a commit covers). */
  private resolved: bigint | undefined;
  private committed: bigint | undefined;
  /** The commit under way (at most one); it commits the latest resolved offset until none is left. */
  private commitInFlight: Promise<void> | undefined;
  /** The last commit failed: retried (flush) before the next fetch. */
  private commitFailed = false;
  private revoked = false;
  private stopping = false;
  private paused = false;
  private wake: (() => void) | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly deps: PartitionWorkerDeps) {}

  get partition(): number {
    return this.deps.partition;
  }

  /** Starts the loop once; `done` resolves when it ended (revoked, stopped, or given up). */
  start(): Promise<void> {
    // Ends once its last commit settled: the partition's next worker reads the committed offset.
    this.running ??= this.loop().finally(() => this.commitInFlight?.catch(() => undefined));
    return this.running;
  }

  get done(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  /** The partition went to another member: the batch in the handler sees isActive() false, no further fetch. */
  revoke(): void {
    this.revoked = true;
    this.wakeUp();
  }

  /** The consumer is stopping: same as revoke for the handler; pending commits are flushed by the caller. */
  stop(): void {
    this.stopping = true;
    this.wakeUp();
  }

  get active(): boolean {
    return !this.revoked && !this.stopping;
  }

  /** Resolved but not committed (a commit failed): the offset to commit on the way out, if any. */
  get uncommitted(): bigint | undefined {
    return this.resolved !== undefined && (this.committed === undefined || this.resolved > this.committed) ? this.resolved : undefined;
  }

  /** Commits what was resolved and not yet committed (graceful stop, or a commit that failed earlier); waits for a commit under way. */
  async flush(): Promise<void> {
    if (this.revoked) return;
    await this.commitLatest();
  }

  /** Starts committing the latest resolved offset, or joins the commit under way (which takes it next). Rejects when a commit fails. */
  private commitLatest(): Promise<void> {
    if (this.commitInFlight) return this.commitInFlight;
    const run = async () => {
      try {
        for (;;) {
          const offset = this.uncommitted;
          if (offset === undefined || this.revoked) return;
          await this.deps.commit(offset);
          if (this.committed === undefined || offset > this.committed) this.committed = offset;
          this.commitFailed = false;
        }
      } catch (error) {
        this.commitFailed = true;
        throw error;
      }
    };
    const inFlight: Promise<void> = run().finally(() => {
      if (this.commitInFlight === inFlight) this.commitInFlight = undefined;
    });
    this.commitInFlight = inFlight;
    return inFlight;
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private async loop(): Promise<void> {
    while (this.active) {
      if (this.position === undefined) {
        try {
          this.position = await this.deps.initialPosition();
        } catch (error) {
          if (!this.active || (await this.deps.onFetchError(error, this)) === 'stop') return;
          continue;
        }
        continue;
      }
      if (this.paused) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        continue;
      }
      // A commit that failed while the group rebalanced, and the partition stayed ours: its batch
      // was applied, so commit it now, or the group's lag would stay until the next message.
      // (A commit still under way is not waited for: the next fetch overlaps it.)
      if (this.commitFailed && this.commitInFlight === undefined) {
        try {
          await this.flush();
        } catch (error) {
          if (!this.active || (await this.deps.onFetchError(error, this)) === 'stop') return;
          continue;
        }
      }
      let fetched: FetchedPartition;
      try {
        fetched = await this.deps.fetch(this.position);
      } catch (error) {
        if (!this.active) return;
        const next = await this.deps.onFetchError(error, this);
        if (next === 'stop') return;
        if (next === 'reset') this.position = undefined;
        continue;
      }
      if (!this.active) return;
      if (fetched.messages.length === 0) {
        if (fetched.nextOffset > this.position) this.position = fetched.nextOffset;
        continue;
      }
      await this.handle(fetched);
    }
  }

  private async handle(fetched: FetchedPartition): Promise<void> {
    const batch: InboundBatch = {
      topic: this.deps.topic,
      partition: this.deps.partition,
      highWatermark: fetched.highWatermark.toString(),
      messages: fetched.messages,
    };
    const last = commitOffsetAfter(fetched.messages[fetched.messages.length - 1].offset);
    const release = await this.deps.slots.acquire();
    let failure: { error: unknown } | undefined;
    try {
      if (this.active) await this.deps.handler(batch, this.control());
    } catch (error) {
      failure = { error };
    } finally {
      release();
    }
    // Everything resolved: continue after the whole fetch (skips trailing control batches).
    // Else from the first unresolved message, which is fetched again.
    if (this.resolved !== undefined && this.resolved >= last)
      this.position = fetched.nextOffset > this.resolved ? fetched.nextOffset : this.resolved;
    else if (this.resolved !== undefined && this.resolved > this.position!) this.position = this.resolved;
    if (failure && this.active) await this.deps.onHandlerError(failure.error, this);
  }

  private control(): BatchControl {
    let lost = false;
    return {
      resolveAndCommit: (offset) => {
        const next = commitOffsetAfter(offset);
        if (this.resolved === undefined || next > this.resolved) this.resolved = next;
        if (this.revoked)
          return Promise.reject(
            new Error(`partition ${this.deps.topic}[${this.deps.partition}] was revoked by a rebalance: not committing offset ${next}`),
          );
        // Not awaited: the handler's next chunk and the next fetch overlap the commit.
        this.commitLatest().catch(() => {
          // As with kafkajs: a failed commit usually means the group moved on; the batch is no
          // longer treated as ours (the loop retries the commit before its next fetch).
          lost = true;
        });
        return Promise.resolve();
      },
      // The group heartbeat runs on platformatic's own timer, independent of the handler.
      heartbeat: () =>
        this.revoked
          ? Promise.reject(new Error(`partition ${this.deps.topic}[${this.deps.partition}] was revoked by a rebalance`))
          : Promise.resolve(),
      isActive: () => !lost && this.active,
      // The loop fetches only between batches: pausing means "no fetch after this batch until resumed".
      pausePartition: () => {
        this.paused = true;
      },
      resumePartition: () => {
        this.paused = false;
        this.wakeUp();
      },
    };
  }
}
