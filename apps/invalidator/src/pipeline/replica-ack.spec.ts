// REDIS_WAIT_REPLICAS: too few replica acks is a failed apply (retried, nothing committed).
import pino from 'pino';
import type Redis from 'ioredis';
import type { BatchControl } from '@app/kafka';
import { PlanApplier, PlanEffects } from '@app/cache-protocol';
import { applyPlan } from './apply';
import { ReplicaAckError, ReplicaAckHook, waitForReplicas } from './replica-ack';

const silent = pino({ level: 'silent' });

function control(): BatchControl & { paused: number; resumed: number } {
  return {
    paused: 0,
    resumed: 0,
    async resolveAndCommit() {},
    async heartbeat() {},
    isActive: () => true,
    pausePartition() {
      this.paused += 1;
    },
    resumePartition() {
      this.resumed += 1;
    },
  };
}

/** A standalone ioredis stand-in whose WAIT answers the next number of `acks`. */
function fakeRedis(acks: number[]): Redis & { waits: string[][] } {
  const waits: string[][] = [];
  return {
    isCluster: false,
    options: { host: '127.0.0.1', port: 7000 },
    waits,
    call: async (...args: string[]) => (waits.push(args), acks.shift() ?? 0),
  } as unknown as Redis & { waits: string[][] };
}

describe('replica-acknowledged apply', () => {
  it('WAITs with the configured count and timeout, and throws when fewer replicas acknowledged', async () => {
    const redis = fakeRedis([1, 0]);
    const shortfalls: string[] = [];
    await waitForReplicas(redis, { replicas: 1, timeoutMs: 250 });
    await expect(
      waitForReplicas(redis, { replicas: 1, timeoutMs: 250, onShortfall: (node, acked) => shortfalls.push(`${node}=${acked}`) }),
    ).rejects.toThrow(ReplicaAckError);
    expect(redis.waits).toEqual([
      ['WAIT', '1', '250'],
      ['WAIT', '1', '250'],
    ]);
    expect(shortfalls).toEqual(['127.0.0.1:7000=0']);
  });

  it('applyPlan re-applies (idempotent) until the replicas acknowledge, and only then reports applied', async () => {
    let applies = 0;
    const effects: PlanEffects = {
      applyKeyEffects: async (effects) => (applies++, effects.map(() => 'deleted' as const)),
      invalidateTags: async () => ({ keysInvalidated: 0 }),
      bumpNamespaces: async () => [],
      checkKeyEffect: () => undefined,
      checkTag: () => undefined,
    };
    const redis = fakeRedis([0, 0, 1]);
    const ctl = control();
    let retries = 0;
    const result = await applyPlan(
      { keys: [{ key: 'k', version: 1, action: 'delete', tombstoneTtlMs: 1000 }], tags: [], unmapped: 0, unresolvable: [] },
      new PlanApplier(effects, [new ReplicaAckHook(redis, { replicas: 1, timeoutMs: 10 })]),
      ctl,
      { initialMs: 1, maxMs: 2 },
      silent,
      () => retries++,
    );
    expect(result.applied).toBe(true);
    expect(applies).toBe(3);
    expect(retries).toBe(2);
    expect(redis.waits).toHaveLength(3);
    expect(ctl.paused).toBe(1);
    expect(ctl.resumed).toBe(1);
  });
});
