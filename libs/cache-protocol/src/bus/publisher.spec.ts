// The publisher without Redis: what its heartbeats vouch for (held applies, announces in flight)
// and how it leaves (reset first if an announce was lost, then bye).
import { setTimeout as sleep } from 'node:timers/promises';
import type Redis from 'ioredis';
import { BusMessage, decodeBusMessage } from './message';
import { BusPublisher } from './publisher';

function fakeRedis(answer: (m: BusMessage) => Promise<unknown> = async () => '1-0') {
  const sent: BusMessage[] = [];
  const redis = {
    xadd: (...args: unknown[]) => {
      const m = decodeBusMessage(args[args.length - 1]);
      sent.push(m);
      return answer(m);
    },
  } as unknown as Redis;
  return { redis, sent };
}

describe('BusPublisher', () => {
  it('a heartbeat vouches for nothing after the start of an apply still held, and says how old that is', async () => {
    const { redis, sent } = fakeRedis();
    const p = new BusPublisher(redis, { source: 's' });
    const release = p.hold();
    const heldAt = Date.now();
    await sleep(20);
    await p.beat();
    const hb = sent[0] as Extract<BusMessage, { kind: 'hb' }>;
    expect(hb.at).toBeLessThanOrEqual(heldAt);
    expect(hb.age).toBeGreaterThanOrEqual(20);
    release();
    await p.beat();
    expect((sent[1] as Extract<BusMessage, { kind: 'hb' }>).at).toBeGreaterThanOrEqual(heldAt + 20);
  });

  it('leave: bye when every announce landed', async () => {
    const { redis, sent } = fakeRedis();
    const p = new BusPublisher(redis, { source: 's' });
    await p.announce({ keys: [['k', 1, 'i']] });
    expect(await p.leave()).toBe('ok');
    expect(sent.map((m) => m.kind)).toEqual(['inv', 'bye']);
  });

  it('leave: a lost announce is followed by a reset before the bye; no bye when the reset fails', async () => {
    let fail = true;
    const { redis, sent } = fakeRedis(async () => (fail ? Promise.reject(new Error('down')) : '1-0'));
    const p = new BusPublisher(redis, { source: 's' });
    expect(await p.announce({ keys: [['k', 1, 'i']] })).toBe('failed');
    expect(await p.leave()).toBe('failed');
    expect(sent.map((m) => m.kind)).toEqual(['inv', 'reset']);
    fail = false;
    expect(await p.leave()).toBe('ok');
    expect(sent.map((m) => m.kind)).toEqual(['inv', 'reset', 'reset', 'bye']);
  });

  it('leave waits for an announce in flight (up to timeoutMs), then resets if it never landed', async () => {
    const { redis, sent } = fakeRedis(async (m) => (m.kind === 'inv' ? new Promise(() => undefined) : '1-0'));
    const p = new BusPublisher(redis, { source: 's', timeoutMs: 50 });
    void p.announce({ keys: [['k', 1, 'i']] });
    expect(await p.leave()).toBe('ok');
    expect(sent.map((m) => m.kind)).toEqual(['inv', 'reset', 'bye']);
  });
});
