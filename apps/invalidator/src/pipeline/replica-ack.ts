// Step 6b (opt-in, REDIS_WAIT_REPLICAS > 0): after a chunk's effects are applied (keys, tags AND
// namespace bumps) and before its offsets are committed, ask Redis to confirm that enough
// replicas hold them (WAIT numreplicas timeout, on the connection that wrote them; on a cluster
// on every master). An after-apply hook of the PlanApplier (plan-applier.ts): too few acks in
// time is an apply failure, and applyPlan retries the (idempotent) apply with backoff,
// heartbeats, commits nothing. Without it, a primary that acknowledged effects and dies before replicating
// them takes committed invalidations with it (docs/operations.md, "Replica-acknowledged apply").
import type Redis from 'ioredis';
import type { Cluster } from 'ioredis';
import type { ApplyHook } from '@app/cache-protocol';

export class ReplicaAckError extends Error {
  readonly code = 'REPLICA_ACK_TIMEOUT';
}

export interface ReplicaAckOptions {
  replicas: number;
  timeoutMs: number;
  /** Called once per WAIT that got fewer acknowledgements than `replicas`. */
  onShortfall?: (node: string, acked: number) => void;
}

function nodeName(redis: Redis): string {
  return `${redis.options.host ?? '?'}:${redis.options.port ?? '?'}`;
}

/** WAIT on the node(s) that received the chunk's writes; throws ReplicaAckError when any got fewer than `replicas` acks within `timeoutMs`. */
export async function waitForReplicas(redis: Redis | Cluster, options: ReplicaAckOptions): Promise<void> {
  // WAIT counts the writes of the connection it is sent on: the same connections the effects
  // went through (ioredis keeps one per node). On a cluster, every master (writes of a chunk
  // usually reach all of them; WAIT on one without pending writes returns at once).
  const nodes: Redis[] = redis.isCluster ? (redis as Cluster).nodes('master') : [redis as Redis];
  const results = await Promise.all(
    nodes.map(async (node) => ({
      node: nodeName(node),
      acked: Number(await node.call('WAIT', String(options.replicas), String(options.timeoutMs))),
    })),
  );
  const short = results.filter((r) => r.acked < options.replicas);
  if (short.length === 0) return;
  for (const s of short) options.onShortfall?.(s.node, s.acked);
  throw new ReplicaAckError(
    `WAIT ${options.replicas} ${options.timeoutMs}: ${short.map((s) => `${s.node} got ${s.acked} replica ack(s)`).join(', ')} (REDIS_WAIT_REPLICAS=${options.replicas}); not committing`,
  );
}

/** The after-apply hook: WAIT once every effect of the chunk is in Redis; throws (fails the apply) on a shortfall. */
export class ReplicaAckHook implements ApplyHook {
  readonly name = 'replica-ack';

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly options: ReplicaAckOptions,
  ) {}

  beforeApply(): void {}

  afterApply(): Promise<void> {
    return waitForReplicas(this.redis, this.options);
  }
}
