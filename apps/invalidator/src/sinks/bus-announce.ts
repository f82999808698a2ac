// The invalidation bus: after a chunk's effects are applied to Redis, the invalidator
// announces what changed (keys with versions, tags, namespace bumps: one message per chunk) on a
// Redis Stream every cache-client instance reads, so each drops its L1 copies. An after-apply
// hook of the PlanApplier (pipeline/plan-applier.ts), before the replica acknowledgement.
// Announced right after the apply, before the replica acknowledgement and the commit, without
// waiting for either: readers' L1 staleness starts at the apply, so
// the earliest point is the right one (waiting for the commit would only add delay; a
// redelivered chunk is applied and announced again, which costs readers extra misses only).
// The announce is never awaited by the pipeline: it cannot block the partition. A lost or slow
// announce is counted (cache_bus_published_total{outcome}) and logged (rate-limited), and the
// publisher's next message is a `reset` (readers drop all of L1) before heartbeats resume.
// An attempt that failed announces nothing, though effects of it may have landed: the publisher's
// next message is then a `reset` (readers drop their L1 instead of trusting heartbeats until the
// retry's announce, which an abandoned batch never sends), and the retry applies and announces
// the whole plan. So every key and tag is announced whatever its outcome, and every
// namespace bump with the namespace's current generation, also one the script skipped. A skip is
// a bump that already landed, possibly in an earlier attempt whose apply failed as a whole before
// anything was announced (or in another instance that died before announcing): this call may be
// the only announce it ever gets.
import type { ApplyHook, ChunkPlan, EffectOutcome, PlanResult } from '@app/cache-protocol';
import type { BusKeyOp, BusPublisher } from '@app/cache-protocol/bus';

export class BusAnnounceHook implements ApplyHook {
  readonly name = 'bus-announce';

  constructor(private readonly publisher: Pick<BusPublisher, 'announce' | 'hold' | 'requireReset'>) {}

  /** Held from before the attempt sends anything until its announce is under way (or it failed): a heartbeat in between must not vouch for a change that is in Redis and not yet announced. */
  beforeApply(): (afterApplyRan: boolean) => void {
    const release = this.publisher.hold();
    return (afterApplyRan) => {
      // failed: effects may be in Redis unannounced; the reset goes out before any heartbeat
      if (!afterApplyRan) this.publisher.requireReset();
      release();
    };
  }

  /** Never throws and never waits: a lost or slow announce is counted and followed by a reset (BusPublisher). */
  afterApply(plan: ChunkPlan, result: PlanResult): void {
    const keys: [string, number, BusKeyOp][] = new Array<[string, number, BusKeyOp]>(plan.keys.length);
    for (let i = 0; i < plan.keys.length; i += 1) {
      const e = plan.keys[i];
      keys[i] = [e.key, e.version, written(result.outcomes[i]) ? 'w' : 'i'];
    }
    const tags: string[] = new Array<string>(plan.tags.length);
    for (let i = 0; i < plan.tags.length; i += 1) tags[i] = plan.tags[i].tag;
    const namespaces: [string, number][] = [];
    for (const r of result.namespaces) if (r.generation > 0) namespaces.push([r.namespace, r.generation]);
    void this.publisher.announce({ keys, tags, namespaces });
  }
}

function written(outcome: EffectOutcome): boolean {
  return outcome === 'warmed';
}
