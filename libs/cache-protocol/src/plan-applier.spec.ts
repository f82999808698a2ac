import { ApplyHook, PlanApplier, PlanEffects } from './plan-applier';

function effects(log: string[], failing?: 'keys' | 'tags' | 'bumps'): PlanEffects {
  const step = (name: 'keys' | 'tags' | 'bumps') => {
    log.push(name);
    if (failing === name) throw new Error(`${name} failed`);
  };
  return {
    applyKeyEffects: async (effects) => (step('keys'), effects.map(() => 'deleted' as const)),
    invalidateTags: async () => (step('tags'), { keysInvalidated: 4 }),
    bumpNamespaces: async (bumps) => (step('bumps'), bumps.map((b) => ({ namespace: b.namespace, bumped: false, generation: 2 }))),
    checkKeyEffect: (e) => (e.key === 'bad' ? new Error('bad key') : undefined),
    checkTag: () => undefined,
  };
}

function hook(name: string, log: string[], options: { hold?: boolean; fail?: boolean } = {}): ApplyHook {
  return {
    name,
    beforeApply: () => (options.hold ? () => void log.push(`${name} release`) : undefined),
    afterApply: async (_plan, result) => {
      log.push(`${name} after ${result.outcomes.length}/${result.keysInvalidated}/${result.namespaces.length}`);
      if (options.fail) throw new Error(`${name} failed`);
    },
  };
}

const plan = {
  keys: [{ key: 'k', version: 1, action: 'delete' as const, tombstoneTtlMs: 1000 }],
  tags: [{ tag: 't', version: 1, tombstoneTtlMs: 1000 }],
  namespaces: [{ namespace: 'n:', entity: 'e|1', version: 1, recordTtlMs: 1000 }],
};

describe('PlanApplier', () => {
  it('applies every kind of effect, then runs the hooks in list order with the results', async () => {
    const log: string[] = [];
    const applier = new PlanApplier(effects(log), [hook('a', log, { hold: true }), hook('b', log)]);
    await expect(applier.apply(plan)).resolves.toEqual({
      outcomes: ['deleted'],
      keysInvalidated: 4,
      namespaces: [{ namespace: 'n:', bumped: false, generation: 2 }],
    });
    expect(log).toEqual(['keys', 'tags', 'bumps', 'a after 1/4/1', 'a release', 'b after 1/4/1']);
  });

  it('sends nothing for a kind the plan does not have', async () => {
    const log: string[] = [];
    await expect(new PlanApplier(effects(log)).apply({ keys: [], tags: [] })).resolves.toEqual({
      outcomes: [],
      keysInvalidated: 0,
      namespaces: [],
    });
    expect(log).toEqual([]);
  });

  it('a hook that throws fails the apply: the later hooks do not run, every hold is released', async () => {
    const log: string[] = [];
    const applier = new PlanApplier(effects(log), [hook('a', log, { fail: true }), hook('b', log, { hold: true })]);
    await expect(applier.apply(plan)).rejects.toThrow('a failed');
    expect(log).toEqual(['keys', 'tags', 'bumps', 'a after 1/4/1', 'b release']);
  });

  it('an effect that fails fails the apply before any hook runs (holds released)', async () => {
    const log: string[] = [];
    const applier = new PlanApplier(effects(log, 'bumps'), [hook('a', log, { hold: true })]);
    await expect(applier.apply(plan)).rejects.toThrow('bumps failed');
    expect(log).toEqual(['keys', 'tags', 'bumps', 'a release']);
  });

  it('answers the protocol checks, bound (passed around as plain functions)', () => {
    const { checkKeyEffect, checkTag } = new PlanApplier(effects([]));
    expect(checkKeyEffect({ key: 'bad', version: 1, action: 'delete', tombstoneTtlMs: 1 })?.message).toBe('bad key');
    expect(checkTag('t')).toBeUndefined();
  });

  it('refuses a hook listed twice', () => {
    expect(() => new PlanApplier(effects([]), [hook('a', []), hook('a', [])])).toThrow('hook "a" is listed twice');
  });
});
