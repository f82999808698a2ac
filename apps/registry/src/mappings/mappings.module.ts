// The mapping registry feature: store, audit, auth, API. Everything is built from the one
// RegistryConfig passed to forRoot (no env reads in here).
import { DynamicModule, Module } from '@nestjs/common';
import { kafkaSecurityOptions } from '@app/config';
import type { Logger } from '@app/telemetry';
import { MappingStore, registryKafkaClient } from '@app/registry-core';
import { BearerTokenGuard } from '../auth/bearer-token.guard';
import { TeamTokens } from '../auth/team-tokens';
import { RegistryConfig, registryAllowedHosts } from '../config/registry.config';
import { KeyspacesController } from '../keyspaces/keyspaces.controller';
import { KeyspacesService } from '../keyspaces/keyspaces.service';
import { SourcesController } from '../sources/sources.controller';
import { SourcesService } from '../sources/sources.service';
import { AuditLog } from './audit-log';
import { MappingsController } from './mappings.controller';
import { MappingsService } from './mappings.service';
import { RegistryLifecycle } from './registry-lifecycle';
import { REGISTRY_LOGGER } from './tokens';

@Module({})
export class MappingsModule {
  static forRoot(config: RegistryConfig, logger: Logger): DynamicModule {
    const kafka = registryKafkaClient(
      config.KAFKA_BROKERS.split(','),
      config.KAFKA_CLIENT_ID,
      logger.child({ component: 'kafkajs' }),
      kafkaSecurityOptions(config),
    );
    return {
      module: MappingsModule,
      controllers: [MappingsController, KeyspacesController, SourcesController],
      providers: [
        { provide: RegistryConfig, useValue: config },
        { provide: REGISTRY_LOGGER, useValue: logger },
        { provide: TeamTokens, useFactory: () => new TeamTokens(config.REGISTRY_TOKENS) },
        {
          provide: MappingStore,
          useFactory: () =>
            new MappingStore({
              kafka,
              topic: config.KAFKA_MAPPINGS_TOPIC,
              clientId: config.KAFKA_CLIENT_ID,
              limits: { fanoutCap: config.FANOUT_CAP, defaultTombstoneTtlSeconds: config.REGISTRY_DEFAULT_TOMBSTONE_TTL_SECONDS },
              logger: logger.child({ component: 'mapping-store' }),
              createTopic: config.REGISTRY_CREATE_TOPICS,
              startTimeoutMs: config.REGISTRY_START_TIMEOUT_MS,
              keyspacesRequired: config.KEYSPACES_REQUIRED,
              allowedHosts: registryAllowedHosts(config),
            }),
        },
        {
          provide: AuditLog,
          useFactory: () =>
            new AuditLog(
              kafka,
              config.KAFKA_AUDIT_TOPIC,
              logger.child({ component: 'audit' }),
              config.REGISTRY_AUDIT_MEMORY,
              config.KAFKA_CLIENT_ID,
            ),
        },
        BearerTokenGuard,
        MappingsService,
        KeyspacesService,
        SourcesService,
        RegistryLifecycle,
      ],
      exports: [MappingStore, RegistryLifecycle],
    };
  }
}
