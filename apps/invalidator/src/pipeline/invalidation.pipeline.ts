// The path of a batch, chunk by chunk, top to bottom; one file per step:
//   1 decode       decode.ts       bytes -> validated events (bad input -> rejections)
//   2 dedupe       dedupe.ts       drop duplicates within the batch and of recently applied events
//   3 coalesce     coalesce.ts     one change per entity, carrying its newest version
//   4 resolve      resolve.ts      changes -> key and tag effects, through the mappings
//   5 dead-letter  dead-letter.ts  rejections and unresolvable events -> the DLQ topic
//   6 apply        apply.ts        effects -> Redis through the PlanApplier, then its hooks
//                                  (plan-applier.ts: bump counts, bus announce, 6b replica ack)
//   6c purge       ../sinks/purge.ts  HTTP cache purges after the apply, bounded (failures -> 5, PURGE_FAILED)
//   7 commit       commit.ts       remember what was applied, resolve and commit the last offset
//   8 loader warm  ../sinks/loader-warm.ts  after the commit, best effort (keys already tombstoned)
// Offsets are resolved only once a chunk's effects are in Redis and its bad messages are in the
// dead-letter topic; the commit covers exactly that chunk. Metrics are recorded in one place
// (metrics/chunk-metrics.ts), not by the steps.
import type { InboundBatch, BatchControl, InboundMessage } from '@app/kafka';
import type { Logger } from '@app/telemetry';
import type { MappingResolver } from '@app/registry-core/types';
import { ChunkMetrics } from '../metrics/chunk-metrics';
import { InvalidatorMetrics } from '../metrics/invalidator-metrics';
import type { PlanApplier } from '@app/cache-protocol';
import { applyPlan } from './apply';
import { BackoffPolicy } from './backoff';
import { coalesce } from './coalesce';
import { commitChunk } from './commit';
import { Rejection, rejection } from './dead-letter-code';
import { DeadLetterSink, deliverDeadLetters } from './dead-letter';
import { decode, DecodedEvent, DecodeResult } from './decode';
import { CdcSource, CdcSourceFor, decodeDebezium } from './decode-debezium';
import { dedupe, RecentEvents } from './dedupe';
import { resolveEffects } from './resolve';
import type { LoaderWarmer } from '../sinks/loader-warm';
import type { PurgeSink } from '../sinks/purge';

/** The other sinks: HTTP cache purges before the commit (bounded), loader warms after it. */
export interface OtherSinks {
  purge?: PurgeSink;
  loader?: LoaderWarmer;
}

export interface PipelineOptions {
  maxEventBytes: number;
  strictEntityTypes: boolean;
  defaultTombstoneTtlSeconds: number;
  /** Most messages handled per apply+commit step; bounds the work between heartbeats. */
  chunkSize: number;
  /**
   * Most bytes (keys + values) of the messages of one chunk; at least one message per chunk. The
   * decoded events, the plan and the Redis commands of a chunk in flight grow with its bytes, so
   * this, not the count, bounds the live heap when events are large.
   */
  chunkMaxBytes: number;
  retry: BackoffPolicy;
  /**
   * Set when the topic carries Debezium row changes (EVENT_FORMAT=debezium): one source for every
   * record (the CDC_* settings), or the registry's declaration of each record's topic, looked up per chunk.
   */
  cdcSource?: CdcSource | CdcSourceFor;
}

export type { DeadLetterSink };

/**
 * Where the chunk that starts at `start` ends (exclusive): at most `maxCount` messages and at
 * most `maxBytes` bytes of keys and values, but always at least one message (a message larger
 * than `maxBytes` is a chunk of its own).
 */
export function chunkEnd(messages: readonly InboundMessage[], start: number, maxCount: number, maxBytes: number): number {
  const last = Math.min(messages.length, start + Math.max(1, maxCount));
  let bytes = 0;
  let end = start;
  while (end < last) {
    const m = messages[end];
    bytes += (m.value?.length ?? 0) + (m.key?.length ?? 0);
    if (bytes > maxBytes && end > start) break;
    end += 1;
  }
  return end;
}

export class InvalidationPipeline {
  private readonly record: ChunkMetrics;

  constructor(
    private readonly resolver: () => MappingResolver,
    private readonly applier: PlanApplier,
    private readonly deadLetters: DeadLetterSink,
    private readonly recent: RecentEvents,
    metrics: InvalidatorMetrics,
    private readonly options: PipelineOptions,
    private readonly log: Logger,
    private readonly sinks: OtherSinks = {},
  ) {
    this.record = new ChunkMetrics(metrics);
  }

  async process(batch: InboundBatch, control: BatchControl): Promise<void> {
    const { messages } = batch;
    for (let start = 0; start < messages.length;) {
      if (!control.isActive()) return;
      const end = chunkEnd(messages, start, this.options.chunkSize, this.options.chunkMaxBytes);
      const done = await this.processChunk(batch.topic, messages.slice(start, end), control);
      if (!done) return;
      start = end;
      await control.heartbeat();
    }
  }

  private async processChunk(topic: string, chunk: InboundMessage[], control: BatchControl): Promise<boolean> {
    const startedNs = this.record.received(chunk);

    // 1 decode, 2 dedupe, 3 coalesce, 4 resolve
    const { events, rejected } = this.decode(topic, chunk);
    const { unique, duplicates } = dedupe(events, this.recent);
    const changes = coalesce(unique);
    const resolver = this.resolver();
    const plan = resolveEffects(changes, resolver, {
      strictEntityTypes: this.options.strictEntityTypes,
      defaultTombstoneTtlSeconds: this.options.defaultTombstoneTtlSeconds,
      checkKeyEffect: this.applier.checkKeyEffect,
      checkTag: this.applier.checkTag,
    });
    let at = this.record.step('prepare', startedNs);

    // 5 dead-letter
    const deadLetters: Rejection[] = [
      ...rejected,
      ...plan.unresolvable.map((u) =>
        rejection(
          u.decoded.message,
          u.code,
          u.reason,
          u.mappingId !== undefined ? { mappingId: u.mappingId, team: u.team ?? '' } : undefined,
        ),
      ),
    ];
    if (deadLetters.length > 0) {
      if (!(await this.deadLetter(deadLetters, topic, chunk, control, 'messages dead-lettered'))) return false;
      at = this.record.step('dead-letter', at);
    }

    // 6 apply
    const result = await applyPlan(plan, this.applier, control, this.options.retry, this.log, this.record.onRedisRetry);
    if (!result.applied) return false;
    at = this.record.step('apply', at);

    // 6c purge HTTP caches (after Redis, bounded by PURGE_DEADLINE_MS): what is not purged in
    // time is dead-lettered as PURGE_FAILED (replayable), one letter per (event, mapping) naming
    // the mapping and its team; the partition moves on either way.
    const purgeFailed = new Set<DecodedEvent>();
    if (this.sinks.purge?.enabled && plan.purges && plan.purges.length > 0) {
      const purged = await this.sinks.purge.purge(plan.purges);
      if (purged.failed.length > 0) {
        // A refused item was never sent (retrying cannot help until the mapping or the allow-list changes): its own code.
        const letters = purged.failed.map((f) => {
          const code = f.error.startsWith('refused: ') ? 'PURGE_REFUSED' : 'PURGE_FAILED';
          return rejection(f.item.decoded.message, code, `${code}: mapping "${f.item.mappingId}" of team "${f.item.team}": ${f.error}`, {
            mappingId: f.item.mappingId,
            team: f.item.team,
          });
        });
        if (
          !(await this.deadLetter(
            letters,
            topic,
            chunk,
            control,
            'purge failed within its deadline or was refused: parts dead-lettered as PURGE_FAILED / PURGE_REFUSED',
          ))
        )
          return false;
        for (const f of purged.failed) purgeFailed.add(f.item.decoded);
      }
      at = this.record.step('purge', at);
    }

    // 7 commit (events with a dead-lettered part, PURGE_FAILED included, are not remembered: their replay must run)
    const last = await commitChunk(chunk, unique, plan, resolver, this.recent, control, purgeFailed);
    this.record.step('commit', at);
    // 8 warm from the source, after the commit, best effort (the keys are tombstoned at the event's version).
    if (this.sinks.loader && plan.loads && plan.loads.length > 0) this.sinks.loader.schedule(plan.loads);

    this.record.committed({
      topic,
      last,
      startedNs,
      unique: unique.length,
      duplicates,
      changes,
      // One event can have several refused parts (one per mapping): count events, not parts.
      unresolvable: new Set(plan.unresolvable.map((u) => u.decoded)).size,
      unmapped: plan.unmapped,
      report: result.report,
    });
    return true;
  }

  /** Step 1: entity.updated events, or a CDC table's row changes turned into them. */
  private decode(topic: string, chunk: InboundMessage[]): DecodeResult {
    const { maxEventBytes, cdcSource } = this.options;
    if (!cdcSource) return decode(chunk, { maxEventBytes });
    const result = decodeDebezium(chunk, { maxEventBytes, source: cdcSource });
    this.record.cdcSkipped(result.skipped);
    if (result.skipped.truncate)
      this.log.warn(
        { truncates: result.skipped.truncate, topic },
        'TRUNCATE of the captured table: no per-row invalidation is possible; bump the namespace of its keys if they are cached',
      );
    return result;
  }

  /** Step 5 for any of the chunk's dead letters: false when they could not be delivered (the chunk stays uncommitted). */
  private async deadLetter(
    letters: Rejection[],
    topic: string,
    chunk: InboundMessage[],
    control: BatchControl,
    what: string,
  ): Promise<boolean> {
    const delivery = await deliverDeadLetters(
      letters,
      topic,
      this.deadLetters,
      control,
      this.options.retry,
      this.log,
      this.record.deadLetterHooks,
    );
    if (!delivery.delivered) return false;
    this.record.deadLettered(letters);
    const references = delivery.letters.filter((l) => l.reference).length;
    this.log.warn(
      { topic, partition: chunk[0].partition, count: letters.length, references, codes: [...new Set(letters.map((r) => r.code))] },
      what,
    );
    return true;
  }
}
