import { setTimeout as sleep } from 'node:timers/promises';
import { DeadlineExceeded, jitteredTtl, withDeadline } from './timing';

describe('jitteredTtl', () => {
  it('shortens by at most the ratio, never below 1 ms', () => {
    expect(jitteredTtl(1000, 0.1, () => 0)).toBe(1000);
    expect(jitteredTtl(1000, 0.1, () => 0.999)).toBe(900);
    expect(jitteredTtl(1, 0.5, () => 0.999)).toBe(1);
    for (let i = 0; i < 1000; i += 1) {
      const ttl = jitteredTtl(60_000, 0.2);
      expect(ttl).toBeGreaterThanOrEqual(48_000);
      expect(ttl).toBeLessThanOrEqual(60_000);
    }
  });
});

describe('withDeadline', () => {
  it('passes a result that arrives in time', async () => {
    await expect(withDeadline(Promise.resolve(7), 100, 'x')).resolves.toBe(7);
  });

  it('rejects with DeadlineExceeded when the promise is late, and swallows its late failure', async () => {
    const late = new Promise((_, reject) => setTimeout(() => reject(new Error('late')), 30));
    await expect(withDeadline(late, 5, 'redis leaseGet')).rejects.toBeInstanceOf(DeadlineExceeded);
    await sleep(40); // would surface as an unhandled rejection if not swallowed
  });
});
