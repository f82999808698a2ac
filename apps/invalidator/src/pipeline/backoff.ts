// Capped exponential backoff with full jitter (AWS architecture blog's "full jitter").
import { setTimeout as sleep } from 'node:timers/promises';

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
}

export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(attempt, 20));
  return Math.max(1, Math.floor(random() * ceiling));
}

/** What a retry loop needs of the batch it works on (BatchControl's part). */
export interface RetriedBatch {
  isActive(): boolean;
  pausePartition(): void;
  resumePartition(): void;
  heartbeat(): Promise<void>;
}

/**
 * One retry loop's state for a step that must not commit past a failure (apply to Redis, dead
 * letters to the DLQ topic): on the first failure the partition is paused (no new fetches while
 * we wait), each retry waits a capped, jittered backoff and heartbeats (the group keeps us), and
 * the loop gives up as soon as the batch is no longer ours. `release()` resumes the partition.
 */
export class PausedRetry {
  private attempt = 0;
  private paused = false;

  constructor(
    private readonly batch: RetriedBatch,
    private readonly policy: BackoffPolicy,
  ) {}

  /** Failed attempts since the last success (0 on the first try). */
  get failures(): number {
    return this.attempt;
  }

  /** An attempt succeeded: the next failure starts the backoff from the beginning. */
  succeeded(): void {
    this.attempt = 0;
  }

  /**
   * After a failed attempt: false when the batch is no longer ours (give up, uncommitted);
   * otherwise pauses the partition, calls `report(attempt, delayMs)` (1-based), waits and heartbeats.
   */
  async backOff(report: (attempt: number, delayMs: number) => void): Promise<boolean> {
    if (!this.batch.isActive()) return false;
    if (!this.paused) {
      this.batch.pausePartition();
      this.paused = true;
    }
    const delay = backoffDelay(this.attempt, this.policy);
    report(this.attempt + 1, delay);
    this.attempt += 1;
    await sleep(delay);
    await this.batch.heartbeat().catch(() => undefined);
    return true;
  }

  release(): void {
    if (this.paused) this.batch.resumePartition();
    this.paused = false;
  }
}
