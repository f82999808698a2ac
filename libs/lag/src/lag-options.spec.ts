import { LagConfigError } from './lag-errors';
import { resolveLagMonitorOptions } from './lag-options';

describe('resolveLagMonitorOptions', () => {
  it('fills the documented defaults', () => {
    expect(resolveLagMonitorOptions({ brokers: ['k:9092'], groupId: 'g', topics: ['t'] })).toMatchObject({
      intervalMs: 2_000,
      windowMs: 60_000,
      stopAfterMs: 300_000,
      historyMs: 600_000,
      uncommittedPolicy: 'earliest',
      clientId: 'lag-monitor',
    });
  });

  it('lists every problem at once, with a stable code', () => {
    let error: unknown;
    try {
      resolveLagMonitorOptions({ brokers: ['nohost'], groupId: ' ', topics: [], intervalMs: 1_000, windowMs: 1_500 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(LagConfigError);
    expect((error as LagConfigError).code).toBe('LAG_CONFIG_INVALID');
    expect((error as LagConfigError).problems).toEqual([
      expect.stringContaining('brokers must be a non-empty list of host:port'),
      'groupId must be a non-empty string',
      expect.stringContaining('topics must be a non-empty list'),
      expect.stringContaining('windowMs must be at least two intervals'),
    ]);
  });
});
