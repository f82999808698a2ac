// The invalidator's Prometheus metrics (names documented in docs/operations.md, "Metrics"). The names
// are defined once in @app/telemetry (INVALIDATOR_METRIC_NAMES), where their readers find them too.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { INVALIDATOR_METRIC_NAMES as NAMES } from '@app/telemetry';

export class InvalidatorMetrics {
  readonly consumed: Counter;
  readonly applied: Counter;
  readonly deduped: Counter;
  readonly coalesced: Counter;
  readonly unmapped: Counter;
  readonly cdcSkipped: Counter<'reason'>;
  readonly sourceInfo: Gauge<'source'>;
  readonly deadLettered: Counter<'reason'>;
  readonly deadLetterFailures: Counter;
  readonly deadLettersTruncated: Counter;
  readonly keys: Counter<'outcome'>;
  readonly tagKeys: Counter;
  readonly redisRetries: Counter;
  readonly replicaAckShortfalls: Counter;
  readonly consumerCrashes: Counter<'restart'>;
  readonly applyDuration: Histogram;
  readonly chunkStep: Histogram<'step'>;
  readonly batchSize: Histogram;
  readonly eventAge: Histogram;
  readonly mappings: Gauge;
  readonly lastAppliedOffset: Gauge<'topic' | 'partition'>;

  /** `mappingCount` is read at scrape time, so the gauge never lags the loaded set. */
  constructor(registry: Registry, mappingCount: () => number = () => 0, source = 'events') {
    const registers = [registry];
    this.consumed = new Counter({ name: NAMES.consumed, help: 'Messages read from the entity.updated topic', registers });
    this.applied = new Counter({ name: NAMES.applied, help: 'Events whose effects are in Redis (offset resolved)', registers });
    this.deduped = new Counter({ name: NAMES.deduped, help: 'Duplicate events skipped (same eventId or entity+version)', registers });
    this.coalesced = new Counter({
      name: NAMES.coalesced,
      help: 'Events merged into a newer event of the same entity in one batch',
      registers,
    });
    this.sourceInfo = new Gauge({
      name: NAMES.sourceInfo,
      help: 'Always 1; `source` says what this instance reads: "events" (entity.updated) or "cdc:<entity type>" (EVENT_FORMAT=debezium; with registry sources the entity type of its topic\'s declaration, "cdc:undeclared" while there is none). The dashboard groups throughput by it',
      labelNames: ['source'],
      registers,
    });
    this.cdcSkipped = new Counter({
      name: NAMES.cdcSkipped,
      help: 'EVENT_FORMAT=debezium: records that are not row changes (tombstone, heartbeat, message, truncate, schema_change), committed without effect',
      labelNames: ['reason'],
      registers,
    });
    this.unmapped = new Counter({
      name: NAMES.unmapped,
      help: 'Events of an entity type with no mapping (not strict): nothing to do',
      registers,
    });
    this.deadLettered = new Counter({
      name: NAMES.deadLettered,
      help: 'Messages sent to the dead-letter topic, by reason code',
      labelNames: ['reason'],
      registers,
    });
    this.deadLetterFailures = new Counter({
      name: NAMES.deadLetterFailures,
      help: 'Failed dead-letter produce requests (retried with backoff while the partition is paused, or re-split when too large)',
      registers,
    });
    this.deadLettersTruncated = new Counter({
      name: NAMES.deadLettersTruncated,
      help: 'Dead letters sent as a reference (origin, size, reason, first bytes): too large for the DLQ topic whole',
      registers,
    });
    this.keys = new Counter({
      name: NAMES.keys,
      help: 'Key effects applied, by outcome (deleted, tombstoned, warmed, skipped-older)',
      labelNames: ['outcome'],
      registers,
    });
    this.tagKeys = new Counter({ name: NAMES.tagKeys, help: 'Keys invalidated through tags', registers });
    this.redisRetries = new Counter({
      name: NAMES.redisRetries,
      help: 'Failed apply attempts that were retried (Redis down or slow)',
      registers,
    });
    this.replicaAckShortfalls = new Counter({
      name: NAMES.replicaAckShortfalls,
      help: 'WAITs that got fewer replica acks than REDIS_WAIT_REPLICAS in time (the chunk is retried, not committed)',
      registers,
    });
    this.consumerCrashes = new Counter({
      name: NAMES.consumerCrashes,
      help: 'kafkajs consumer crashes; restart="false": kafkajs will not restart the consumer (the process exits, or /health/live is 503)',
      labelNames: ['restart'],
      registers,
    });
    this.applyDuration = new Histogram({
      name: NAMES.applyDuration,
      help: 'Time to apply one chunk of a batch to Redis, retries included',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.chunkStep = new Histogram({
      name: NAMES.chunkStep,
      help: 'Time of each step of a chunk: prepare (decode, dedupe, coalesce, resolve), dead-letter, apply (Redis, retries included), purge, commit (Kafka; with the platformatic client only the start of the commit: it overlaps the next chunk)',
      labelNames: ['step'],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.batchSize = new Histogram({
      name: NAMES.batchSize,
      help: 'Messages per processed chunk',
      buckets: [1, 10, 50, 100, 250, 500, 1000, 2000, 5000],
      registers,
    });
    this.eventAge = new Histogram({
      name: NAMES.eventAge,
      help: 'occurredAt -> effect applied in Redis',
      buckets: [
        0.001, 0.002, 0.003, 0.004, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.025, 0.035, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300,
      ],
      registers,
    });
    this.mappings = new Gauge({
      name: NAMES.mappings,
      help: 'Mappings currently loaded',
      registers,
      collect() {
        this.set(mappingCount());
      },
    });
    this.setSource(source);
    this.lastAppliedOffset = new Gauge({
      name: NAMES.lastAppliedOffset,
      help: 'Last offset resolved and committed, per partition',
      labelNames: ['topic', 'partition'],
      registers,
    });
  }

  /** What this instance reads now (a registry source declaration can change its entity type): one label value at a time. */
  setSource(source: string): void {
    this.sourceInfo.reset();
    this.sourceInfo.set({ source }, 1);
  }
}
