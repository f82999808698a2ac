// Every metric of the pipeline's path is recorded here, not interleaved with the steps:
// when a chunk arrives, when its dead letters are delivered (5), when it is committed (7), and
// the retry counters the dead-letter and apply steps report through hooks.
import type { InboundMessage } from '@app/kafka';
import type { ApplyReport } from '../pipeline/apply';
import type { EntityChange } from '../pipeline/coalesce';
import type { Rejection } from '../pipeline/dead-letter-code';
import { InvalidatorMetrics } from './invalidator-metrics';

export interface CommittedChunk {
  topic: string;
  last: InboundMessage;
  /** process.hrtime.bigint() when the chunk arrived. */
  startedNs: bigint;
  /** Events after dedupe. */
  unique: number;
  duplicates: number;
  changes: EntityChange[];
  /** Events with at least one part dead-lettered (each counted once). */
  unresolvable: number;
  unmapped: number;
  /** What the apply step (6) reports. */
  report: ApplyReport;
}

export class ChunkMetrics {
  constructor(private readonly metrics: InvalidatorMetrics) {}

  /** A chunk arrived (counted even if it is not committed this time). Returns its start time. */
  received(chunk: InboundMessage[]): bigint {
    const started = process.hrtime.bigint();
    this.metrics.consumed.inc(chunk.length);
    this.metrics.batchSize.observe(chunk.length);
    return started;
  }

  /** One step of the chunk ended (invalidator_chunk_step_seconds{step}): returns now, the start of the next step. */
  step(name: 'prepare' | 'dead-letter' | 'apply' | 'purge' | 'commit', startedNs: bigint): bigint {
    const now = process.hrtime.bigint();
    this.metrics.chunkStep.observe({ step: name }, Number(now - startedNs) / 1e9);
    return now;
  }

  /** Step 1 of a CDC source: records that are not row changes. */
  cdcSkipped(skipped: Partial<Record<string, number>>): void {
    for (const [reason, n] of Object.entries(skipped)) if (n) this.metrics.cdcSkipped.inc({ reason }, n);
  }

  /** Step 5: the chunk's dead letters are in the DLQ topic. */
  deadLettered(deadLetters: Rejection[]): void {
    for (const r of deadLetters) this.metrics.deadLettered.inc({ reason: r.code });
  }

  /** Hooks of the dead-letter step (5): a failed produce request, a letter sent as a reference. */
  readonly deadLetterHooks = {
    onFailure: () => this.metrics.deadLetterFailures.inc(),
    onReference: () => this.metrics.deadLettersTruncated.inc(),
  };

  /** Hook of the apply step (6): a failed apply attempt that is retried. */
  readonly onRedisRetry = () => this.metrics.redisRetries.inc();

  /** Step 7: the chunk is in Redis and committed. */
  committed(c: CommittedChunk): void {
    const now = Date.now();
    this.metrics.applied.inc(c.unique - c.unresolvable - c.unmapped);
    this.metrics.deduped.inc(c.duplicates);
    this.metrics.coalesced.inc(c.unique - c.changes.length);
    this.metrics.unmapped.inc(c.unmapped);
    for (const [outcome, n] of Object.entries(c.report.outcomes)) if (n > 0) this.metrics.keys.inc({ outcome }, n);
    this.metrics.tagKeys.inc(c.report.tagKeysInvalidated);
    this.metrics.applyDuration.observe(Number(process.hrtime.bigint() - c.startedNs) / 1e9);
    for (const change of c.changes) this.metrics.eventAge.observe(Math.max(0, now - Date.parse(change.newest.occurredAt)) / 1000);
    this.metrics.lastAppliedOffset.set({ topic: c.topic, partition: String(c.last.partition) }, Number(c.last.offset));
  }
}
