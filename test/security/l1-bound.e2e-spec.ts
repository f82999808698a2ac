// The L1 staleness bound holds in the three cases where it did not: a reader that falls behind a
// small bus stream (trimmed past its position), a reader whose clock runs behind Redis's, and a
// reader hearing several invalidator instances of which one dies between apply and announce.
// Real Redis (the stack's); the invalidators are BusPublishers + CacheProtocol (what the
// invalidator runs), so the test can stop one between its apply and its announce.
import Redis from 'ioredis';
import { CacheProtocol } from '@app/cache-protocol';
import { BusMessage, BusPublisher } from '@app/cache-protocol/bus';
import { fillVersion } from '../support/invalidator-env';
import { busMessages, L1Reader, startL1Reader } from '../support/l1-client';
import { eventually, redis, uniqueName } from '../support/stack-env';

describe('L1 staleness bound', () => {
  let db: Redis;
  let protocol: CacheProtocol;
  const publishers: BusPublisher[] = [];
  const readers: L1Reader[] = [];

  beforeAll(() => {
    db = redis();
    protocol = new CacheProtocol(db);
  });

  afterEach(async () => {
    publishers.splice(0).forEach((p) => p.stopHeartbeat());
    await Promise.all(readers.splice(0).map((r) => r.close()));
  });

  afterAll(() => db.disconnect());

  function publisher(streamKey: string, source: string, maxLen = 10_000): BusPublisher {
    const p = new BusPublisher(db, { streamKey, source, maxLen });
    publishers.push(p);
    void p.startHeartbeat(100);
    return p;
  }

  async function reader(streamKey: string, maxStalenessMs: number, now?: () => number): Promise<L1Reader> {
    const r = await startL1Reader({ streamKey, maxStalenessMs, ...(now ? { now } : {}) });
    readers.push(r);
    return r;
  }

  /** Resolves once `r` applied a message matching `match` (listening from now on). */
  function heard(r: L1Reader, what: string, match: (m: BusMessage) => boolean): Promise<void> {
    let seen = false;
    const off = r.client.onBusMessage((m) => {
      if (match(m)) seen = true;
    });
    return eventually(what, () => seen, 15_000).finally(off);
  }

  async function tombstone(key: string, version: number): Promise<void> {
    await protocol.applyKeyEffects([{ key, version, action: 'tombstone', tombstoneTtlMs: 60_000 }]);
  }

  it('a reader that fell behind a small stream (maxLen 100) drops its L1 instead of serving v1', async () => {
    const streamKey = `~bus{${uniqueName('small')}}`;
    const key = `${uniqueName('small')}:1`;
    const inv = publisher(streamKey, 'inv-small', 100);
    const r = await reader(streamKey, 2_000);
    await r.setDb(key, 1);
    expect(await r.read(key)).toBe(1);
    expect(await r.read(key)).toBe(1);
    expect(r.client.l1Stats().entries).toBe(1);
    r.client.pauseBus(true);
    await r.setDb(key, 2);
    await tombstone(key, 2);
    expect(await inv.announce({ keys: [[key, 2, 'i']] })).toBe('ok');
    for (let i = 0; i < 600; i += 1) await inv.beat();
    const left = await busMessages(db, streamKey);
    expect(left.length).toBeLessThan(512); // one read returns all of it: no "full read" to hint at a trim
    expect(left.some((m) => m.kind === 'inv' && m.keys.some(([k]) => k === key))).toBe(false); // the announce is trimmed
    const resumedAt = Date.now();
    const caughtUp = heard(r, 'the reader reads the bus again', (m) => m.kind === 'hb' && m.at >= resumedAt);
    r.client.pauseBus(false);
    await caughtUp;
    expect(await r.read(key)).toBe(2);
  }, 60_000);

  it('a reader whose clock is 60 s behind Redis serves nothing from L1 past the Redis TTL', async () => {
    const streamKey = `~bus{${uniqueName('skew')}}`;
    const key = `${uniqueName('skew')}:1`;
    publisher(streamKey, 'inv-skew');
    const r = await reader(streamKey, 2_000, () => Date.now() - 60_000);
    await heard(r, 'a heartbeat', (m) => m.kind === 'hb');
    // Redis holds v1 for 3 s; the database already has v2.
    await fillVersion(protocol, key, 1, JSON.stringify({ version: 1 }), 3_000);
    await r.setDb(key, 2);
    expect(await r.read(key, { ttlMs: 3_000 })).toBe(1);
    expect(await r.read(key, { ttlMs: 3_000 })).toBe(1);
    expect(r.client.l1Stats().entries).toBe(1);
    await eventually('v1 expired in Redis', async () => (await db.exists(key)) === 0, 15_000);
    expect(await r.read(key, { ttlMs: 3_000 })).toBe(2);
  }, 60_000);

  it('with two invalidator instances, one dying between apply and announce stops the other from vouching for L1', async () => {
    const streamKey = `~bus{${uniqueName('multi')}}`;
    const key = `${uniqueName('multi')}:1`;
    const a = publisher(streamKey, 'inv-a');
    publisher(streamKey, 'inv-b');
    const r = await reader(streamKey, 1_000);
    await Promise.all([
      heard(r, 'a heartbeat of inv-a', (m) => m.kind === 'hb' && m.source === 'inv-a'),
      heard(r, 'a heartbeat of inv-b', (m) => m.kind === 'hb' && m.source === 'inv-b'),
    ]);
    await r.setDb(key, 1);
    expect(await r.read(key)).toBe(1);
    expect(await r.read(key)).toBe(1);
    expect(r.client.l1Stats().entries).toBe(1);
    // inv-a applies v2 and dies before announcing it; inv-b keeps beating.
    await r.setDb(key, 2);
    await tombstone(key, 2);
    a.stopHeartbeat();
    await eventually('the reader serves v2 (inv-a went silent: L1 is not vouched for)', async () => (await r.read(key)) === 2, 10_000);
  }, 60_000);
});
