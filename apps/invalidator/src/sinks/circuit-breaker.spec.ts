// The breaker's state machine (closed -> open -> half-open -> closed/open) with a fake clock, and
// the per-key limiter. What the loader reports for each answer (4xx = success, 5xx and timeouts =
// failure, refused address = release) is tested through the warmer in loader-warm.spec.ts.
import { setTimeout as sleep } from 'node:timers/promises';
import { HostCircuitBreakers, KeyedLimiter } from './circuit-breaker';

describe('HostCircuitBreakers', () => {
  let now: number;
  let b: HostCircuitBreakers;
  /** Two failures: open until now + 100. */
  const open = () => {
    b.failure('h');
    b.failure('h');
    expect(b.stateOf('h')).toBe('open');
    expect(b.tryAcquire('h')).toBe(false);
  };
  /** After the open time, the one trial goes out; a second caller is held back. */
  const trial = () => {
    now += 150;
    expect(b.stateOf('h')).toBe('half-open');
    expect(b.tryAcquire('h')).toBe(true);
    expect(b.tryAcquire('h')).toBe(false);
  };

  beforeEach(() => {
    now = 0;
    b = new HostCircuitBreakers({ failureThreshold: 2, openMs: 100, now: () => now });
  });

  it('opens after N consecutive failures; a success in between resets the count; hosts are independent', () => {
    b.failure('h');
    b.success('h');
    b.failure('h');
    expect(b.tryAcquire('h')).toBe(true);
    b.failure('h');
    expect(b.tryAcquire('h')).toBe(false);
    expect(b.isOpen('h')).toBe(true);
    expect(b.tryAcquire('other')).toBe(true);
  });

  it('half-open trial answered (2xx or a 4xx: the host answered): success closes the circuit', () => {
    open();
    trial();
    b.success('h');
    expect(b.stateOf('h')).toBe('closed');
    expect(b.tryAcquire('h')).toBe(true);
    expect(b.tryAcquire('h')).toBe(true);
  });

  it('half-open trial failed (5xx, timeout, network error, an exception): open again for openMs, then a new trial', () => {
    open();
    trial();
    b.failure('h');
    expect(b.stateOf('h')).toBe('open');
    expect(b.tryAcquire('h')).toBe(false);
    trial();
    b.success('h');
    expect(b.stateOf('h')).toBe('closed');
  });

  it('half-open trial without a verdict (the call never reached the host): release ends the trial, the next call is the trial', () => {
    open();
    trial();
    b.release('h');
    expect(b.stateOf('h')).toBe('half-open');
    expect(b.tryAcquire('h')).toBe(true);
    expect(b.tryAcquire('h')).toBe(false);
  });

  it('a trial that never reports expires after openMs: the host is never open for good', () => {
    open();
    trial();
    now += 99;
    expect(b.tryAcquire('h')).toBe(false);
    now += 1;
    expect(b.tryAcquire('h')).toBe(true);
  });

  it('release on a closed host changes nothing', () => {
    b.release('h');
    expect(b.stateOf('h')).toBe('closed');
    expect(b.tryAcquire('h')).toBe(true);
  });
});

describe('KeyedLimiter', () => {
  it('never runs more than the limit per key', async () => {
    const l = new KeyedLimiter(1);
    let running = 0;
    let peak = 0;
    const task = async () => {
      running += 1;
      peak = Math.max(peak, running);
      await sleep(5);
      running -= 1;
    };
    await Promise.all([l.run('a', task), l.run('a', task), l.run('a', task)]);
    expect(peak).toBe(1);
  });
});
