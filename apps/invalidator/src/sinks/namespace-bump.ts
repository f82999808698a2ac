// Namespace bumps are applied by the PlanApplier with the chunk's other effects (in the same
// retry loop, before the commit: a bump is an invalidation). This after-apply hook counts them
// (invalidator_namespace_bumps_total{outcome="bumped"|"skipped"}), once per applied attempt.
import type { ApplyHook, ChunkPlan, PlanResult } from '@app/cache-protocol';

export class NamespaceBumpCounter implements ApplyHook {
  readonly name = 'count-namespace-bumps';

  constructor(private readonly onBump: (bumped: boolean) => void) {}

  beforeApply(): void {}

  afterApply(_plan: ChunkPlan, result: PlanResult): void {
    for (const r of result.namespaces) this.onBump(r.bumped);
  }
}
