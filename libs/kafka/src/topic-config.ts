// Topic settings the service adapts to at start (read through the admin API).
import { ConfigResourceTypes, Kafka } from 'kafkajs';

/**
 * The topic's effective `max.message.bytes` (its own setting, else the broker's default), or
 * undefined when it cannot be read (no DescribeConfigs permission, old broker): the caller falls
 * back to a configured value.
 */
export async function topicMaxMessageBytes(kafka: Kafka, topic: string): Promise<number | undefined> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const result = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['max.message.bytes'] }],
    });
    const entry = result.resources[0]?.configEntries.find((c) => c.configName === 'max.message.bytes');
    const value = Number(entry?.configValue);
    return Number.isInteger(value) && value > 0 ? value : undefined;
  } finally {
    await admin.disconnect();
  }
}
