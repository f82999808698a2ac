// Namespace bumps as part of the apply step: the effect sink gains bumpNamespaces,
// run in the same retry loop as the key effects, before the commit (a bump is an invalidation).
import { bumpNamespaces, defineNamespaceBumpCommand, RedisConnection } from '@app/cache-protocol';
import type { EffectSink } from '../pipeline/apply';

export function withNamespaceBumps(
  sink: EffectSink,
  redis: RedisConnection,
  onBump: (bumped: boolean) => void = () => undefined,
): EffectSink {
  // Now, before any command: the connection auto-pipelines (see defineNamespaceBumpCommand).
  defineNamespaceBumpCommand(redis);
  return {
    applyKeyEffects: (effects) => sink.applyKeyEffects(effects),
    invalidateTags: (tags) => sink.invalidateTags(tags),
    checkKeyEffect: sink.checkKeyEffect?.bind(sink),
    checkTag: sink.checkTag?.bind(sink),
    awaitReplicas: sink.awaitReplicas?.bind(sink),
    bumpNamespaces: async (bumps) => {
      const results = await bumpNamespaces(redis, bumps);
      for (const r of results) onBump(r.bumped);
      return results;
    },
  };
}
