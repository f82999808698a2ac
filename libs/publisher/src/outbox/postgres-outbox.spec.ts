import { PostgresOutbox } from './postgres-outbox';

// The constructor only checks its options; nothing here reaches a database.
const unused = {
  query: () => Promise.reject(new Error('no database in this test')),
};

describe('PostgresOutbox options', () => {
  it('refuses a lease PostgreSQL cannot add to now() (every claim would fail with "interval out of range")', () => {
    for (const leaseMs of [1e17, 1e300, Number.MAX_SAFE_INTEGER, 0, -1, 1.5, Number.NaN])
      expect(() => new PostgresOutbox(unused, { leaseMs })).toThrow(/leaseMs/);
  });

  it('accepts leases from 1 ms to 7 days', () => {
    for (const leaseMs of [1, 30_000, 3_600_000, 7 * 24 * 3_600_000]) expect(new PostgresOutbox(unused, { leaseMs })).toBeDefined();
  });
});
