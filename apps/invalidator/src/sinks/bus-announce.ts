// The invalidation bus: after a chunk's effects are applied to Redis, the invalidator
// announces what changed (keys with versions, tags, namespace bumps) on a Redis Stream every
// cache-client instance reads, so each drops its L1 copies. Announced right after the apply,
// before the commit and without waiting for it: readers' L1 staleness starts at the apply, so
// the earliest point is the right one (waiting for the commit would only add delay; a
// redelivered chunk is applied and announced again, which costs readers extra misses only).
// The announce is never awaited by the pipeline: it cannot block the partition. A lost or slow
// announce is counted (cache_bus_published_total{outcome}) and logged (rate-limited), and the
// publisher's next message is a `reset` (readers drop all of L1) before heartbeats resume.
// Namespace bumps: every bump of the chunk is announced with the namespace's current generation,
// also one the script skipped. A skip is a bump that already landed, possibly in an earlier
// attempt whose apply failed as a whole before anything was announced (or in another instance
// that died before announcing): this call may be the only announce it ever gets.
import type { EffectOutcome } from '@app/cache-protocol/effects';
import type { BusKeyOp, BusPublisher } from '@app/cache-protocol/bus';
import type { EffectSink } from '../pipeline/apply';

const WRITTEN: ReadonlySet<EffectOutcome> = new Set<EffectOutcome>(['warmed']);

export function withBusAnnounce(
  sink: EffectSink,
  publisher: Pick<BusPublisher, 'announce'> & Partial<Pick<BusPublisher, 'hold'>>,
): EffectSink {
  // Each apply is held from before it is sent until its announce is under way: a heartbeat in
  // between must not vouch for a change that is in Redis and not yet announced.
  const held = async <T>(apply: () => Promise<T>, announce: (result: T) => void): Promise<T> => {
    const release = publisher.hold?.();
    try {
      const result = await apply();
      announce(result);
      return result;
    } finally {
      release?.();
    }
  };
  return {
    applyKeyEffects: (effects) =>
      held(
        () => sink.applyKeyEffects(effects),
        (outcomes) =>
          void publisher.announce({
            keys: effects.map((e, i): [string, number, BusKeyOp] => [e.key, e.version, WRITTEN.has(outcomes[i]) ? 'w' : 'i']),
          }),
      ),
    invalidateTags: (tags) =>
      held(
        () => sink.invalidateTags(tags),
        () => void publisher.announce({ tags: tags.map((t) => t.tag) }),
      ),
    checkKeyEffect: sink.checkKeyEffect?.bind(sink),
    checkTag: sink.checkTag?.bind(sink),
    awaitReplicas: sink.awaitReplicas?.bind(sink),
    bumpNamespaces: sink.bumpNamespaces
      ? (bumps) =>
          held(
            () => sink.bumpNamespaces!(bumps),
            (results) => {
              const namespaces = (results as Array<{ bumped: boolean; namespace?: string; generation?: number }>)
                .filter((r) => typeof r.namespace === 'string' && typeof r.generation === 'number' && r.generation > 0)
                .map((r): [string, number] => [r.namespace!, r.generation!]);
              if (namespaces.length > 0) void publisher.announce({ namespaces });
            },
          )
      : undefined,
  };
}
