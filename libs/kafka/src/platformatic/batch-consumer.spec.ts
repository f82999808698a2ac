// Which joins let a partition's worker go on from its own position (pure rule; the consistency
// checker exercises it against the real broker with freezes and rebalances).
import { keepsPartitionsAcross } from './batch-consumer';

describe('keepsPartitionsAcross', () => {
  const m = (generation: number, memberId = 'member-1') => ({ generation, memberId });

  it('keeps a partition across the next generation of the same member', () => {
    expect(keepsPartitionsAcross(m(4), m(5))).toBe(true);
  });

  it('not across a generation gap: another member may have owned the partition in between and committed past us', () => {
    expect(keepsPartitionsAcross(m(4), m(6))).toBe(false);
  });

  it('not when the member id changed (this member was expelled and joined again)', () => {
    expect(keepsPartitionsAcross(m(4), m(5, 'member-2'))).toBe(false);
  });

  it('not on a first join, nor after a membership that was lost, nor with an unknown member id', () => {
    expect(keepsPartitionsAcross(undefined, m(1))).toBe(false);
    expect(keepsPartitionsAcross(m(4, ''), m(5, ''))).toBe(false);
  });

  it('not when the generation went back (a group deleted and created again under the same id)', () => {
    expect(keepsPartitionsAcross(m(7), m(1))).toBe(false);
  });
});
