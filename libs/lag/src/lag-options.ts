// Options of the lag monitor, their defaults, and the one check that runs at start.
import { LagConfigError } from './lag-errors';
import type { UncommittedPolicy } from './lag-types';

export interface KafkaSecurityOptions {
  ssl?: boolean;
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
}

export interface LagMonitorOptions {
  /** Bootstrap brokers, host:port. */
  brokers: string[];
  /** The consumer group to watch (the invalidator's KAFKA_GROUP_ID). */
  groupId: string;
  /** Topics whose partitions are watched. */
  topics: string[];
  /** Time between two reads. Default 2000 ms. */
  intervalMs?: number;
  /** Sliding window of the WARN/STALL rules. Default 60 000 ms (30 reads at the default interval). */
  windowMs?: number;
  /** No progress with lag > 0 for this long is STOP. Default 300 000 ms. */
  stopAfterMs?: number;
  /** How much lag history /lag and the dashboard chart keep. Default 600 000 ms (10 min). */
  historyMs?: number;
  /** Where lag is measured from on a partition the group never committed. Default 'earliest'. */
  uncommittedPolicy?: UncommittedPolicy;
  /**
   * Ages (ms before the first read) at which the broker is asked for offsets-by-timestamp
   * when a partition is first seen, so lag seconds is right for backlog older than the
   * monitor. [] turns it off. Default: 1 s ... 7 days on a roughly doubling ladder.
   */
  seedAgesMs?: number[];
  /** kafkajs client id. Default 'lag-monitor'. */
  clientId?: string;
  /** TLS / SASL, as for the invalidator. */
  kafka?: KafkaSecurityOptions;
}

export type ResolvedLagMonitorOptions = Required<Omit<LagMonitorOptions, 'kafka'>> & { kafka: KafkaSecurityOptions };

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
export const DEFAULT_SEED_AGES_MS = [
  1 * SECOND,
  2 * SECOND,
  5 * SECOND,
  10 * SECOND,
  20 * SECOND,
  30 * SECOND,
  1 * MINUTE,
  2 * MINUTE,
  5 * MINUTE,
  10 * MINUTE,
  20 * MINUTE,
  30 * MINUTE,
  1 * HOUR,
  2 * HOUR,
  6 * HOUR,
  12 * HOUR,
  24 * HOUR,
  48 * HOUR,
  168 * HOUR,
];

export function resolveLagMonitorOptions(options: LagMonitorOptions): ResolvedLagMonitorOptions {
  const resolved: ResolvedLagMonitorOptions = {
    brokers: options.brokers,
    groupId: options.groupId,
    topics: options.topics,
    intervalMs: options.intervalMs ?? 2_000,
    windowMs: options.windowMs ?? 60_000,
    stopAfterMs: options.stopAfterMs ?? 300_000,
    historyMs: options.historyMs ?? 600_000,
    uncommittedPolicy: options.uncommittedPolicy ?? 'earliest',
    seedAgesMs: options.seedAgesMs ?? DEFAULT_SEED_AGES_MS,
    clientId: options.clientId ?? 'lag-monitor',
    kafka: options.kafka ?? {},
  };
  const problems: string[] = [];
  if (!Array.isArray(resolved.brokers) || resolved.brokers.length === 0 || resolved.brokers.some((b) => !/^[^\s:]+:\d{1,5}$/.test(b))) {
    problems.push(`brokers must be a non-empty list of host:port (got ${JSON.stringify(resolved.brokers)})`);
  }
  if (typeof resolved.groupId !== 'string' || resolved.groupId.trim() === '') problems.push('groupId must be a non-empty string');
  if (
    !Array.isArray(resolved.topics) ||
    resolved.topics.length === 0 ||
    resolved.topics.some((t) => typeof t !== 'string' || t.trim() === '')
  ) {
    problems.push(`topics must be a non-empty list of topic names (got ${JSON.stringify(resolved.topics)})`);
  }
  if (!(resolved.intervalMs >= 50)) problems.push(`intervalMs must be >= 50 (got ${resolved.intervalMs})`);
  if (!(resolved.windowMs >= 2 * resolved.intervalMs))
    problems.push(`windowMs must be at least two intervals (${2 * resolved.intervalMs} ms; got ${resolved.windowMs})`);
  if (!(resolved.stopAfterMs >= resolved.windowMs)) problems.push(`stopAfterMs must be >= windowMs (got ${resolved.stopAfterMs})`);
  if (!(resolved.historyMs >= resolved.intervalMs)) problems.push(`historyMs must be >= intervalMs (got ${resolved.historyMs})`);
  if (resolved.uncommittedPolicy !== 'earliest' && resolved.uncommittedPolicy !== 'latest') {
    problems.push(`uncommittedPolicy must be 'earliest' or 'latest' (got ${JSON.stringify(resolved.uncommittedPolicy)})`);
  }
  if (!Array.isArray(resolved.seedAgesMs) || resolved.seedAgesMs.some((a) => !(a > 0)))
    problems.push('seedAgesMs must be a list of positive numbers');
  if (problems.length > 0) throw new LagConfigError(problems);
  return resolved;
}
