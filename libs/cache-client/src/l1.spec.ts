// L1 without Redis: its bounds, the staleness rule, bus messages and the read/invalidation race.
import { tagStateKey } from '@app/cache-protocol';
import { L1, L1Entry } from './l1';

const events = { dropped: () => undefined, evicted: () => undefined };

function entry(over: Partial<L1Entry> = {}): L1Entry {
  const now = Date.now();
  return { payload: '{"p":1}', version: 1, tags: [], generation: 0, confirmedAt: now, freshUntil: now + 60_000, ...over };
}

describe('L1', () => {
  it('stays within maxBytes under a flood of distinct keys', () => {
    const l1 = new L1({ maxBytes: 1_000_000, maxStalenessMs: 1000 }, events);
    const payload = 'x'.repeat(1000);
    for (let i = 0; i < 100_000; i += 1) l1.set(`product:${i}`, entry({ payload }), l1.begin());
    expect(l1.bytes).toBeLessThanOrEqual(1_000_000);
    expect(l1.size).toBeGreaterThan(400);
    expect(l1.size).toBeLessThan(500);
    expect(process.memoryUsage().heapUsed).toBeLessThan(1_000_000_000);
  });

  it('stays within maxEntries', () => {
    const l1 = new L1({ maxEntries: 100, maxStalenessMs: 1000 }, events);
    for (let i = 0; i < 10_000; i += 1) l1.set(`k:${i}`, entry(), l1.begin());
    expect(l1.size).toBe(100);
    expect(l1.get('k:9999')).toBeDefined();
    expect(l1.get('k:0')).toBeUndefined();
  });

  it('never serves an entry longer than maxStalenessMs after its last confirmation; a heartbeat confirms', () => {
    const l1 = new L1({ maxEntries: 10, maxStalenessMs: 100 }, events);
    const t0 = Date.now() - 10_000; // all of it in the past: the local clock does not cap the heartbeats
    l1.set('a', entry({ confirmedAt: t0, freshUntil: t0 + 60_000 }), l1.begin());
    expect(l1.get('a', t0 + 100)).toBeDefined();
    expect(l1.get('a', t0 + 101)).toBeUndefined();
    l1.apply({ kind: 'hb', source: 'inv', at: t0 + 50 }, t0 + 60);
    expect(l1.get('a', t0 + 150)).toBeDefined();
    expect(l1.get('a', t0 + 151)).toBeUndefined();
    // the heartbeat time is the earliest of its `at`, its stream id and the local clock
    l1.apply({ kind: 'hb', source: 'inv', at: t0 + 500 }, t0 + 80);
    expect(l1.get('a', t0 + 180)).toBeDefined();
    expect(l1.get('a', t0 + 181)).toBeUndefined();
  });

  it('serves nothing past the value freshness', () => {
    const l1 = new L1({ maxEntries: 10, maxStalenessMs: 10_000 }, events);
    const t0 = Date.now();
    l1.set('a', entry({ freshUntil: t0 + 10 }), l1.begin());
    expect(l1.get('a', t0 + 5)).toBeDefined();
    expect(l1.get('a', t0 + 10)).toBeUndefined();
  });

  it('drops keys, tags and namespaces named on the bus; keeps newer copies on a warm of an older version', () => {
    const l1 = new L1({ maxEntries: 10, maxStalenessMs: 10_000 }, events);
    l1.set('p:1', entry({ version: 5 }), l1.begin());
    l1.set('p:2', entry({ version: 5 }), l1.begin());
    l1.set('page:1', entry({ version: 0, tags: [{ stateKey: tagStateKey('category:5'), epoch: '1' }] }), l1.begin());
    l1.set('catalog:x', entry({ namespace: 'catalog:', generation: 2 }), l1.begin());
    l1.apply({ kind: 'inv', source: 'inv', at: Date.now(), keys: [['p:1', 3, 'i'], ['p:2', 4, 'w']], tags: ['category:5'], namespaces: [['catalog:', 3]] }, Date.now());
    expect(l1.get('p:1')).toBeUndefined();
    expect(l1.get('p:2')?.version).toBe(5);
    expect(l1.get('page:1')).toBeUndefined();
    expect(l1.get('catalog:x')).toBeUndefined();
    expect(l1.set('catalog:y', entry({ namespace: 'catalog:', generation: 2 }), l1.begin())).toBe(false);
  });

  it('does not store a read that an announcement overtook (key, tag, or a drop of everything)', () => {
    const l1 = new L1({ maxEntries: 10, maxStalenessMs: 10_000 }, events);
    const since = l1.begin();
    l1.apply({ kind: 'inv', source: 'inv', at: Date.now(), keys: [['p:1', 3, 'i']], tags: ['t'], namespaces: [] }, Date.now());
    expect(l1.set('p:1', entry(), since)).toBe(false);
    expect(l1.set('p:2', entry({ tags: [{ stateKey: tagStateKey('t'), epoch: '1' }] }), since)).toBe(false);
    expect(l1.set('p:3', entry(), since)).toBe(true);
    const before = l1.begin();
    l1.dropAll('suspect');
    expect(l1.size).toBe(0);
    expect(l1.set('p:4', entry(), before)).toBe(false);
    expect(l1.set('p:4', entry(), l1.begin())).toBe(true);
  });
});
