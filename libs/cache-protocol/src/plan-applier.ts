// One object applies a chunk's whole plan: key effects, tag invalidations and namespace bumps,
// each kind through the protocol's scripts, every time (no kind can be left out by the way the
// object was put together), then an explicit, ordered list of hooks (the invalidator's: count
// the bumps, announce on the bus, wait for replicas). A hook that throws fails the apply, as an
// effect that fails does: the caller applies the whole (idempotent) plan again and commits
// nothing meanwhile. See README.md "Applying a plan".
import type { EffectOutcome, KeyEffect, TagEffect } from './effects';
import type { NamespaceBump } from './namespace-bump';
import type { NamespaceBumpResult } from './scripts';

/** What a chunk asks of Redis. `namespaces` absent = none. */
export interface ChunkPlan {
  readonly keys: KeyEffect[];
  readonly tags: TagEffect[];
  readonly namespaces?: readonly NamespaceBump[];
}

/** What Redis answered, for every kind (empty when the plan had none of it). */
export interface PlanResult {
  /** outcomes[i] answers plan.keys[i]. */
  readonly outcomes: EffectOutcome[];
  /** Tag members invalidated by plan.tags. */
  readonly keysInvalidated: number;
  /** namespaces[i] answers plan.namespaces[i]: bumped, or skipped as a duplicate/older replay. */
  readonly namespaces: NamespaceBumpResult[];
}

/**
 * Runs around each apply attempt, in list order. Both methods are required: a hook says what it
 * does before and after, and an empty method says it does nothing there.
 */
export interface ApplyHook {
  /** Names the hook (in hookNames; a list holds each name once). */
  readonly name: string;
  /**
   * Before the attempt sends anything (synchronous, must not throw). May return a release, called
   * right after this hook's afterApply (with true), or when the attempt failed before it ran to its
   * end (with false: effects of the attempt may be in Redis all the same). The bus publisher's
   * hold: heartbeats must not vouch for a change that is in Redis and not yet announced.
   */
  beforeApply(plan: ChunkPlan): ((afterApplyRan: boolean) => void) | void;
  /** Once every effect of the plan is in Redis, in list order. A throw (or rejection) fails the apply: later hooks do not run. */
  afterApply(plan: ChunkPlan, result: PlanResult): void | Promise<void>;
}

/** What a PlanApplier applies effects with: CacheProtocol (tests may fake it). Every method is required. */
export interface PlanEffects {
  applyKeyEffects(effects: KeyEffect[]): Promise<EffectOutcome[]>;
  invalidateTags(tags: TagEffect[]): Promise<{ keysInvalidated: number }>;
  bumpNamespaces(bumps: readonly NamespaceBump[]): Promise<NamespaceBumpResult[]>;
  /**
   * Why a key effect would be refused without touching Redis (never retriable). The caller may
   * reuse one object for every call (the invalidator's resolve step does): read it, never keep it.
   */
  checkKeyEffect(effect: KeyEffect): Error | undefined;
  checkTag(tag: string): Error | undefined;
}

export class PlanApplier {
  private readonly hooks: readonly ApplyHook[];

  constructor(
    private readonly effects: PlanEffects,
    hooks: readonly ApplyHook[] = [],
  ) {
    const names = new Set<string>();
    for (const hook of hooks) {
      if (names.has(hook.name)) throw new Error(`PlanApplier: hook "${hook.name}" is listed twice`);
      names.add(hook.name);
    }
    this.hooks = [...hooks];
  }

  /** The hooks' names, in the order they run. */
  get hookNames(): string[] {
    return this.hooks.map((h) => h.name);
  }

  /** Why a key effect would be refused without touching Redis (never retriable): dead-letter it instead. Bound: pass it around as is. */
  readonly checkKeyEffect = (effect: KeyEffect): Error | undefined => this.effects.checkKeyEffect(effect);

  /** The same for a tag. */
  readonly checkTag = (tag: string): Error | undefined => this.effects.checkTag(tag);

  /**
   * One attempt: every kind of effect of the plan at once (keys, tags and namespace bumps go out
   * together: one round-trip group; either order is safe for a key that is both a direct effect
   * and a tag member, both only invalidate or move it forward), then each hook's afterApply in
   * order. Rejects when an effect or a hook failed; running it again is always safe.
   */
  async apply(plan: ChunkPlan): Promise<PlanResult> {
    const hooks = this.hooks;
    let releases: (((afterApplyRan: boolean) => void) | undefined)[] | undefined;
    try {
      for (let i = 0; i < hooks.length; i += 1) {
        const release = hooks[i].beforeApply(plan);
        if (release) (releases ??= new Array<((afterApplyRan: boolean) => void) | undefined>(hooks.length))[i] = release;
      }
      const namespaces = plan.namespaces;
      const [outcomes, tagged, bumps] = await Promise.all([
        plan.keys.length > 0 ? this.effects.applyKeyEffects(plan.keys) : Promise.resolve([]),
        plan.tags.length > 0 ? this.effects.invalidateTags(plan.tags) : Promise.resolve({ keysInvalidated: 0 }),
        namespaces !== undefined && namespaces.length > 0 ? this.effects.bumpNamespaces(namespaces) : Promise.resolve([]),
      ]);
      const result: PlanResult = { outcomes, keysInvalidated: tagged.keysInvalidated, namespaces: bumps };
      for (let i = 0; i < hooks.length; i += 1) {
        let ran = false;
        try {
          await hooks[i].afterApply(plan, result);
          ran = true;
        } finally {
          // a hook's release follows its own afterApply (the bus: once the announce is under way), not the later hooks
          releaseHook(releases, i, ran);
        }
      }
      return result;
    } finally {
      if (releases) for (let i = releases.length - 1; i >= 0; i -= 1) releaseHook(releases, i, false);
    }
  }
}

/** Calls hook i's release once (then forgets it). */
function releaseHook(releases: (((afterApplyRan: boolean) => void) | undefined)[] | undefined, i: number, afterApplyRan: boolean): void {
  if (releases === undefined) return;
  const release = releases[i];
  if (release === undefined) return;
  releases[i] = undefined;
  release(afterApplyRan);
}
