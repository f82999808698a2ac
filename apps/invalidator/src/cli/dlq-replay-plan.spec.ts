import { DLQ_HEADERS } from '@app/contracts';
import type { DeadLetterRecord } from './dlq-cli';
import { letterId, planReplay, ReplayHistory } from './dlq-replay-plan';

const TOPIC = 'entity.updated.dlq';

function letter(offset: number, extra: Record<string, string> = {}): DeadLetterRecord {
  return {
    dlqTopic: TOPIC,
    dlqPartition: 0,
    dlqOffset: String(offset),
    key: Buffer.from('widget:w1'),
    value: Buffer.from('{}'),
    headers: {
      [DLQ_HEADERS.reasonCode]: 'UNKNOWN_ENTITY_TYPE',
      [DLQ_HEADERS.originTopic]: 'entity.updated',
      [DLQ_HEADERS.failedAt]: new Date(1_000 + offset).toISOString(),
      ...extra,
    },
    timestamp: 1_000 + offset,
  };
}
const copyOf = (offset: number, parent: DeadLetterRecord) => letter(offset, { [DLQ_HEADERS.replayedFrom]: letterId(parent) });
const markOf = (offset: number, r: DeadLetterRecord): DeadLetterRecord => ({
  ...letter(offset),
  headers: { [DLQ_HEADERS.replayMark]: letterId(r) },
});
const offsets = (rs: DeadLetterRecord[]) => rs.map((r) => r.dlqOffset);

describe('planReplay', () => {
  it('replays letters nobody replayed yet', () => {
    const a = letter(0);
    const b = letter(1);
    const history = new ReplayHistory([a, b]);
    expect(offsets(planReplay([a, b], history).replay)).toEqual(['0', '1']);
  });

  it('skips a letter with a replay mark, and a letter with a copy (its mark lost), and the copies themselves', () => {
    const a = letter(0);
    const b = letter(1);
    const c = letter(2);
    const copyOfB = copyOf(4, b);
    const history = new ReplayHistory([a, b, c, markOf(3, a), copyOfB]);
    expect(history.letters()).toHaveLength(4); // the mark is not a letter
    const plan = planReplay(history.letters(), history);
    expect(offsets(plan.replay)).toEqual(['2']);
    expect(plan.skipped.map((s) => [s.record.dlqOffset, s.kind])).toEqual([
      ['0', 'already-replayed'],
      ['1', 'already-replayed'],
      ['4', 'already-replayed'],
    ]);
    expect(plan.skipped[2].why).toBe(`dead-lettered again after the replay of ${TOPIC}/0/1`);
  });

  it('N runs over an event that keeps failing add one copy: every later run replays nothing', () => {
    const original = letter(0);
    const records: DeadLetterRecord[] = [original];
    let next = 1;
    for (let run = 0; run < 5; run++) {
      const history = new ReplayHistory(records);
      for (const r of planReplay(history.letters(), history).replay) {
        records.push(markOf(next++, r), copyOf(next++, r)); // the replay marks it; the invalidator dead-letters it again
      }
    }
    expect(new ReplayHistory(records).letters()).toHaveLength(2);
  });

  it('--again replays the newest letter of each chain once, whatever was replayed before', () => {
    const a = letter(0);
    const a1 = copyOf(2, a);
    const a2 = copyOf(4, a1);
    const b = letter(5);
    const history = new ReplayHistory([a, markOf(1, a), a1, markOf(3, a1), a2, b]);
    expect(history.rootOf(a2)).toBe(letterId(a));
    const plan = planReplay(history.letters(), history, { again: true });
    expect(offsets(plan.replay)).toEqual(['4', '5']);
    expect(plan.skipped.map((s) => [s.record.dlqOffset, s.kind])).toEqual([
      ['0', 'superseded'],
      ['2', 'superseded'],
    ]);
    // Filtered to the original only: it is the newest matching letter of its chain.
    expect(offsets(planReplay([a], history, { again: true }).replay)).toEqual(['0']);
  });

  it('a copy whose original is gone (retention) still counts as one chain', () => {
    const orphan = letter(7, { [DLQ_HEADERS.replayedFrom]: `${TOPIC}/0/0` });
    const history = new ReplayHistory([orphan]);
    expect(history.rootOf(orphan)).toBe(`${TOPIC}/0/0`);
    expect(planReplay([orphan], history).replay).toEqual([]);
    expect(planReplay([orphan], history, { again: true }).replay).toEqual([orphan]);
  });

  describe('replay headers forged by a producer (kept on its dead letter)', () => {
    const other = (offset: number, extra: Record<string, string>) => ({
      ...letter(offset, extra),
      key: Buffer.from('widget:w2'),
      value: Buffer.from('{"forged":true}'),
    });

    it('a dead letter carrying x-dlq-replay-mark is a letter, not a mark: the letter it names is not skipped', () => {
      const victim = letter(0);
      const forged = other(1, { [DLQ_HEADERS.replayMark]: letterId(victim) });
      const history = new ReplayHistory([victim, forged]);
      expect(offsets(history.letters())).toEqual(['0', '1']);
      expect(history.wasReplayed(victim)).toBe(false);
      expect(offsets(planReplay(history.letters(), history).replay)).toEqual(['0', '1']);
    });

    it('a dead letter naming another letter in x-dlq-replayed-from with other bytes is no copy of it', () => {
      const victim = letter(0);
      const forged = other(1, { [DLQ_HEADERS.replayedFrom]: letterId(victim) });
      const history = new ReplayHistory([victim, forged]);
      expect(history.wasReplayed(victim)).toBe(false);
      expect(history.copyOf(forged)).toBeUndefined();
      expect(history.rootOf(forged)).toBe(letterId(forged));
      expect(offsets(planReplay(history.letters(), history).replay)).toEqual(['0', '1']);
    });

    it('a letter naming itself is no copy', () => {
      const self = letter(3, { [DLQ_HEADERS.replayedFrom]: `${TOPIC}/0/3` });
      const history = new ReplayHistory([self]);
      expect(offsets(planReplay([self], history).replay)).toEqual(['3']);
    });
  });
});
