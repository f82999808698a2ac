// The invalidator's Prometheus metric names, defined once: the invalidator registers them
// (apps/invalidator/src/metrics/invalidator-metrics.ts) and everything that reads its /metrics
// (the lag monitor's dashboard scraper, npm run dev, the bench, the tests) refers to them here.
export const INVALIDATOR_METRIC_NAMES = {
  consumed: 'invalidator_events_consumed_total',
  applied: 'invalidator_events_applied_total',
  deduped: 'invalidator_events_deduped_total',
  coalesced: 'invalidator_events_coalesced_total',
  unmapped: 'invalidator_events_unmapped_total',
  deadLettered: 'invalidator_events_dead_lettered_total',
  deadLetterFailures: 'invalidator_dead_letter_produce_failures_total',
  deadLettersTruncated: 'invalidator_dead_letters_truncated_total',
  keys: 'invalidator_keys_total',
  tagKeys: 'invalidator_tag_keys_invalidated_total',
  redisRetries: 'invalidator_redis_retries_total',
  replicaAckShortfalls: 'invalidator_replica_ack_shortfalls_total',
  consumerCrashes: 'invalidator_consumer_crashes_total',
  applyDuration: 'invalidator_apply_duration_seconds',
  chunkStep: 'invalidator_chunk_step_seconds',
  batchSize: 'invalidator_batch_size',
  eventAge: 'invalidator_event_age_seconds',
  mappings: 'invalidator_mappings',
  lastAppliedOffset: 'invalidator_last_applied_offset',
  mappingsFollowerUp: 'invalidator_mappings_follower_up',
  mappingsFollowerSecondsSinceFetch: 'invalidator_mappings_follower_seconds_since_fetch',
  loaderWarms: 'invalidator_loader_warms_total',
  purges: 'invalidator_purges_total',
  namespaceBumps: 'invalidator_namespace_bumps_total',
} as const;
