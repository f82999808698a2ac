// The registry's Kafka settings on top of @app/kafka's createKafka (the one kafkajs factory): the
// client the mapping store and the registry app use, and creation of their topics, kept here so
// the rest of registry-core never touches kafkajs configuration.
import { Kafka, logLevel } from 'kafkajs';
import { createKafka, KafkaConnectionOptions } from '@app/kafka';
import type { Logger } from '@app/telemetry';

/** `security`: TLS / SASL (kafkaSecurityOptions of @app/config for an app config). */
export function registryKafkaClient(
  brokers: string[],
  clientId: string,
  logger: Logger,
  security: Pick<KafkaConnectionOptions, 'ssl' | 'sasl'> = {},
): Kafka {
  // kafkajs' log through the one bridge of @app/kafka: retried-and-harmless entries (coordinator
  // loading, not leader...) at debug; errors of other requests kafkajs retries ("Connection"
  // namespace, entries with retryCount: e.g. CONCURRENT_TRANSACTIONS right after a commit) are
  // warnings here. Failures that stop something reach the caller.
  // kafkajs' own timeouts and retry (as before the client came from createKafka, which also registers every compression codec).
  return createKafka({
    clientId,
    brokers,
    ...security,
    connectionTimeoutMs: 1_000,
    requestTimeoutMs: 30_000,
    retry: {},
    logLevel: logLevel.WARN,
    logger,
    logBridge: { retriedErrorsAsWarnings: true, namespaceField: 'kafkajs' },
  });
}

export interface TopicSpec {
  topic: string;
  numPartitions: number;
  configEntries?: { name: string; value: string }[];
}

/** Creates the topic when it does not exist. Returns true when this call created it. */
export async function ensureTopic(kafka: Kafka, spec: TopicSpec): Promise<boolean> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = await admin.listTopics();
    if (existing.includes(spec.topic)) return false;
    try {
      return await admin.createTopics({ topics: [{ ...spec }], waitForLeaders: true });
    } catch (error) {
      // Two instances starting at once: the loser sees TOPIC_ALREADY_EXISTS, which is fine.
      if ((error as { type?: string }).type === 'TOPIC_ALREADY_EXISTS' || /already exists/i.test(String(error))) return false;
      throw error;
    }
  } finally {
    await admin.disconnect();
  }
}

/** The mapping topic's settings: compacted (latest value per mapping id), one partition (one total order). */
export function mappingTopicSpec(topic: string): TopicSpec {
  return {
    topic,
    numPartitions: 1,
    configEntries: [
      { name: 'cleanup.policy', value: 'compact' },
      { name: 'min.compaction.lag.ms', value: '0' },
    ],
  };
}
