// MAPPINGS_SOURCE=kafka (default): follow the registry's compacted topic, hot-reloading every
// change in order. MAPPINGS_SOURCE=file: a YAML file (local runs, air-gapped setups) with its
// mappings and, optionally, keyspaces. Both expose the same resolver and enforce keyspaces the
// same way, so the pipeline is the same either way. A wrong file stops startup (ConfigError
// naming MAPPINGS_FILE, the file and the field).
import type { Kafka } from 'kafkajs';
import type { Logger } from '@app/telemetry';
import { isRegistryError, MappingSource, MappingStore, StaticMappingSource } from '@app/registry-core';
import { allowedHosts, ConfigError, InvalidatorConfig } from './config/invalidator.config';

export function createMappingSource(config: InvalidatorConfig, kafka: Kafka, log: Logger): MappingSource {
  const limits = { defaultTombstoneTtlSeconds: config.TOMBSTONE_TTL_SECONDS, fanoutCap: config.FANOUT_CAP };
  // Loader and purge URLs to internal hosts: refused per mapping unless allow-listed (same values as the registry's).
  const hosts = allowedHosts(config);
  if (config.MAPPINGS_SOURCE === 'file') {
    try {
      return StaticMappingSource.fromYamlFile(config.MAPPINGS_FILE!, {
        limits,
        logger: log.child({ component: 'mappings' }),
        keyspacesRequired: config.KEYSPACES_REQUIRED,
        allowedHosts: hosts,
      });
    } catch (error) {
      if (!isRegistryError(error)) throw error;
      const file = config.MAPPINGS_FILE!;
      const message = error.message.startsWith(`${file}: `) ? error.message.slice(file.length + 2) : error.message;
      throw new ConfigError([`MAPPINGS_FILE ${file}: ${error.code}${error.field ? ` at ${error.field}` : ''}: ${message}`]);
    }
  }
  return new MappingStore({
    kafka,
    topic: config.KAFKA_MAPPINGS_TOPIC,
    clientId: `${config.KAFKA_CLIENT_ID}-mappings`,
    logger: log.child({ component: 'mappings' }),
    createTopic: false,
    limits,
    keyspacesRequired: config.KEYSPACES_REQUIRED,
    allowedHosts: hosts,
  });
}
