// Everything the monitor remembers about one partition between polls: the offset/time
// table for lag seconds, the status window, and when progress last happened. No I/O: it is
// fed readings and returns figures, so it is tested with a fake clock.
import type { PartitionLag, UncommittedPolicy } from './lag-types';
import { OffsetTimePoint, OffsetTimeTable } from './offset-time-table';
import { evaluatePartitionStatus, StatusRules, StatusSample } from './partition-status';

export interface PartitionReading {
  at: number;
  startOffset: number;
  endOffset: number;
  /** Null when the group has never committed this partition. */
  committedOffset: number | null;
  /** Group members, or null when the group could not be described. */
  members: number | null;
}

export interface TrackerOptions extends StatusRules {
  uncommittedPolicy: UncommittedPolicy;
  tableCapacity?: number;
}

type PartitionFigures = Omit<PartitionLag, 'owner'>;

export class PartitionTracker {
  private readonly table: OffsetTimeTable;
  private commits: StatusSample[] = [];
  private firstSeenAt: number | undefined;
  private lastMoveAt = 0;
  private lastCaughtUpAt: number | undefined;
  private last: PartitionFigures | undefined;

  constructor(
    readonly topic: string,
    readonly partition: number,
    private readonly options: TrackerOptions,
  ) {
    this.table = new OffsetTimeTable(options.tableCapacity);
  }

  get seen(): boolean {
    return this.firstSeenAt !== undefined;
  }

  /** History from record timestamps, for backlog older than the monitor itself. */
  seed(history: OffsetTimePoint[]): void {
    this.table.seed(history);
  }

  observe(reading: PartitionReading): PartitionFigures {
    const { at, endOffset, startOffset, committedOffset } = reading;
    this.table.record(endOffset, at);

    const measuredFromOffset = committedOffset ?? (this.options.uncommittedPolicy === 'earliest' ? startOffset : endOffset);
    const lag = Math.max(0, endOffset - measuredFromOffset);

    const previous = this.commits[this.commits.length - 1];
    if (this.firstSeenAt === undefined) this.firstSeenAt = at;
    if (previous === undefined || previous.committed !== measuredFromOffset) {
      this.lastMoveAt = at;
      this.commits.push({ at, committed: measuredFromOffset, lag });
      // Only the window ending at the last commit is ever looked at.
      this.commits = this.commits.filter((c) => c.at >= at - this.options.windowMs);
    }
    if (lag === 0) this.lastCaughtUpAt = at;

    let lagSeconds = 0;
    let lagSecondsMethod: PartitionLag['lagSecondsMethod'] = 'caught-up';
    if (lag > 0) {
      const appended = this.table.appendedAt(measuredFromOffset);
      if (appended) {
        lagSeconds = Math.max(0, (at - appended.at) / 1000);
        lagSecondsMethod = appended.method;
      }
    }

    const verdict = evaluatePartitionStatus(
      {
        now: at,
        lag,
        committed: measuredFromOffset,
        members: reading.members,
        firstSeenAt: this.firstSeenAt,
        stuckSince: Math.max(this.lastMoveAt, this.lastCaughtUpAt ?? this.firstSeenAt),
        commits: this.commits,
      },
      this.options,
    );

    this.last = {
      topic: this.topic,
      partition: this.partition,
      committedOffset,
      measuredFromOffset,
      startOffset,
      endOffset,
      lag,
      lagSeconds,
      lagSecondsMethod,
      status: verdict.status,
      statusReason: verdict.reason,
      readAt: at,
    };
    return this.last;
  }

  /** A round in which this partition could not be read: ERR, with the last figures known. */
  fail(at: number, error: string): PartitionFigures {
    const verdict = evaluatePartitionStatus(
      { now: at, readError: error, lag: 0, committed: 0, members: null, firstSeenAt: at, stuckSince: at, commits: [] },
      this.options,
    );
    const known = this.last;
    return {
      topic: this.topic,
      partition: this.partition,
      committedOffset: known?.committedOffset ?? null,
      measuredFromOffset: known?.measuredFromOffset ?? 0,
      startOffset: known?.startOffset ?? 0,
      endOffset: known?.endOffset ?? 0,
      lag: known?.lag ?? 0,
      lagSeconds: known?.lagSeconds ?? 0,
      lagSecondsMethod: known?.lagSecondsMethod ?? 'lower-bound',
      status: verdict.status,
      statusReason: verdict.reason,
      readAt: known?.readAt ?? at,
      error,
    };
  }
}
