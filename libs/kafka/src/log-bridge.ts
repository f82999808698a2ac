// The one bridge from kafkajs' log to pino, used by every client createKafka builds with a
// `logger`. kafkajs logs, at error or warn, failures of single requests that it then retries
// and that are normal while a broker, a group coordinator or a partition leader is starting or
// moving (every start of an app, every rebalance). An operator can do nothing about them, so
// they go to debug; if the retries run out, the failure reaches the caller, which logs it. What
// an operator must act on stays at warn/error.
import { LogEntry, logCreator, logLevel } from 'kafkajs';
import type { Logger } from 'pino';

/**
 * Messages of retriable protocol errors (kafkajs' protocol/error.js) that are transient by nature:
 * coordinator loading / moving, leader election, a partition not yet hosted, a rebalance.
 */
export const HARMLESS_KAFKAJS_ERRORS: readonly string[] = [
  "The coordinator is loading and hence can't process requests for this group", // GROUP_LOAD_IN_PROGRESS
  'The group coordinator is not available', // GROUP_COORDINATOR_NOT_AVAILABLE
  'This is not the correct coordinator for this group', // NOT_COORDINATOR_FOR_GROUP
  'This server does not host this topic-partition', // UNKNOWN_TOPIC_OR_PARTITION (a topic just created)
  'There is no leader for this topic-partition as we are in the middle of a leadership election', // LEADER_NOT_AVAILABLE
  'This server is not the leader for that topic-partition', // NOT_LEADER_FOR_PARTITION
  'The group is rebalancing, so a rejoin is needed', // REBALANCE_IN_PROGRESS
];

/**
 * Known warnings about a choice we made on purpose:
 * - the dead-letter producer (RecordProducer) is idempotent with bounded retries, so a DLQ outage
 *   surfaces as a failed send that the pipeline retries with backoff (never a send blocked
 *   forever); kafkajs warns at every start that this "may invalidate EoS". Duplicates of a dead
 *   letter are harmless (replay is idempotent), and the choice is documented in record-producer.ts.
 */
export const KNOWN_KAFKAJS_WARNINGS: readonly string[] = ['Limiting retries for the idempotent producer may invalidate EoS guarantees'];

/** True for a kafkajs log entry that is retried and harmless, or a known deliberate warning. */
export function isHarmlessKafkaLog(entry: Pick<LogEntry, 'level' | 'log'>): boolean {
  if (entry.level > logLevel.WARN) return false;
  const { message, error } = entry.log as { message?: unknown; error?: unknown };
  const texts = [message, error].filter((t): t is string => typeof t === 'string');
  return texts.some((t) => HARMLESS_KAFKAJS_ERRORS.some((h) => t.includes(h)) || KNOWN_KAFKAJS_WARNINGS.some((w) => t.includes(w)));
}

export interface KafkaLogBridgeOptions {
  /**
   * Errors of requests kafkajs retries (the "Connection" namespace, or entries with a retryCount)
   * logged as warnings (the registry's choice: failures that stop something reach the caller).
   * Default false: errors as errors.
   */
  retriedErrorsAsWarnings?: boolean;
  /** The field naming kafkajs' namespace (e.g. "Connection", "Consumer"). Default "namespace". */
  namespaceField?: string;
}

export function kafkaLogBridge(logger: Logger, options: KafkaLogBridgeOptions = {}): logCreator {
  const namespaceField = options.namespaceField ?? 'namespace';
  return () => (entry: LogEntry) => {
    const { message, timestamp: _timestamp, ...rest } = entry.log;
    const fields = { [namespaceField]: entry.namespace, ...rest };
    if (isHarmlessKafkaLog(entry)) return logger.debug(fields, message);
    const retried = entry.namespace === 'Connection' || 'retryCount' in rest;
    if (entry.level <= logLevel.ERROR) {
      if (options.retriedErrorsAsWarnings && retried) logger.warn(fields, message);
      else logger.error(fields, message);
    } else if (entry.level === logLevel.WARN) logger.warn(fields, message);
    else logger.debug(fields, message);
  };
}
