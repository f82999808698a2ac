import pino from 'pino';
import { LagMonitor } from './lag-monitor';
import { GroupDescription, LagReader, OffsetsAtTime, PartitionEnds } from './lag-reader';

/** An in-memory Kafka as the admin API sees it. */
class FakeKafka implements LagReader {
  ends = new Map<string, PartitionEnds[]>();
  committed = new Map<string, Map<number, number | null>>();
  group: GroupDescription = { state: 'Stable', members: [] };
  failing: string | undefined;
  seedAnswers: ((at: number) => Map<number, number>) | undefined;
  resets = 0;

  private check(): void {
    if (this.failing) throw new Error(this.failing);
  }
  async readEnds(topic: string): Promise<PartitionEnds[]> {
    this.check();
    const ends = this.ends.get(topic);
    if (!ends) throw new Error('This server does not host this topic-partition');
    return ends;
  }
  async readCommitted(_groupId: string, topic: string): Promise<Map<number, number | null>> {
    this.check();
    return this.committed.get(topic) ?? new Map();
  }
  async readOffsetsAtTimes(_topic: string, timestamps: number[]): Promise<OffsetsAtTime[]> {
    this.check();
    return timestamps.map((at) => ({ at, offsets: this.seedAnswers?.(at) ?? new Map() }));
  }
  async describeGroup(): Promise<GroupDescription> {
    this.check();
    return this.group;
  }
  async reset(): Promise<void> {
    this.resets++;
  }
  async close(): Promise<void> {}
}

const silent = pino({ level: 'silent' });

function setup(seedAgesMs: number[] = []) {
  const kafka = new FakeKafka();
  let now = 1_000_000;
  const monitor = new LagMonitor(
    {
      brokers: ['k:9092'],
      groupId: 'invalidator',
      topics: ['orders'],
      intervalMs: 1_000,
      windowMs: 5_000,
      stopAfterMs: 30_000,
      seedAgesMs,
    },
    { reader: kafka, clock: () => now, logger: silent },
  );
  return { kafka, monitor, advance: (ms: number) => (now += ms), now: () => now };
}

describe('LagMonitor', () => {
  it('reports per-partition lag, group state, members and owners', async () => {
    const { kafka, monitor } = setup();
    kafka.ends.set('orders', [
      { partition: 0, startOffset: 0, endOffset: 50 },
      { partition: 1, startOffset: 0, endOffset: 7 },
    ]);
    kafka.committed.set(
      'orders',
      new Map([
        [0, 40],
        [1, null],
      ]),
    );
    kafka.group = {
      state: 'Stable',
      members: [{ memberId: 'm1', clientId: 'inv-1', host: '/10.0.0.1', assignments: [{ topic: 'orders', partitions: [0, 1] }] }],
    };
    const snapshot = await monitor.poll();
    expect(snapshot.group).toMatchObject({ groupId: 'invalidator', state: 'Stable', totalLag: 17, status: 'OK' });
    expect(snapshot.partitions).toEqual([
      expect.objectContaining({
        partition: 0,
        committedOffset: 40,
        lag: 10,
        owner: { memberId: 'm1', clientId: 'inv-1', host: '/10.0.0.1' },
      }),
      expect.objectContaining({ partition: 1, committedOffset: null, lag: 7 }),
    ]);
  });

  it('marks every partition ERR (with its last figures) when the broker cannot be read, and recovers', async () => {
    const { kafka, monitor, advance } = setup();
    kafka.ends.set('orders', [{ partition: 0, startOffset: 0, endOffset: 50 }]);
    kafka.committed.set('orders', new Map([[0, 45]]));
    await monitor.poll();
    kafka.failing = 'Connection error: ECONNREFUSED';
    advance(1_000);
    const failed = await monitor.poll();
    expect(failed.group.status).toBe('ERR');
    expect(failed.partitions).toEqual([
      expect.objectContaining({ partition: 0, status: 'ERR', lag: 5, error: 'Connection error: ECONNREFUSED' }),
    ]);
    expect(failed.errors.join()).toContain('ECONNREFUSED');
    expect(monitor.failedRounds).toBe(1);
    expect(kafka.resets).toBe(1);
    kafka.failing = undefined;
    advance(1_000);
    expect((await monitor.poll()).partitions[0].status).toBe('OK');
  });

  it('reports a missing topic as an error without hiding the other topics', async () => {
    const kafka = new FakeKafka();
    const monitor = new LagMonitor(
      { brokers: ['k:9092'], groupId: 'g', topics: ['orders', 'nope'], seedAgesMs: [] },
      { reader: kafka, logger: silent },
    );
    kafka.ends.set('orders', [{ partition: 0, startOffset: 0, endOffset: 3 }]);
    const snapshot = await monitor.poll();
    expect(snapshot.partitions.map((p) => p.topic)).toEqual(['orders']);
    expect(snapshot.errors).toEqual([expect.stringContaining('topic nope')]);
  });

  it('dates backlog older than the monitor from record timestamps (seeded history)', async () => {
    const { kafka, monitor, now } = setup([10_000, 60_000, 600_000]);
    const start = now();
    // 1 000 messages: offsets 0..499 written before start-60 s, 500..899 before start-10 s
    kafka.seedAnswers = (at) => new Map([[0, at <= start - 600_000 ? 0 : at <= start - 60_000 ? 500 : 900]]);
    kafka.ends.set('orders', [{ partition: 0, startOffset: 0, endOffset: 1_000 }]);
    kafka.committed.set('orders', new Map([[0, 700]]));
    const [p] = (await monitor.poll()).partitions;
    // message 700 was appended between start-60 s (end 500) and start-10 s (end 900)
    expect(p.lagSecondsMethod).toBe('interpolated');
    expect(p.lagSeconds).toBeGreaterThan(10);
    expect(p.lagSeconds).toBeLessThan(60);
  });

  it('keeps history for the chart, newest last, and returns only what is newer than `since`', async () => {
    const { kafka, monitor, advance } = setup();
    kafka.ends.set('orders', [{ partition: 0, startOffset: 0, endOffset: 10 }]);
    kafka.committed.set('orders', new Map([[0, 0]]));
    const first = await monitor.poll();
    advance(1_000);
    kafka.ends.set('orders', [{ partition: 0, startOffset: 0, endOffset: 20 }]);
    await monitor.poll();
    expect(monitor.historyView().series).toEqual([{ topic: 'orders', partition: 0, lag: [10, 20], lagSeconds: [0, 1] }]);
    expect(monitor.historyView(first.at).at).toHaveLength(1);
  });
});
