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

  it('announces keys (with versions; warmed = w), tags and bumped namespaces after they are applied', async () => {
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
    expect(sent).toEqual([{ keys: [['product:1', 3, 'i'], ['product:2', 4, 'w']] }, { tags: ['category:5'] }, { namespaces: [['catalog:', 7]] }]);
  });

  it('a failing announce never fails or delays the apply', async () => {
    const { sink } = setup(() => new Promise(() => undefined)); // never settles
    await expect(sink.applyKeyEffects([{ key: 'product:1', version: 3, action: 'tombstone', tombstoneTtlMs: 1000 }])).resolves.toEqual(['tombstoned']);
  });
});
