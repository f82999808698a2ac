// Step 6 of the pipeline (invalidation.pipeline.ts), apply: apply the plan to Redis through libs/cache-protocol, retrying until it is in Redis
// or the batch is no longer ours. Every operation is idempotent and version-guarded, so a
// retry after a partial apply (or a redelivery after a crash) is harmless.
import type { EffectOutcome } from '@app/cache-protocol/effects';
import type { BatchControl } from '@app/kafka';
import type { Logger } from '@app/telemetry';
import { BackoffPolicy, PausedRetry } from './backoff';
import { EffectPlan } from './resolve';

/** The part of CacheProtocol the invalidator uses (kept narrow so tests can count calls). */
export interface EffectSink {
  applyKeyEffects(effects: EffectPlan['keys']): Promise<EffectOutcome[]>;
  invalidateTags(tags: EffectPlan['tags']): Promise<{ keysInvalidated: number }>;
  /** Why an effect would be refused without touching Redis (never retriable). */
  checkKeyEffect?(effect: EffectPlan['keys'][number]): Error | undefined;
  checkTag?(tag: string): Error | undefined;
  /** Namespace bumps (once per entity version, replay-safe); applied with the keys, retried with them. */
  bumpNamespaces?(bumps: NonNullable<EffectPlan['namespaces']>): Promise<{ bumped: boolean }[]>;
  /** After the effects are applied, before the commit: resolves once enough replicas hold them, throws otherwise (REDIS_WAIT_REPLICAS; see replica-ack.ts). */
  awaitReplicas?(): Promise<void>;
}

export interface ApplyReport {
  outcomes: Record<EffectOutcome, number>;
  /** Namespace bumps: bumped, or skipped as a duplicate/older replay. */
  namespaceBumps?: { bumped: number; skipped: number };
  tagKeysInvalidated: number;
  attempts: number;
}

export type ApplyResult = { applied: true; report: ApplyReport } | { applied: false; attempts: number };

export async function applyPlan(
  plan: EffectPlan,
  sink: EffectSink,
  control: BatchControl,
  policy: BackoffPolicy,
  log: Logger,
  onRetry: () => void,
): Promise<ApplyResult> {
  const retry = new PausedRetry(control, policy);
  try {
    for (;;) {
      try {
        // Keys and tags go out together (one round trip group, not two). Either order is safe for a
        // key that is both a direct effect and a tag member: both only invalidate or move it forward.
        const [outcomes, tagged, bumps] = await Promise.all([
          plan.keys.length > 0 ? sink.applyKeyEffects(plan.keys) : Promise.resolve([]),
          plan.tags.length > 0 ? sink.invalidateTags(plan.tags) : Promise.resolve({ keysInvalidated: 0 }),
          plan.namespaces && plan.namespaces.length > 0 && sink.bumpNamespaces ? sink.bumpNamespaces(plan.namespaces) : Promise.resolve([]),
        ]);
        // A failed replica acknowledgement is a failed apply: retried below, nothing committed.
        if (sink.awaitReplicas) await sink.awaitReplicas();
        const counts: Record<EffectOutcome, number> = { deleted: 0, tombstoned: 0, warmed: 0, 'skipped-older': 0, 'warm-degraded-oom': 0 };
        for (const o of outcomes) counts[o] += 1;
        const attempts = retry.failures + 1;
        if (attempts > 1) log.info({ attempts }, 'redis is back: batch applied, partition resumed');
        const bumped = bumps.filter((b) => b.bumped).length;
        return {
          applied: true,
          report: {
            outcomes: counts,
            tagKeysInvalidated: tagged.keysInvalidated,
            attempts,
            namespaceBumps: { bumped, skipped: bumps.length - bumped },
          },
        };
      } catch (error) {
        onRetry();
        const err = (error as Error).message;
        const waited = await retry.backOff((attempt, retryInMs) => {
          if (attempt === 1 || (attempt - 1) % 10 === 0)
            log.warn({ err, attempt, retryInMs }, 'redis apply failed: partition paused, nothing committed past this batch, retrying');
        });
        if (!waited) {
          log.warn(
            { err, attempts: retry.failures + 1 },
            'apply failed and the batch is no longer ours: abandoning it uncommitted (it will be redelivered)',
          );
          return { applied: false, attempts: retry.failures + 1 };
        }
      }
    }
  } finally {
    retry.release();
  }
}
