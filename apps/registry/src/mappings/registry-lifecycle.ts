// Starts the store and the audit log in the background once Nest is up (so /health/live answers
// at once and /health/ready turns 200 only when both have read their topics to the end), seeds
// an empty registry from REGISTRY_SEED_FILE, and stops both on shutdown.
import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from '@app/telemetry';
import { loadMappingsYamlFile, MappingStore } from '@app/registry-core';
import { RegistryConfig } from '../config/registry.config';
import { Readiness } from '../health/readiness';
import { ADMIN_TEAM, Principal } from '../auth/team-tokens';
import { AuditLog } from './audit-log';
import { REGISTRY_LOGGER } from './tokens';

const SEED_PRINCIPAL: Principal = { team: ADMIN_TEAM, name: 'seed-file', tokenId: 'seed-file' };

@Injectable()
export class RegistryLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  private startup: Promise<void> = new Promise(() => undefined);
  private failure?: Error;
  private auditReady = false;

  constructor(
    private readonly store: MappingStore,
    private readonly audit: AuditLog,
    private readonly config: RegistryConfig,
    readiness: Readiness,
    @Inject(REGISTRY_LOGGER) private readonly logger: Logger,
  ) {
    readiness.register('mappings', () => ({
      ready: this.store.isReady() && this.auditReady,
      alive: this.failure === undefined,
      detail: this.failure
        ? this.failure.message
        : this.store.isReady()
          ? `${this.store.current().mappingCount} mappings from ${this.store.topic}`
          : `reading ${this.store.topic}`,
    }));
  }

  onApplicationBootstrap(): void {
    this.startup = this.start();
    this.startup.catch((error: Error) => {
      this.failure = error;
      this.logger.error(
        { err: error.message, topic: this.store.topic },
        'registry could not load its topics; /health/live reports 503 until the process is restarted',
      );
    });
  }

  /** Resolves when the registry is ready (tests, dev script); rejects when startup failed. */
  whenStarted(): Promise<void> {
    return this.startup;
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([this.store.stop(), this.audit.stop()]);
  }

  private async start(): Promise<void> {
    const create = this.config.REGISTRY_CREATE_TOPICS;
    await Promise.all([
      this.store.start(),
      this.audit.start(create, this.config.REGISTRY_START_TIMEOUT_MS).then(() => (this.auditReady = true)),
    ]);
    await this.seed();
  }

  private async seed(): Promise<void> {
    const file = this.config.REGISTRY_SEED_FILE;
    if (!file || this.store.list().length > 0) return;
    const mappings = loadMappingsYamlFile(file, this.store.limits);
    const result = await this.store.replaceAll(mappings, {
      actor: 'seed-file',
      sideRecords: (changes) => this.audit.recordsFor(changes, SEED_PRINCIPAL),
    });
    this.logger.info({ file, created: result.changes.length }, 'empty registry seeded from file');
  }
}
