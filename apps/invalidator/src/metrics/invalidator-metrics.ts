// The invalidator's Prometheus metrics (names documented in the README metrics table).
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export class InvalidatorMetrics {
  readonly consumed: Counter;
  readonly applied: Counter;
  readonly deduped: Counter;
  readonly coalesced: Counter;
  readonly unmapped: Counter;
  readonly deadLettered: Counter<'reason'>;
  readonly deadLetterFailures: Counter;
  readonly deadLettersTruncated: Counter;
  readonly keys: Counter<'outcome'>;
  readonly tagKeys: Counter;
  readonly redisRetries: Counter;
  readonly replicaAckShortfalls: Counter;
  readonly consumerCrashes: Counter<'restart'>;
  readonly applyDuration: Histogram;
  readonly batchSize: Histogram;
  readonly eventAge: Histogram;
  readonly mappings: Gauge;
  readonly lastAppliedOffset: Gauge<'topic' | 'partition'>;

  /** `mappingCount` is read at scrape time, so the gauge never lags the loaded set. */
  constructor(registry: Registry, mappingCount: () => number = () => 0) {
    const registers = [registry];
    this.consumed = new Counter({ name: 'invalidator_events_consumed_total', help: 'Messages read from the entity.updated topic', registers });
    this.applied = new Counter({ name: 'invalidator_events_applied_total', help: 'Events whose effects are in Redis (offset resolved)', registers });
    this.deduped = new Counter({ name: 'invalidator_events_deduped_total', help: 'Duplicate events skipped (same eventId or entity+version)', registers });
    this.coalesced = new Counter({ name: 'invalidator_events_coalesced_total', help: 'Events merged into a newer event of the same entity in one batch', registers });
    this.unmapped = new Counter({ name: 'invalidator_events_unmapped_total', help: 'Events of an entity type with no mapping (not strict): nothing to do', registers });
    this.deadLettered = new Counter({ name: 'invalidator_events_dead_lettered_total', help: 'Messages sent to the dead-letter topic, by reason code', labelNames: ['reason'], registers });
    this.deadLetterFailures = new Counter({ name: 'invalidator_dead_letter_produce_failures_total', help: 'Failed dead-letter produce requests (retried with backoff while the partition is paused, or re-split when too large)', registers });
    this.deadLettersTruncated = new Counter({ name: 'invalidator_dead_letters_truncated_total', help: 'Dead letters sent as a reference (origin, size, reason, first bytes): too large for the DLQ topic whole', registers });
    this.keys = new Counter({ name: 'invalidator_keys_total', help: 'Key effects applied, by outcome (deleted, tombstoned, warmed, skipped-older)', labelNames: ['outcome'], registers });
    this.tagKeys = new Counter({ name: 'invalidator_tag_keys_invalidated_total', help: 'Keys invalidated through tags', registers });
    this.redisRetries = new Counter({ name: 'invalidator_redis_retries_total', help: 'Failed apply attempts that were retried (Redis down or slow)', registers });
    this.replicaAckShortfalls = new Counter({ name: 'invalidator_replica_ack_shortfalls_total', help: 'WAITs that got fewer replica acks than REDIS_WAIT_REPLICAS in time (the chunk is retried, not committed)', registers });
    this.consumerCrashes = new Counter({
      name: 'invalidator_consumer_crashes_total',
      help: 'kafkajs consumer crashes; restart="false": kafkajs will not restart the consumer (the process exits, or /health/live is 503)',
      labelNames: ['restart'],
      registers,
    });
    this.applyDuration = new Histogram({
      name: 'invalidator_apply_duration_seconds',
      help: 'Time to apply one chunk of a batch to Redis, retries included',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.batchSize = new Histogram({ name: 'invalidator_batch_size', help: 'Messages per processed chunk', buckets: [1, 10, 50, 100, 250, 500, 1000, 2000, 5000], registers });
    this.eventAge = new Histogram({
      name: 'invalidator_event_age_seconds',
      help: 'occurredAt -> effect applied in Redis',
      buckets: [0.001, 0.002, 0.003, 0.004, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.025, 0.035, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    });
    this.mappings = new Gauge({
      name: 'invalidator_mappings',
      help: 'Mappings currently loaded',
      registers,
      collect() {
        this.set(mappingCount());
      },
    });
    this.lastAppliedOffset = new Gauge({ name: 'invalidator_last_applied_offset', help: 'Last offset resolved and committed, per partition', labelNames: ['topic', 'partition'], registers });
  }
}
