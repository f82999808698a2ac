import { PlanApplier, PlanEffects } from '@app/cache-protocol';
import type { BusChange } from '@app/cache-protocol/bus';
import { BusAnnounceHook } from './bus-announce';

const bumps = ['catalog:', 'other:'].map((namespace) => ({ namespace, entity: 'product:1', version: 3, recordTtlMs: 1000 }));

function effects(overrides: Partial<PlanEffects> = {}): PlanEffects {
  return {
    applyKeyEffects: async (effects) => effects.map((e) => (e.action === 'warm' ? 'warmed' : 'tombstoned')),
    invalidateTags: async () => ({ keysInvalidated: 3 }),
    bumpNamespaces: async (bumps) => bumps.map((b, i) => ({ namespace: b.namespace, bumped: i === 0, generation: 7 })),
    checkKeyEffect: () => undefined,
    checkTag: () => undefined,
    ...overrides,
  };
}

function publisher(log: string[] = [], announce: (c: BusChange) => Promise<'ok' | 'failed'> = async () => 'ok') {
  const sent: BusChange[] = [];
  return {
    sent,
    announce: (c: BusChange) => (log.push('announce'), sent.push(c), announce(c)),
    hold: () => (log.push('hold'), () => void log.push('release')),
    requireReset: () => void log.push('reset'),
  };
}

describe('BusAnnounceHook', () => {
  it('announces the applied chunk in one message: keys (with versions; warmed = w), tags and every bumped or skipped namespace', async () => {
    const bus = publisher();
    await new PlanApplier(effects(), [new BusAnnounceHook(bus)]).apply({
      keys: [
        { key: 'product:1', version: 3, action: 'tombstone', tombstoneTtlMs: 1000 },
        { key: 'product:2', version: 4, action: 'warm', tombstoneTtlMs: 1000, value: '{}' },
      ],
      tags: [{ tag: 'category:5', version: 1, tombstoneTtlMs: 1000 }],
      namespaces: bumps,
    });
    // the skipped bump (already landed, maybe in a failed attempt) is announced too
    expect(bus.sent).toEqual([
      {
        keys: [
          ['product:1', 3, 'i'],
          ['product:2', 4, 'w'],
        ],
        tags: ['category:5'],
        namespaces: [
          ['catalog:', 7],
          ['other:', 7],
        ],
      },
    ]);
  });

  it('a retry that finds a bump already landed (skipped) announces it; a failed attempt announces nothing', async () => {
    const bus = publisher();
    let attempt = 0;
    const applier = new PlanApplier(
      effects({
        bumpNamespaces: async (bumps) => {
          attempt += 1;
          if (attempt === 1) throw new Error('WRONGTYPE on the second namespace');
          return bumps.map((b) => ({ namespace: b.namespace, bumped: b.namespace !== 'catalog:', generation: 4 }));
        },
      }),
      [new BusAnnounceHook(bus)],
    );
    const plan = { keys: [], tags: [], namespaces: bumps };
    await expect(applier.apply(plan)).rejects.toThrow('WRONGTYPE');
    expect(bus.sent).toEqual([]);
    await applier.apply(plan);
    expect(bus.sent).toEqual([
      {
        keys: [],
        tags: [],
        namespaces: [
          ['catalog:', 4],
          ['other:', 4],
        ],
      },
    ]);
  });

  it('holds the publisher from before each attempt until its announce is under way (also when the attempt fails)', async () => {
    const log: string[] = [];
    let fail = false;
    const applier = new PlanApplier(
      effects({
        applyKeyEffects: async () => (log.push('apply'), ['tombstoned']),
        invalidateTags: async () => {
          log.push('apply-tags');
          if (fail) throw new Error('down');
          return { keysInvalidated: 0 };
        },
      }),
      [new BusAnnounceHook(publisher(log))],
    );
    const plan = {
      keys: [{ key: 'product:1', version: 3, action: 'tombstone' as const, tombstoneTtlMs: 1000 }],
      tags: [{ tag: 't', version: 1, tombstoneTtlMs: 1000 }],
    };
    await applier.apply(plan);
    fail = true;
    await expect(applier.apply(plan)).rejects.toThrow('down');
    expect(log).toEqual(['hold', 'apply', 'apply-tags', 'announce', 'release', 'hold', 'apply', 'apply-tags', 'reset', 'release']);
  });

  it('a failing announce never fails or delays the apply', async () => {
    const bus = publisher([], () => new Promise(() => undefined)); // never settles
    const applier = new PlanApplier(effects(), [new BusAnnounceHook(bus)]);
    await expect(
      applier.apply({ keys: [{ key: 'product:1', version: 3, action: 'tombstone', tombstoneTtlMs: 1000 }], tags: [] }),
    ).resolves.toMatchObject({ outcomes: ['tombstoned'] });
  });

  it('a failed attempt, whose keys may have landed, makes the next bus message a reset before the hold ends', async () => {
    const log: string[] = [];
    const bus = publisher(log);
    const applier = new PlanApplier(
      effects({
        invalidateTags: () => Promise.reject(new Error('Redis went away')),
      }),
      [new BusAnnounceHook(bus)],
    );
    const plan = {
      keys: [{ key: 'product:1', version: 3, action: 'tombstone' as const, tombstoneTtlMs: 1000 }],
      tags: [{ tag: 't', version: 1, tombstoneTtlMs: 1000 }],
    };
    await expect(applier.apply(plan)).rejects.toThrow('Redis went away');
    // the reset is required while the hold still keeps heartbeats back: none can vouch in between
    expect(log).toEqual(['hold', 'reset', 'release']);
    log.length = 0;
    await new PlanApplier(effects(), [new BusAnnounceHook(bus)]).apply(plan);
    expect(log).toEqual(['hold', 'announce', 'release']);
  });
});
