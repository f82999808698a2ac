// What the lag monitor reports: one PartitionLag per watched partition, the group around
// them, and a snapshot tying both to the moment they were read. Shared by the JSON API, the
// Prometheus metrics and the dashboard, so all three always show the same figures.

/** Burrow-style partition status, from best to worst (see partition-status.ts for the rules). */
export const PARTITION_STATUSES = ['OK', 'WARN', 'STALL', 'STOP', 'ERR'] as const;
export type PartitionStatus = (typeof PARTITION_STATUSES)[number];

/**
 * How lagSeconds was obtained:
 * - `caught-up`: lag is 0, so lagSeconds is 0;
 * - `interpolated`: between two known (endOffset, time) points of the partition's table;
 * - `lower-bound`: the oldest unconsumed message is older than anything the table knows,
 *   so lagSeconds is "at least this much".
 */
export type LagSecondsMethod = 'caught-up' | 'interpolated' | 'lower-bound';

/** What a partition's lag is measured from when the group has never committed it. */
export type UncommittedPolicy = 'earliest' | 'latest';

export interface PartitionOwner {
  memberId: string;
  clientId: string;
  host: string;
}

export interface PartitionLag {
  topic: string;
  partition: number;
  /** The group's committed offset (the next offset it will read); null when it never committed. */
  committedOffset: number | null;
  /** The offset lag is measured from: committedOffset, or per UncommittedPolicy when null. */
  measuredFromOffset: number;
  /** Log start offset (oldest offset still on the broker). */
  startOffset: number;
  /** Log end offset (high watermark: the offset the next produced message will get). */
  endOffset: number;
  /** endOffset - measuredFromOffset, never negative. */
  lag: number;
  /** Age of the oldest unconsumed message, in seconds (0 when lag is 0). */
  lagSeconds: number;
  lagSecondsMethod: LagSecondsMethod;
  status: PartitionStatus;
  /** One sentence saying why the status is what it is. */
  statusReason: string;
  /** The group member the partition is assigned to, when the group is Stable. */
  owner: PartitionOwner | null;
  /** Epoch ms of the read these figures come from (older than the snapshot when status is ERR). */
  readAt: number;
  /** Set when status is ERR: what could not be read. */
  error?: string;
}

export interface GroupMember {
  memberId: string;
  clientId: string;
  host: string;
  assignments: { topic: string; partitions: number[] }[];
}

export interface GroupLag {
  groupId: string;
  /** Kafka's group state (Stable, Empty, PreparingRebalance, CompletingRebalance, Dead, Unknown). */
  state: string;
  /** Null when the group could not be described this round. */
  members: GroupMember[] | null;
  totalLag: number;
  maxLagSeconds: number;
  /** The worst partition status (ERR > STOP > STALL > WARN > OK). */
  status: PartitionStatus;
}

export interface LagSnapshot {
  /** Epoch ms at which this snapshot was taken. */
  at: number;
  group: GroupLag;
  partitions: PartitionLag[];
  /** Read problems of this round (a topic that does not exist, the broker unreachable, ...). */
  errors: string[];
}

export function worstStatus(statuses: Iterable<PartitionStatus>): PartitionStatus {
  let worst = 0;
  for (const s of statuses) worst = Math.max(worst, PARTITION_STATUSES.indexOf(s));
  return PARTITION_STATUSES[worst];
}
