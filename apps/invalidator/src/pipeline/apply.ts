// Step 6 of the pipeline (invalidation.pipeline.ts), apply: apply the plan to Redis through
// libs/cache-protocol's PlanApplier (every kind of effect, then its after-apply hooks: see
// plan-applier.ts here for the invalidator's list), retrying until it is in Redis or the batch is
// no longer ours. Every operation is idempotent and version-guarded, so a retry after a partial
// apply (or a redelivery after a crash) is harmless.
import type { EffectOutcome } from '@app/cache-protocol/effects';
import type { PlanApplier } from '@app/cache-protocol';
import type { BatchControl } from '@app/kafka';
import type { Logger } from '@app/telemetry';
import { BackoffPolicy, PausedRetry } from './backoff';
import { EffectPlan } from './resolve';

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
  applier: Pick<PlanApplier, 'apply'>,
  control: BatchControl,
  policy: BackoffPolicy,
  log: Logger,
  onRetry: () => void,
): Promise<ApplyResult> {
  const retry = new PausedRetry(control, policy);
  try {
    for (;;) {
      try {
        // Keys, tags and namespace bumps, then the hooks (a failed replica acknowledgement is a
        // failed apply: retried below, nothing committed).
        const { outcomes, keysInvalidated, namespaces: bumps } = await applier.apply(plan);
        const counts: Record<EffectOutcome, number> = { deleted: 0, tombstoned: 0, warmed: 0, 'skipped-older': 0, 'warm-degraded-oom': 0 };
        for (const o of outcomes) counts[o] += 1;
        const attempts = retry.failures + 1;
        if (attempts > 1) log.info({ attempts }, 'redis is back: batch applied, partition resumed');
        let bumped = 0;
        for (const b of bumps) if (b.bumped) bumped += 1;
        return {
          applied: true,
          report: {
            outcomes: counts,
            tagKeysInvalidated: keysInvalidated,
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
