// Publisher metrics on the process-wide registry (libs/telemetry). Get-or-create, because two
// publishers in one process (tests, a service publishing to two topics) must share the series.
import { metricsRegistry } from '@app/telemetry';
import { Counter, Histogram } from 'prom-client';

function getOrCreate<T>(name: string, create: () => T): T {
  return (metricsRegistry().getSingleMetric(name) as T | undefined) ?? create();
}

export function publisherMetrics() {
  const registers = [metricsRegistry()];
  return {
    published: getOrCreate(
      'publisher_events_published_total',
      () =>
        new Counter({
          name: 'publisher_events_published_total',
          help: 'entity.updated events acknowledged by Kafka (acks=all)',
          labelNames: ['topic'],
          registers,
        }),
    ),
    refused: getOrCreate(
      'publisher_events_refused_total',
      () =>
        new Counter({
          name: 'publisher_events_refused_total',
          help: 'events refused before send (validation or size), by error code',
          labelNames: ['code'],
          registers,
        }),
    ),
    sendFailures: getOrCreate(
      'publisher_send_failures_total',
      () =>
        new Counter({
          name: 'publisher_send_failures_total',
          help: 'producer sends that failed after kafkajs retries (events in them were not acknowledged)',
          labelNames: ['topic'],
          registers,
        }),
    ),
    sendDuration: getOrCreate(
      'publisher_send_duration_seconds',
      () =>
        new Histogram({
          name: 'publisher_send_duration_seconds',
          help: 'time from producer send to acknowledgement, per batch',
          labelNames: ['topic'],
          buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
          registers,
        }),
    ),
    outboxRelayed: getOrCreate(
      'outbox_relayed_total',
      () => new Counter({ name: 'outbox_relayed_total', help: 'outbox records published and marked sent by the relay', registers }),
    ),
    outboxFailed: getOrCreate(
      'outbox_failed_total',
      () =>
        new Counter({
          name: 'outbox_failed_total',
          help: 'outbox records that can never be published (refused by validation) and were set aside',
          registers,
        }),
    ),
  };
}
