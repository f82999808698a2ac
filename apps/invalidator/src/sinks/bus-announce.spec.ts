import type { BusChange } from '@app/cache-protocol/bus';
import type { EffectSink } from '../pipeline/apply';
import { withBusAnnounce } from './bus-announce';

describe('withBusAnnounce', () => {
  function setup(announce: (c: BusChange) => Promise<'ok' | 'failed'> = async () => 'ok') {
    const sent: BusChange[] = [];
    const sink: EffectSink = {
      applyKeyEffects: async (effects) => effects.map((e) => (e.action === 'warm' ? 'warmed' : 'tombstoned')),
      invalidateTags: async () => ({ keysInvalidated: 3 }),
      bumpNamespaces: async (bumps) => bumps.map((b, i) => ({ namespace: b.namespace, bumped: i === 0, generation: 7 })),
    };
    return { sent, sink: withBusAnnounce(sink, { announce: (c) => (sent.push(c), announce(c)) }) };
  }

  it('announces keys (with versions; warmed = w), tags and every bumped or skipped namespace after they are applied', async () => {
    const { sent, sink } = setup();
    await sink.applyKeyEffects([
      { key: 'product:1', version: 3, action: 'tombstone', tombstoneTtlMs: 1000 },
      { key: 'product:2', version: 4, action: 'warm', tombstoneTtlMs: 1000, value: '{}' },
    ]);
    await sink.invalidateTags([{ tag: 'category:5', version: 1, tombstoneTtlMs: 1000 }]);
    await sink.bumpNamespaces!([
      { namespace: 'catalog:', entity: 'product:1', version: 3, recordTtlMs: 1000 },
      { namespace: 'other:', entity: 'product:1', version: 3, recordTtlMs: 1000 },
    ]);
    // the skipped bump (already landed, maybe in a failed attempt) is announced too
    expect(sent).toEqual([
      {
        keys: [
          ['product:1', 3, 'i'],
          ['product:2', 4, 'w'],
        ],
      },
      { tags: ['category:5'] },
      {
        namespaces: [
          ['catalog:', 7],
          ['other:', 7],
        ],
      },
    ]);
  });

  it('a retry that finds a bump already landed (skipped) announces it; a failed attempt announces nothing', async () => {
    const sent: BusChange[] = [];
    let attempt = 0;
    const sink = withBusAnnounce(
      {
        applyKeyEffects: async () => [],
        invalidateTags: async () => ({ keysInvalidated: 0 }),
        bumpNamespaces: async (bumps) => {
          attempt += 1;
          if (attempt === 1) throw new Error('WRONGTYPE on the second namespace');
          return bumps.map((b) => ({ namespace: b.namespace, bumped: b.namespace !== 'a:', generation: 4 }));
        },
      },
      { announce: async (c) => (sent.push(c), 'ok') },
    );
    const bumps = ['a:', 'b:'].map((namespace) => ({ namespace, entity: 'product:1', version: 3, recordTtlMs: 1000 }));
    await expect(sink.bumpNamespaces!(bumps)).rejects.toThrow('WRONGTYPE');
    expect(sent).toEqual([]);
    await sink.bumpNamespaces!(bumps);
    expect(sent).toEqual([
      {
        namespaces: [
          ['a:', 4],
          ['b:', 4],
        ],
      },
    ]);
  });

  it('holds the publisher from before each apply until its announce is under way (also when the apply fails)', async () => {
    const log: string[] = [];
    const sink = withBusAnnounce(
      {
        applyKeyEffects: async () => (log.push('apply'), ['tombstoned']),
        invalidateTags: async () => {
          log.push('apply-tags');
          throw new Error('down');
        },
      },
      { announce: async () => (log.push('announce'), 'ok'), hold: () => (log.push('hold'), () => void log.push('release')) },
    );
    await sink.applyKeyEffects([{ key: 'product:1', version: 3, action: 'tombstone', tombstoneTtlMs: 1000 }]);
    await expect(sink.invalidateTags([{ tag: 't', version: 1, tombstoneTtlMs: 1000 }])).rejects.toThrow('down');
    expect(log).toEqual(['hold', 'apply', 'announce', 'release', 'hold', 'apply-tags', 'release']);
  });

  it('a failing announce never fails or delays the apply', async () => {
    const { sink } = setup(() => new Promise(() => undefined)); // never settles
    await expect(sink.applyKeyEffects([{ key: 'product:1', version: 3, action: 'tombstone', tombstoneTtlMs: 1000 }])).resolves.toEqual([
      'tombstoned',
    ]);
  });
});
