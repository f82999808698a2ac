// MAPPINGS_SOURCE=kafka (default): follow the registry's compacted topic, hot-reloading every
// change in order. MAPPINGS_SOURCE=file: a YAML file (local runs, air-gapped setups). Both
// expose the same resolver, so the pipeline is the same either way.
import type { Kafka } from 'kafkajs';
import type { Logger } from '@app/telemetry';
import { MappingStore, StaticMappingSource } from '@app/registry-core';
import { allowedHosts, InvalidatorConfig } from './config/invalidator.config';
import { MappingSource } from './mapping-source';

export function createMappingSource(config: InvalidatorConfig, kafka: Kafka, log: Logger): MappingSource {
  const limits = { defaultTombstoneTtlSeconds: config.TOMBSTONE_TTL_SECONDS, fanoutCap: config.FANOUT_CAP };
  // Loader and purge URLs to internal hosts: refused per mapping unless allow-listed (same values as the registry's).
  const hosts = allowedHosts(config);
  if (config.MAPPINGS_SOURCE === 'file') {
    return StaticMappingSource.fromYamlFile(config.MAPPINGS_FILE!, { limits, logger: log.child({ component: 'mappings' }), allowedHosts: hosts });
  }
  return new MappingStore({
    kafka,
    topic: config.KAFKA_MAPPINGS_TOPIC,
    clientId: `${config.KAFKA_CLIENT_ID}-mappings`,
    logger: log.child({ component: 'mappings' }),
    createTopic: false,
    limits,
    allowedHosts: hosts,
  });
}
