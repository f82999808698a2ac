// The invalidator's PlanApplier (libs/cache-protocol plan-applier.ts): every chunk's keys, tags and
// namespace bumps through the cache protocol, then these after-apply hooks, in this order:
//   1 count-namespace-bumps  invalidator_namespace_bumps_total{outcome} (sinks/namespace-bump.ts)
//   2 bus-announce           BUS_ENABLED: the chunk's changes on the bus (sinks/bus-announce.ts),
//                            held from before the apply, announced as early as possible
//   3 replica-ack            REDIS_WAIT_REPLICAS > 0: WAIT for the replicas (replica-ack.ts); last,
//                            so it covers every write of the attempt; a shortfall fails the apply
// Built here (not in runtime.ts) so a unit test builds exactly what the runtime runs.
import type Redis from 'ioredis';
import type { Cluster } from 'ioredis';
import { ApplyHook, PlanApplier, PlanEffects } from '@app/cache-protocol';
import type { BusPublisher } from '@app/cache-protocol/bus';
import { BusAnnounceHook } from '../sinks/bus-announce';
import { NamespaceBumpCounter } from '../sinks/namespace-bump';
import { ReplicaAckHook, ReplicaAckOptions } from './replica-ack';

export interface InvalidatorApplySetup {
  /** Called once per namespace bump of an applied attempt: bumped, or skipped (duplicate/older replay). */
  onNamespaceBump: (bumped: boolean) => void;
  /** BUS_ENABLED: the publisher. */
  bus?: Pick<BusPublisher, 'announce' | 'hold' | 'requireReset'>;
  /** REDIS_WAIT_REPLICAS > 0: the connection the effects go through, and the WAIT settings. */
  replicaAck?: { redis: Redis | Cluster; options: ReplicaAckOptions };
}

export function invalidatorPlanApplier(effects: PlanEffects, setup: InvalidatorApplySetup): PlanApplier {
  const hooks: ApplyHook[] = [new NamespaceBumpCounter(setup.onNamespaceBump)];
  if (setup.bus) hooks.push(new BusAnnounceHook(setup.bus));
  if (setup.replicaAck) hooks.push(new ReplicaAckHook(setup.replicaAck.redis, setup.replicaAck.options));
  return new PlanApplier(effects, hooks);
}
