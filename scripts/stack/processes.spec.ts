import { StackError, waitFor } from './processes';

describe('waitFor', () => {
  it('gives up at once when the awaited process exited (no point waiting out the deadline)', async () => {
    const started = Date.now();
    await expect(
      waitFor(
        'x',
        async () => {
          throw new StackError('REDIS_EXITED', 'gone');
        },
        10_000,
        10,
      ),
    ).rejects.toMatchObject({ code: 'REDIS_EXITED' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('keeps probing through other errors and reports the last one at the deadline', async () => {
    let calls = 0;
    await expect(
      waitFor(
        'y',
        async () => {
          calls += 1;
          throw new Error('not yet');
        },
        200,
        10,
      ),
    ).rejects.toThrow(/timed out after 200 ms waiting for y: not yet/);
    expect(calls).toBeGreaterThan(3);
  });

  it('returns the first defined probe result', async () => {
    let n = 0;
    expect(await waitFor('z', async () => (++n >= 3 ? 'ok' : undefined), 5_000, 1)).toBe('ok');
  });
});
