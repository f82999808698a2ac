// The invalidator's PlanApplier, built exactly as the runtime builds it, with every option on
// (bus announce, replica ack): every kind of effect is applied, and the hooks run after them, in
// order. With the effect sink of wrappers this replaced, the order of wrapping decided whether
// namespace bumps were applied at all (a wrapper that did not re-list bumpNamespaces dropped them
// without an error).
import pino from 'pino';
import type Redis from 'ioredis';
import type { BatchControl } from '@app/kafka';
import type { PlanEffects } from '@app/cache-protocol';
import type { BusChange } from '@app/cache-protocol/bus';
import { applyPlan } from './apply';
import { invalidatorPlanApplier } from './plan-applier';
import type { EffectPlan } from './resolve';

const control: BatchControl = {
  resolveAndCommit: async () => undefined,
  heartbeat: async () => undefined,
  isActive: () => true,
  pausePartition: () => undefined,
  resumePartition: () => undefined,
};

const plan: EffectPlan = {
  keys: [
    { key: 'product:1', version: 3, action: 'tombstone', tombstoneTtlMs: 1000 },
    { key: 'product:2', version: 3, action: 'warm', tombstoneTtlMs: 1000, value: '{}' },
  ],
  tags: [{ tag: 'category:5', version: 3, tombstoneTtlMs: 1000 }],
  namespaces: [{ namespace: 'pricing:', entity: 'acme|product|1', version: 3, recordTtlMs: 60_000 }],
  unmapped: 0,
  unresolvable: [],
};

/** Every option on, each collaborator writing what it was asked into `log`. WAIT answers the next of `acks`. */
function everythingOn(acks: number[]) {
  const log: string[] = [];
  const sent: BusChange[] = [];
  const effects: PlanEffects = {
    applyKeyEffects: async (effects) => (log.push('keys'), effects.map((e) => (e.action === 'warm' ? 'warmed' : 'tombstoned'))),
    invalidateTags: async (tags) => (log.push(`tags ${tags.map((t) => t.tag).join()}`), { keysInvalidated: 2 }),
    bumpNamespaces: async (bumps) => (
      log.push(`bump ${bumps.map((b) => b.namespace).join()}`),
      bumps.map((b) => ({ namespace: b.namespace, bumped: true, generation: 5 }))
    ),
    checkKeyEffect: () => undefined,
    checkTag: () => undefined,
  };
  const redis = {
    isCluster: false,
    options: { host: '127.0.0.1', port: 7000 },
    call: async (...args: string[]) => (log.push(args[0]), acks.shift() ?? 0),
  } as unknown as Redis;
  const applier = invalidatorPlanApplier(effects, {
    onNamespaceBump: (bumped) => log.push(`counted ${bumped ? 'bumped' : 'skipped'}`),
    bus: {
      announce: async (change) => (log.push('announce'), sent.push(change), 'ok'),
      hold: () => (log.push('hold'), () => void log.push('release')),
      requireReset: () => void log.push('reset'),
    },
    replicaAck: { redis, options: { replicas: 1, timeoutMs: 10 } },
  });
  return { log, sent, applier };
}

describe('the invalidator PlanApplier with every option on', () => {
  it('runs its hooks in this order: count the bumps, announce on the bus, wait for replicas', () => {
    expect(everythingOn([]).applier.hookNames).toEqual(['count-namespace-bumps', 'bus-announce', 'replica-ack']);
  });

  it('applies keys, tags AND namespace bumps, then counts, announces and waits for replicas after them', async () => {
    const { log, sent, applier } = everythingOn([1]);
    const result = await applyPlan(plan, applier, control, { initialMs: 1, maxMs: 2 }, pino({ level: 'silent' }), () => undefined);
    expect(result).toEqual({
      applied: true,
      report: {
        outcomes: { deleted: 0, tombstoned: 1, warmed: 1, 'skipped-older': 0, 'warm-degraded-oom': 0 },
        tagKeysInvalidated: 2,
        attempts: 1,
        namespaceBumps: { bumped: 1, skipped: 0 },
      },
    });
    expect(log).toEqual(['hold', 'keys', 'tags category:5', 'bump pricing:', 'counted bumped', 'announce', 'release', 'WAIT']);
    expect(sent).toEqual([
      {
        keys: [
          ['product:1', 3, 'i'],
          ['product:2', 3, 'w'],
        ],
        tags: ['category:5'],
        namespaces: [['pricing:', 5]],
      },
    ]);
  });

  it('too few replica acks fail the apply: every kind (bumps too) is applied again before the next WAIT, nothing reported applied until then', async () => {
    const { log, applier } = everythingOn([0, 1]);
    let retries = 0;
    const result = await applyPlan(plan, applier, control, { initialMs: 1, maxMs: 2 }, pino({ level: 'silent' }), () => retries++);
    expect(result.applied).toBe(true);
    expect(retries).toBe(1);
    const attempt = ['hold', 'keys', 'tags category:5', 'bump pricing:', 'counted bumped', 'announce', 'release', 'WAIT'];
    expect(log).toEqual([...attempt, ...attempt]);
  });
});
