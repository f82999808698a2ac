// Red team: bus messages forged by a process that can XADD to the bus stream. Every cache-client
// instance announces its own fills on the bus, so every reader process has that write access:
// the `s` (source) of a message is whatever the writer puts there.
import { generateKeyPairSync } from 'node:crypto';
import { busSigner, busVerifier, SignedKind } from '@app/cache-protocol/bus';
import { L1, L1Entry, L1Options, MAX_TRACKED_PUBLISHERS } from './l1';

const keys = generateKeyPairSync('ed25519');
const sign = busSigner(keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
const verify = busVerifier(keys.publicKey.export({ type: 'spki', format: 'pem' }).toString());

const events = { dropped: () => undefined, evicted: () => undefined };

function synced(options: L1Options): L1 {
  const l1 = new L1(options, events);
  const t = Date.now();
  l1.clockSample(t, t, t);
  return l1;
}

function entry(over: Partial<L1Entry> = {}): L1Entry {
  const now = Date.now();
  return { payload: '{"p":1}', version: 1, tags: [], generation: 0, confirmedAt: now, freshUntil: now + 600_000, ...over };
}

describe('L1 vs forged bus messages (red team)', () => {
  // A forged `bye` (or heartbeat) in an invalidator's name made readers stop waiting for it: the
  // other publishers' heartbeats then vouched alone, and L1 served past maxStalenessMs a value the
  // invalidator had already changed in Redis. Invalidators now sign heartbeats and byes
  // (BUS_SIGNING_KEY); readers given the public key (bus.verifyKey) ignore unsigned or forged ones.
  function scenario(verifyPublisher?: (m: SignedKind) => boolean, forgedSig?: string) {
    const l1 = synced({ maxEntries: 10, maxStalenessMs: 1_000, verifyPublisher });
    const signed = <M extends SignedKind>(m: M): M => ({ ...m, sig: sign(m) });
    const t0 = Date.now() - 60_000;
    // Two invalidators are heard; the first one's last heartbeat vouches up to t0.
    l1.apply(signed({ kind: 'hb', source: 'invalidator-1', at: t0 }), t0);
    l1.apply(signed({ kind: 'hb', source: 'invalidator-2', at: t0 }), t0);
    l1.set('product:1', entry({ confirmedAt: t0, freshUntil: t0 + 600_000 }), l1.begin());
    // invalidator-1 starts an apply at t0 (its heartbeats keep `at` = t0); the other one beats on.
    l1.apply(signed({ kind: 'hb', source: 'invalidator-1', at: t0 }), t0 + 5_000);
    l1.apply(signed({ kind: 'hb', source: 'invalidator-2', at: t0 + 5_000 }), t0 + 5_000);
    const before = l1.get('product:1', t0 + 5_000); // 5 s after the last vouch: not served
    // A hostile reader XADDs a bye in invalidator-1's name.
    l1.apply({ kind: 'bye', source: 'invalidator-1', at: t0 + 5_000, sig: forgedSig }, t0 + 5_001);
    l1.apply(signed({ kind: 'hb', source: 'invalidator-2', at: t0 + 5_002 }), t0 + 5_002);
    return { before, after: l1.get('product:1', t0 + 5_003), ignored: l1.ignoredUnsigned };
  }

  it("with signed heartbeats, a reader forging `bye` with an invalidator's source does not let L1 serve past maxStalenessMs", () => {
    const otherKey = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const forgedWithOtherKey = busSigner(otherKey)({ kind: 'bye', source: 'invalidator-1', at: Date.now() - 55_000 });
    for (const forged of [undefined, 'AAAA', forgedWithOtherKey]) {
      expect(scenario(verify, forged)).toEqual({ before: undefined, after: undefined, ignored: 1 });
    }
  });

  it('without a verify key the forged bye is believed (the documented default: keep the bus stream writable only by your own processes)', () => {
    expect(scenario(undefined).after).toBeDefined();
  });

  // A flood of heartbeats with fresh sources once made the tracked set unbounded (20000 of them
  // kept one reader busy for 52 s, O(n) per message). The set is capped: past the cap the bus is
  // suspect and vouches for nothing (L1 serves only within maxStalenessMs of its own reads).
  it('a flood of heartbeats from fake instance ids keeps the publishers tracked bounded and stops the bus vouching', () => {
    const l1 = synced({ maxEntries: 10, maxStalenessMs: 1_000 });
    const t0 = Date.now() - 60_000;
    l1.apply({ kind: 'hb', source: 'invalidator-1', at: t0 }, t0);
    for (let i = 0; i < 20_000; i += 1) l1.apply({ kind: 'hb', source: `fake-${i}`, at: t0 + i }, t0 + i);
    expect(l1.publishersHeard().length).toBeLessThanOrEqual(MAX_TRACKED_PUBLISHERS);
    // an entry read now is served within maxStalenessMs of its read, and not beyond, whatever the heartbeats say
    l1.set('product:1', entry({ confirmedAt: t0 + 20_000, freshUntil: t0 + 600_000 }), l1.begin());
    for (const source of ['invalidator-1', 'fake-1']) l1.apply({ kind: 'hb', source, at: t0 + 30_000 }, t0 + 30_000);
    expect(l1.get('product:1', t0 + 20_500)).toBeDefined();
    expect(l1.get('product:1', t0 + 21_001)).toBeUndefined();
  });

  // Holds: a heartbeat with a huge age or a future `at` cannot vouch past the stream id.
  it('a heartbeat with a future `at` or a huge `age` does not vouch beyond its stream id', () => {
    const l1 = synced({ maxEntries: 10, maxStalenessMs: 1_000 });
    const t0 = Date.now() - 60_000;
    l1.apply({ kind: 'hb', source: 'invalidator-1', at: t0 }, t0);
    l1.set('product:1', entry({ confirmedAt: t0, freshUntil: t0 + 600_000 }), l1.begin());
    l1.apply({ kind: 'hb', source: 'invalidator-1', at: Number.MAX_SAFE_INTEGER }, t0 + 10);
    l1.apply({ kind: 'hb', source: 'invalidator-1', at: t0 + 10, age: Number.MAX_SAFE_INTEGER }, t0 + 10);
    expect(l1.get('product:1', t0 + 1_010)).toBeDefined();
    expect(l1.get('product:1', t0 + 1_011)).toBeUndefined();
  });
});
