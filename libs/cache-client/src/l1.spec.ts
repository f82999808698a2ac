// L1 without Redis: its bounds, the staleness rule, bus messages and the read/invalidation race.
import { tagStateKey } from '@app/cache-protocol';
import { L1, L1Entry, L1Options } from './l1';

const events = { dropped: () => undefined, evicted: () => undefined };

/** An L1 whose Redis clock reads the same as the local one (one exact TIME sample). */
function synced(options: L1Options): L1 {
  const l1 = new L1(options, events);
  const t = Date.now();
  l1.clockSample(t, t, t);
  return l1;
}

function entry(over: Partial<L1Entry> = {}): L1Entry {
  const now = Date.now();
  return { payload: '{"p":1}', version: 1, tags: [], generation: 0, confirmedAt: now, freshUntil: now + 60_000, ...over };
}

describe('L1', () => {
  it('stays within maxBytes under a flood of distinct keys', () => {
    const l1 = synced({ maxBytes: 1_000_000, maxStalenessMs: 1000 });
    const payload = 'x'.repeat(1000);
    for (let i = 0; i < 100_000; i += 1) l1.set(`product:${i}`, entry({ payload }), l1.begin());
    expect(l1.bytes).toBeLessThanOrEqual(1_000_000);
    expect(l1.size).toBeGreaterThan(400);
    expect(l1.size).toBeLessThan(500);
    expect(process.memoryUsage().heapUsed).toBeLessThan(1_000_000_000);
  });

  it('measures the bytes it holds also when bounded by entries only (no maxBytes)', () => {
    const l1 = synced({ maxEntries: 2, maxStalenessMs: 1000 });
    const payload = 'x'.repeat(1000);
    l1.set('a', entry({ payload }), l1.begin());
    const one = l1.bytes;
    expect(one).toBeGreaterThan(2000);
    l1.set('a', entry({ payload: 'y' }), l1.begin()); // replaced: the old size is gone
    expect(l1.bytes).toBeLessThan(one);
    for (const k of ['b', 'c', 'd']) l1.set(k, entry({ payload }), l1.begin()); // evictions
    expect(l1.size).toBe(2);
    expect(l1.bytes).toBe(2 * one);
    l1.dropAll('reset');
    expect(l1.bytes).toBe(0);
  });

  it('stays within maxEntries', () => {
    const l1 = synced({ maxEntries: 100, maxStalenessMs: 1000 });
    for (let i = 0; i < 10_000; i += 1) l1.set(`k:${i}`, entry(), l1.begin());
    expect(l1.size).toBe(100);
    expect(l1.get('k:9999')).toBeDefined();
    expect(l1.get('k:0')).toBeUndefined();
  });

  it('never serves an entry longer than maxStalenessMs after its last confirmation; a heartbeat confirms', () => {
    const l1 = synced({ maxEntries: 10, maxStalenessMs: 100 });
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
    const l1 = synced({ maxEntries: 10, maxStalenessMs: 10_000 });
    const t0 = Date.now();
    l1.set('a', entry({ freshUntil: t0 + 10 }), l1.begin());
    expect(l1.get('a', t0 + 5)).toBeDefined();
    expect(l1.get('a', t0 + 10)).toBeUndefined();
  });

  it('drops keys, tags and namespaces named on the bus; keeps newer copies on a warm of an older version', () => {
    const l1 = synced({ maxEntries: 10, maxStalenessMs: 10_000 });
    l1.set('p:1', entry({ version: 5 }), l1.begin());
    l1.set('p:2', entry({ version: 5 }), l1.begin());
    l1.set('page:1', entry({ version: 0, tags: [{ stateKey: tagStateKey('category:5'), epoch: '1' }] }), l1.begin());
    l1.set('catalog:x', entry({ namespace: 'catalog:', generation: 2 }), l1.begin());
    l1.apply(
      {
        kind: 'inv',
        source: 'inv',
        at: Date.now(),
        keys: [
          ['p:1', 3, 'i'],
          ['p:2', 4, 'w'],
        ],
        tags: ['category:5'],
        namespaces: [['catalog:', 3]],
      },
      Date.now(),
    );
    expect(l1.get('p:1')).toBeUndefined();
    expect(l1.get('p:2')?.version).toBe(5);
    expect(l1.get('page:1')).toBeUndefined();
    expect(l1.get('catalog:x')).toBeUndefined();
    expect(l1.set('catalog:y', entry({ namespace: 'catalog:', generation: 2 }), l1.begin())).toBe(false);
  });

  it('does not store a read that an announcement overtook (key, tag, or a drop of everything)', () => {
    const l1 = synced({ maxEntries: 10, maxStalenessMs: 10_000 });
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

  describe("on Redis's clock", () => {
    it('stores and serves nothing before the first clock sample', () => {
      const l1 = new L1({ maxEntries: 10, maxStalenessMs: 1000 }, events);
      expect(l1.redisTimeOf(Date.now())).toBeUndefined();
      expect(l1.set('a', entry(), l1.begin())).toBe(false);
    });

    it('a local clock 60 s behind Redis does not stretch the value freshness or the bound', () => {
      let local = 1_000_000;
      const skew = 60_000;
      const l1 = new L1({ maxEntries: 10, maxStalenessMs: 1000, now: () => local }, events);
      l1.clockSample(local, local + skew + 2, local + 4); // TIME answered within a 4 ms round trip
      const readAt = l1.redisTimeOf(local)!;
      expect(readAt).toBe(local + skew - 2); // the lower bound: never later than the real time
      l1.set('a', entry({ confirmedAt: readAt, freshUntil: local + skew + 3000 }), l1.begin());
      local += 996;
      expect(l1.get('a')).toBeDefined(); // at most 996 + the 4 ms round trip after its read
      local += 1;
      expect(l1.get('a')).toBeUndefined(); // the round trip counts against the entry
      // heartbeats keep it confirmed on Redis's clock; the value freshness still ends it
      const hb = (at: number) => l1.apply({ kind: 'hb', source: 'inv', at }, at);
      hb(local + skew);
      expect(l1.get('a')).toBeDefined();
      local += 1500;
      hb(local + skew);
      expect(l1.get('a')).toBeDefined();
      local += 600; // Redis time >= writtenAt + freshFor (freshUntil) now, though the local clock is 57 s before it
      hb(local + skew);
      expect(l1.get('a')).toBeUndefined();
    });

    it('stream ids raise the offset when the local clock steps back', () => {
      let local = 1_000_000;
      const l1 = new L1({ maxEntries: 10, maxStalenessMs: 1000, now: () => local }, events);
      l1.clockSample(local, local, local);
      l1.set('a', entry({ confirmedAt: local, freshUntil: local + 5000 }), l1.begin());
      local -= 10_000; // stepped back; Redis goes on
      l1.apply({ kind: 'inv', source: 'x', at: 0, keys: [], tags: [], namespaces: [] }, local + 10_000 + 2_000);
      expect(l1.get('a')).toBeUndefined(); // 2 s after its read, on Redis's clock
    });

    it("places a heartbeat's `at` with its age, so a publisher clock ahead of Redis vouches for nothing later", () => {
      const local = 1_000_000;
      const l1 = new L1({ maxEntries: 10, maxStalenessMs: 1000, now: () => local }, events);
      l1.clockSample(local, local, local);
      l1.set('a', entry({ confirmedAt: local - 5000, freshUntil: local + 60_000 }), l1.begin());
      // the publisher's clock is 60 s ahead; an announce of it has been in flight for 3 s
      l1.apply({ kind: 'hb', source: 'inv', at: local + 60_000 - 3000, age: 3000 }, local);
      expect(l1.publishersHeard()[0].confirmedAt).toBe(local - 3000);
      expect(l1.get('a')).toBeUndefined();
    });
  });

  describe('several publishers', () => {
    function setup(forgetSilentPublisherMs = 10_000) {
      const clock = { local: 1_000_000 };
      const dropped: string[] = [];
      const l1 = new L1(
        { maxEntries: 10, maxStalenessMs: 1000, now: () => clock.local, forgetSilentPublisherMs },
        { dropped: (reason) => void dropped.push(reason), evicted: () => undefined },
      );
      l1.clockSample(clock.local, clock.local, clock.local);
      const hb = (source: string) => l1.apply({ kind: 'hb', source, at: clock.local }, clock.local);
      const put = () => l1.set('a', entry({ confirmedAt: clock.local, freshUntil: clock.local + 600_000 }), l1.begin());
      return { clock, l1, hb, put, dropped };
    }

    it('trusts heartbeats only while every publisher heard keeps sending them', () => {
      const { clock, l1, hb, put } = setup();
      hb('a');
      hb('b');
      put();
      for (let i = 0; i < 5; i += 1) {
        clock.local += 500;
        hb('a');
        hb('b');
      }
      expect(l1.get('a')).toBeDefined(); // 2.5 s after its read, vouched for by both
      clock.local += 500;
      hb('b'); // a is silent
      expect(l1.get('a')).toBeDefined();
      clock.local += 600;
      hb('b');
      expect(l1.get('a')).toBeUndefined(); // a's last heartbeat is 1.1 s old
    });

    it('forgets a publisher silent past forgetSilentPublisherMs and drops everything once; the rest vouch again', () => {
      const { clock, l1, hb, put, dropped } = setup(3000);
      hb('a');
      hb('b');
      clock.local += 1000;
      hb('b');
      put();
      clock.local += 2500; // a silent 3.5 s
      hb('b');
      expect(l1.get('a')).toBeUndefined();
      expect(dropped).toContain('publisher-gone');
      expect(l1.size).toBe(0);
      expect(l1.publishersHeard().map((p) => p.source)).toEqual(['b']);
      put();
      clock.local += 1500;
      hb('b');
      expect(l1.get('a')).toBeDefined();
    });

    it('a publisher that says bye is forgotten without a drop', () => {
      const { clock, l1, hb, put, dropped } = setup();
      hb('a');
      hb('b');
      put();
      l1.apply({ kind: 'bye', source: 'a', at: clock.local }, clock.local);
      clock.local += 1500;
      hb('b');
      expect(l1.get('a')).toBeDefined();
      expect(dropped).toEqual([]);
    });

    it('inv messages (fill announces of other cache clients) do not make their source a publisher to wait for', () => {
      const { clock, l1, hb, put } = setup();
      hb('a');
      put();
      l1.apply({ kind: 'inv', source: 'client-1', at: clock.local, keys: [['other', 1, 'w']], tags: [], namespaces: [] }, clock.local);
      clock.local += 1500;
      hb('a');
      expect(l1.get('a')).toBeDefined();
    });
  });
});
