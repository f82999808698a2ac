// The path of a batch, top to bottom: decode -> dedupe -> coalesce -> resolve -> dead-letter
// -> apply -> commit. Offsets are resolved only once a chunk's effects are in Redis and its
// bad messages are in the dead-letter topic; the commit covers exactly that chunk.
import type { InboundBatch, BatchControl, InboundMessage } from '@app/kafka';
import type { Logger } from '@app/telemetry';
import type { MappingResolver } from '@app/registry-core/types';
import { InvalidatorMetrics } from '../metrics/invalidator-metrics';
import { applyPlan, EffectSink } from './apply';
import { BackoffPolicy } from './backoff';
import { coalesce } from './coalesce';
import { Rejection, rejection } from './dead-letter-code';
import { DeadLetterSink, deliverDeadLetters } from './dead-letter-delivery';
import { decode } from './decode';
import { dedupe, RecentEvents, rememberApplied } from './dedupe';
import { resolveEffects } from './resolve';

export interface PipelineOptions {
  maxEventBytes: number;
  strictEntityTypes: boolean;
  defaultTombstoneTtlSeconds: number;
  /** Messages handled per apply+commit step; bounds the work between heartbeats. */
  chunkSize: number;
  retry: BackoffPolicy;
}

export type { DeadLetterSink };

export class InvalidationPipeline {
  constructor(
    private readonly resolver: () => MappingResolver,
    private readonly sink: EffectSink,
    private readonly deadLetters: DeadLetterSink,
    private readonly recent: RecentEvents,
    private readonly metrics: InvalidatorMetrics,
    private readonly options: PipelineOptions,
    private readonly log: Logger,
  ) {}

  async process(batch: InboundBatch, control: BatchControl): Promise<void> {
    for (let start = 0; start < batch.messages.length; start += this.options.chunkSize) {
      if (!control.isActive()) return;
      const chunk = batch.messages.slice(start, start + this.options.chunkSize);
      const done = await this.processChunk(batch.topic, chunk, control);
      if (!done) return;
      await control.heartbeat();
    }
  }

  private async processChunk(topic: string, chunk: InboundMessage[], control: BatchControl): Promise<boolean> {
    const started = process.hrtime.bigint();
    this.metrics.consumed.inc(chunk.length);
    this.metrics.batchSize.observe(chunk.length);

    const { events, rejected } = decode(chunk, { maxEventBytes: this.options.maxEventBytes });
    const { unique, duplicates } = dedupe(events, this.recent);
    const changes = coalesce(unique);
    const resolver = this.resolver();
    const plan = resolveEffects(changes, resolver, {
      strictEntityTypes: this.options.strictEntityTypes,
      defaultTombstoneTtlSeconds: this.options.defaultTombstoneTtlSeconds,
      checkKeyEffect: this.sink.checkKeyEffect?.bind(this.sink),
      checkTag: this.sink.checkTag?.bind(this.sink),
    });

    const deadLetters: Rejection[] = [...rejected, ...plan.unresolvable.map((u) => rejection(u.decoded.message, u.code, u.reason))];
    if (deadLetters.length > 0) {
      const delivery = await deliverDeadLetters(deadLetters, topic, this.deadLetters, control, this.options.retry, this.log, {
        onFailure: () => this.metrics.deadLetterFailures.inc(),
        onReference: () => this.metrics.deadLettersTruncated.inc(),
      });
      if (!delivery.delivered) return false;
      for (const r of deadLetters) this.metrics.deadLettered.inc({ reason: r.code });
      const references = delivery.letters.filter((l) => l.reference).length;
      this.log.warn({ topic, partition: chunk[0].partition, count: deadLetters.length, references, codes: [...new Set(deadLetters.map((r) => r.code))] }, 'messages dead-lettered');
    }

    const result = await applyPlan(plan, this.sink, control, this.options.retry, this.log, () => this.metrics.redisRetries.inc());
    if (!result.applied) return false;

    // Only what reached Redis: a dead-lettered or unmapped event must not be skipped when it comes back (a DLQ replay).
    const notApplied = new Set(plan.unresolvable.map((u) => u.decoded));
    rememberApplied(unique.filter((d) => !notApplied.has(d) && resolver.hasEntityType(d.event.entityType)), this.recent);
    const last = chunk[chunk.length - 1];
    await control.resolveAndCommit(last.offset);

    const now = Date.now();
    const applied = unique.length - plan.unresolvable.length - plan.unmapped;
    this.metrics.applied.inc(applied);
    this.metrics.deduped.inc(duplicates);
    this.metrics.coalesced.inc(unique.length - changes.length);
    this.metrics.unmapped.inc(plan.unmapped);
    for (const [outcome, n] of Object.entries(result.report.outcomes)) if (n > 0) this.metrics.keys.inc({ outcome }, n);
    this.metrics.tagKeys.inc(result.report.tagKeysInvalidated);
    this.metrics.applyDuration.observe(Number(process.hrtime.bigint() - started) / 1e9);
    for (const change of changes) this.metrics.eventAge.observe(Math.max(0, now - Date.parse(change.newest.occurredAt)) / 1000);
    this.metrics.lastAppliedOffset.set({ topic, partition: String(last.partition) }, Number(last.offset));
    return true;
  }
}
