// Composition root: builds every collaborator from the config, owns their start/stop order.
// Nest only sees the finished objects (AppModule.forRoot), so the wiring reads in one place.
import type Redis from 'ioredis';
import type { Cluster } from 'ioredis';
import { CacheProtocol } from '@app/cache-protocol';
import type { Kafka } from 'kafkajs';
import {
  BatchConsumer,
  createKafka,
  KafkaBatchConsumer,
  PlatformaticBatchConsumer,
  platformaticNodeProblem,
  PlatformaticRecordProducer,
  RecordProducer,
  RecordSender,
  topicMaxMessageBytes,
} from '@app/kafka';
import { createLogger, Logger, metricsRegistry } from '@app/telemetry';
import { kafkaSecurityOptions } from '@app/config';
import { cdcSource, cdcSourceMode, ConfigError, InvalidatorConfig } from './config/invalidator.config';
import { ConsumerCrash, describeConsumerCrash, isFinalCrash } from './consumer-crash';
import { createMappingSource } from './mapping-source.factory';
import type { MappingSource } from '@app/registry-core';
import { MappingsFollowerWatch } from './mappings-follower-watch';
import { InvalidatorMetrics } from './metrics/invalidator-metrics';
import { RecentEvents } from './pipeline/dedupe';
import { InvalidationPipeline } from './pipeline/invalidation.pipeline';
import { invalidatorPlanApplier } from './pipeline/plan-applier';
import { BusPublisher, busSigner } from '@app/cache-protocol/bus';
import { randomBytes } from 'node:crypto';
import { otherSinksFromConfig, OtherSinksSetup } from './sinks/sinks-from-env';
import { createRedis, isRedisReady } from './redis-connection';

export class InvalidatorRuntime {
  readonly log: Logger;
  readonly redis: Redis | Cluster;
  /** KAFKA_CLIENT picks the library of the consumer and the dead-letter producer. */
  readonly consumer: BatchConsumer;
  readonly deadLetterProducer: RecordSender;
  readonly mappings: MappingSource;
  /** Is the mapping follower still reading? Gates consumption, readiness and liveness. */
  readonly mappingsWatch: MappingsFollowerWatch;
  readonly metrics: InvalidatorMetrics;
  readonly pipeline: InvalidationPipeline;
  readonly protocol: CacheProtocol;
  /** The invalidation bus (BUS_ENABLED): applied changes announced to cache clients' L1. */
  readonly bus?: BusPublisher;
  private readonly kafka: Kafka;
  /** Set when the consumer gave up for good (crash with restart=false): /health/live and /health/ready answer 503. */
  crash?: ConsumerCrash;
  /** Resolves on such a crash (also one that happened during start); main.ts exits on it when EXIT_ON_CONSUMER_CRASH. */
  readonly consumerGaveUp: Promise<ConsumerCrash>;
  private gaveUp!: (crash: ConsumerCrash) => void;
  /** The DLQ topic's max.message.bytes (read at start; DLQ_MAX_MESSAGE_BYTES until then or if it cannot be read). */
  private dlqMaxMessageBytes: number;

  constructor(readonly config: InvalidatorConfig) {
    // Before anything is opened: on an older Node the library would only fail at the first fetch.
    const nodeProblem = config.KAFKA_CLIENT === 'platformatic' ? platformaticNodeProblem() : undefined;
    if (nodeProblem) throw new ConfigError([nodeProblem]);
    this.log = createLogger('invalidator', config.LOG_LEVEL);
    this.consumerGaveUp = new Promise((resolve) => (this.gaveUp = resolve));
    const connection = {
      brokers: config.KAFKA_BROKERS.split(','),
      clientId: config.KAFKA_CLIENT_ID,
      requestTimeoutMs: config.KAFKA_REQUEST_TIMEOUT_MS,
      ...kafkaSecurityOptions(config),
    };
    // kafkajs always: the admin calls (topic checks, max.message.bytes) and the mapping follower.
    const kafka = createKafka({ ...connection, logger: this.log.child({ component: 'kafkajs' }) });
    this.kafka = kafka;
    this.redis = createRedis(config);
    this.redis.on('error', (error: Error) => this.log.debug({ err: error.message }, 'redis connection error'));
    const consumerOptions = {
      groupId: config.KAFKA_GROUP_ID,
      topic: config.KAFKA_TOPIC,
      fromBeginning: true,
      sessionTimeoutMs: config.SESSION_TIMEOUT_MS,
      maxBytesPerPartition: config.MAX_BYTES_PER_PARTITION,
      maxBytes: config.FETCH_MAX_BYTES,
      partitionsConsumedConcurrently: config.PARTITIONS_CONSUMED_CONCURRENTLY,
    };
    // One send attempt stays well inside the session timeout: the pipeline heartbeats between attempts.
    const senderOptions = { retries: 2, sendTimeoutMs: Math.min(10_000, Math.floor(config.SESSION_TIMEOUT_MS / 3)) };
    if (config.KAFKA_CLIENT === 'platformatic') {
      this.consumer = new PlatformaticBatchConsumer({
        ...consumerOptions,
        connection,
        logger: this.log.child({ component: 'platformatic-kafka' }),
      });
      this.deadLetterProducer = new PlatformaticRecordProducer(connection, senderOptions);
    } else {
      this.consumer = new KafkaBatchConsumer(kafka, consumerOptions);
      this.deadLetterProducer = new RecordProducer(kafka, senderOptions);
    }
    this.log.info({ client: config.KAFKA_CLIENT }, `Kafka client: ${config.KAFKA_CLIENT} (consumer and dead-letter producer)`);
    this.consumer.on((event, detail) => {
      if (event === 'crash') this.onConsumerCrash(detail);
      else this.log.info({ event }, `consumer ${event}`);
    });
    this.dlqMaxMessageBytes = config.DLQ_MAX_MESSAGE_BYTES;
    this.mappings = createMappingSource(config, kafka, this.log);
    this.mappingsWatch = new MappingsFollowerWatch(
      () => this.mappings.followerHealth?.(),
      { readyMs: config.MAPPINGS_STALL_READY_MS, liveMs: config.MAPPINGS_STALL_LIVE_MS },
      this.log.child({ component: 'mappings' }),
      metricsRegistry(),
    );
    this.metrics = new InvalidatorMetrics(
      metricsRegistry(),
      () => (this.mappings.isReady() ? this.mappings.current().mappingCount : 0),
      this.sourceLabel(),
    );
    // Registry sources: the label follows the topic's declaration (a team may change its entity type).
    if (cdcSourceMode(config) === 'registry') this.mappings.onChange(() => this.metrics.setSource(this.sourceLabel()));
    const protocol = new CacheProtocol(this.redis, { maxKeysPerScriptCall: config.REDIS_KEYS_PER_SCRIPT_CALL });
    this.protocol = protocol;
    const dlqTopic = config.KAFKA_DLQ_TOPIC;
    const replicaAck = {
      replicas: config.REDIS_WAIT_REPLICAS,
      timeoutMs: config.REDIS_WAIT_TIMEOUT_MS,
      onShortfall: () => this.metrics.replicaAckShortfalls.inc(),
    };
    const sinks = otherSinksFromConfig(
      config,
      protocol, // loader warms fill through a lease, as readers do (sinks/loader-warm.ts)
      metricsRegistry(),
      this.log.child({ component: 'sinks' }),
    );
    this.otherSinks = sinks;
    if (config.BUS_ENABLED) {
      let lastWarn = 0;
      this.bus = new BusPublisher(this.redis, {
        streamKey: config.BUS_STREAM_KEY,
        maxLen: config.BUS_MAXLEN,
        timeoutMs: config.BUS_TIMEOUT_MS,
        // Unique per process start (pids repeat across containers): readers track each publisher's heartbeats.
        source: `invalidator-${process.pid}-${randomBytes(4).toString('hex')}`,
        registry: metricsRegistry(),
        // Signed heartbeats and byes: readers holding the public key ignore forged ones.
        sign: config.BUS_SIGNING_KEY !== undefined ? busSigner(config.BUS_SIGNING_KEY, 'BUS_SIGNING_KEY') : undefined,
        onFailure: (kind, error) => {
          if (Date.now() - lastWarn < 10_000) return;
          lastWarn = Date.now();
          this.log.warn(
            { kind, err: error.message },
            'bus announce failed (counted in cache_bus_published_total; readers drop their L1 on the reset that follows); the partition goes on',
          );
        },
      });
    }
    // Every chunk's keys, tags and namespace bumps, then the hooks in their order (pipeline/plan-applier.ts).
    const applier = invalidatorPlanApplier(protocol, {
      onNamespaceBump: (bumped) => sinks.namespaceBumps.inc({ outcome: bumped ? 'bumped' : 'skipped' }),
      bus: this.bus,
      replicaAck: config.REDIS_WAIT_REPLICAS > 0 ? { redis: this.redis, options: replicaAck } : undefined,
    });
    this.pipeline = new InvalidationPipeline(
      () => this.mappings.current(),
      applier,
      { send: (records) => this.deadLetterProducer.send(dlqTopic, records), maxBatchBytes: () => this.dlqMaxMessageBytes },
      new RecentEvents(config.DEDUP_MEMORY),
      this.metrics,
      {
        maxEventBytes: config.MAX_EVENT_BYTES,
        strictEntityTypes: config.STRICT_ENTITY_TYPES,
        defaultTombstoneTtlSeconds: config.TOMBSTONE_TTL_SECONDS,
        chunkSize: config.CHUNK_SIZE,
        chunkMaxBytes: config.CHUNK_MAX_BYTES,
        retry: { initialMs: config.RETRY_INITIAL_MS, maxMs: config.RETRY_MAX_MS },
        // The CDC_* settings win when set; otherwise each record's topic's declaration, read per chunk (hot).
        cdcSource: cdcSourceMode(config) === 'registry' ? (topic) => this.mappings.sources().lookup(topic) : cdcSource(config),
      },
      this.log.child({ component: 'pipeline' }),
      { purge: sinks.purge, loader: sinks.loader },
    );
  }

  /** Loader warms and purges. */
  readonly otherSinks: OtherSinksSetup;

  /** Everything the consumer needs before its first batch: the DLQ producer and the full mapping set. */
  async start(): Promise<void> {
    await this.checkTopics();
    await this.learnDeadLetterLimit();
    await this.deadLetterProducer.connect();
    await this.mappings.start();
    this.checkCdcSource();
    this.metrics.setSource(this.sourceLabel());
    // Readers learn of this instance (and wait for its heartbeats) before it applies anything.
    const first = await this.bus?.startHeartbeat(this.config.BUS_HEARTBEAT_MS);
    if (first !== undefined && first !== 'ok')
      this.log.warn({ outcome: first }, 'first bus heartbeat not sent: the next heartbeat is a reset (readers drop their L1)');
  }

  /** The entity type of KAFKA_TOPIC's registry declaration, when there is a usable one. */
  sourceEntityType(): string | undefined {
    const found = this.mappings.sources().lookup(this.config.KAFKA_TOPIC);
    return 'source' in found ? found.source.entityType : undefined;
  }

  /** `invalidator_source_info{source}`: "events", or "cdc:<entity type>" from the CDC_* settings or from the topic's declaration. */
  private sourceLabel(): string {
    const mode = cdcSourceMode(this.config);
    if (mode === undefined) return 'events';
    if (mode === 'env') return `cdc:${this.config.CDC_ENTITY_TYPE}`;
    if (!this.mappings.isReady()) return 'cdc:undeclared';
    const found = this.mappings.sources().lookup(this.config.KAFKA_TOPIC);
    return 'source' in found ? `cdc:${found.source.entityType}` : 'cdc:undeclared';
  }

  /**
   * Says at start where the table's declaration comes from. The CDC_* settings win over a
   * declaration of the same topic in the registry (logged, never refused: a team's record must
   * not stop an operator's deployment). A mapping file that declares no source for KAFKA_TOPIC
   * cannot change while running: refused, naming both variables.
   */
  private checkCdcSource(): void {
    const mode = cdcSourceMode(this.config);
    if (mode === undefined) return;
    const topic = this.config.KAFKA_TOPIC;
    const declared = this.mappings.sources().get(topic);
    if (mode === 'env') {
      if (declared)
        this.log.warn(
          { topic, owner: declared.owner, entityType: declared.entityType },
          `CDC_ENTITY_TYPE is set: the CDC_* settings declare topic ${topic}; its source declaration in the registry (owner "${declared.owner}") is ignored by this deployment`,
        );
      return;
    }
    const found = this.mappings.sources().lookup(topic);
    if (this.config.MAPPINGS_SOURCE === 'file' && !declared)
      throw new ConfigError([
        `KAFKA_TOPIC: topic "${topic}" has no source declaration in MAPPINGS_FILE ${this.config.MAPPINGS_FILE} (EVENT_FORMAT=debezium without CDC_ENTITY_TYPE reads it from the file's "sources:")`,
      ]);
    if ('source' in found)
      this.log.info(
        { topic, owner: found.source.owner, entityType: found.source.entityType, versionColumn: found.source.versionColumn ?? '(LSN)' },
        `table declared by the registry: topic ${topic} is entity type ${found.source.entityType}`,
      );
    else
      this.log.warn(
        { topic, code: found.code, reason: found.message },
        `no usable source declaration for topic ${topic} yet: its row changes are dead-lettered ${found.code} until one is declared (then replay)`,
      );
  }

  /** A missing topic is a configuration error: say which variable names it, before consuming anything. */
  private async checkTopics(): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const existing = new Set(await admin.listTopics());
      const wanted: [string, string][] = [
        ['KAFKA_TOPIC', this.config.KAFKA_TOPIC],
        ['KAFKA_DLQ_TOPIC', this.config.KAFKA_DLQ_TOPIC],
        ...(this.config.MAPPINGS_SOURCE === 'kafka'
          ? ([['KAFKA_MAPPINGS_TOPIC', this.config.KAFKA_MAPPINGS_TOPIC]] as [string, string][])
          : []),
      ];
      const missing = wanted
        .filter(([, topic]) => !existing.has(topic))
        .map(([name, topic]) => `${name}: topic "${topic}" does not exist on ${this.config.KAFKA_BROKERS}`);
      if (missing.length > 0) throw new ConfigError(missing);
    } finally {
      await admin.disconnect();
    }
  }

  /** Dead letters are sized to the DLQ topic's max.message.bytes (split into requests, or sent as references). */
  private async learnDeadLetterLimit(): Promise<void> {
    const topic = this.config.KAFKA_DLQ_TOPIC;
    const learned = await topicMaxMessageBytes(this.kafka, topic).catch((error: Error) => {
      this.log.warn(
        { err: error.message, topic, fallback: this.config.DLQ_MAX_MESSAGE_BYTES },
        'cannot read the DLQ topic max.message.bytes: using DLQ_MAX_MESSAGE_BYTES',
      );
      return undefined;
    });
    if (learned !== undefined) this.dlqMaxMessageBytes = learned;
    this.log.info(
      { topic, maxMessageBytes: this.dlqMaxMessageBytes, source: learned !== undefined ? 'topic' : 'DLQ_MAX_MESSAGE_BYTES' },
      'dead letters sized to the DLQ topic',
    );
  }

  /** Each check: true, or false / the reason it fails. */
  readiness(): Record<string, boolean | string> {
    return {
      kafkaGroupJoined: this.consumer.hasJoinedGroup,
      redisConnected: isRedisReady(this.redis),
      mappingsLoaded: this.mappings.isReady(),
      consumerNotCrashed: !this.crash,
      mappingsFollower: this.mappingsWatch.readiness(),
    };
  }

  /** Both clients restart a consumer after a retriable crash by themselves; after a non-retriable one they never will. */
  private onConsumerCrash(detail: unknown): void {
    const final = isFinalCrash(detail);
    this.metrics.consumerCrashes.inc({ restart: String(!final) });
    const crash = describeConsumerCrash(detail, this.config.KAFKA_TOPIC);
    if (!final) {
      this.log.warn(
        { cause: crash.cause, topic: crash.topic, partition: crash.partition, client: this.consumer.client },
        `consumer crashed; ${this.consumer.client} restarts it (retriable error)`,
      );
      return;
    }
    if (this.crash) return;
    this.crash = crash;
    const where = `topic ${crash.topic}${crash.partition !== undefined ? ` partition ${crash.partition}` : ''}`;
    const then = this.config.EXIT_ON_CONSUMER_CRASH
      ? 'exiting (EXIT_ON_CONSUMER_CRASH=true)'
      : 'staying up with /health/live 503 (EXIT_ON_CONSUMER_CRASH=false)';
    this.log.error(
      { ...crash, exit: this.config.EXIT_ON_CONSUMER_CRASH },
      `consumer stopped for good, ${this.consumer.client} will not restart it: ${crash.cause} (${where}); ${then}`,
    );
    this.gaveUp(crash);
  }

  /** After the consumer stopped (transport closed): release the rest. */
  async stop(): Promise<void> {
    // The consumer has stopped. Alongside the loader grace: once the last announces are out, say
    // `bye` so readers stop waiting for this instance's heartbeats (BusPublisher.leave). Both get
    // 2 s; a bye that does not make it is fine (readers treat the silence as a crash: L1 dropped).
    // Loader warms in flight get a short grace (they are best effort: the keys are already invalidated).
    await Promise.race([
      Promise.all([this.otherSinks.loader.drain(), this.bus?.leave()]),
      new Promise((r) => setTimeout(r, 2_000).unref()),
    ]);
    await Promise.allSettled([this.deadLetterProducer.disconnect(), this.mappings.stop()]);
    this.redis.disconnect();
  }
}
