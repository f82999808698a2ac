// Lag stays visible when no consumer runs (guarantee 5, README): with the group's
// consumer stopped and a producer writing, the lag service reports, per partition, exactly
// end offset - committed offset, and lag seconds that grow with wall time; also for a
// group that never committed. Real broker, real consumer, the service over HTTP.
import { setTimeout as sleep } from 'node:timers/promises';
import { Producer } from 'kafkajs';
import pino from 'pino';
import { LagServer, startLagServer } from '../../apps/lag-monitor/src/http/lag-server';
import type { LagReport } from '../../apps/lag-monitor/src/http/lag.service';
import { parsePrometheusText } from '@app/telemetry';
import { createTopic, eventually, kafka, stackEnv, uniqueName } from '../support/stack-env';

const logger = pino({ level: 'error' });

async function getLag(server: LagServer): Promise<LagReport> {
  const response = await fetch(`${server.url}/lag`);
  expect(response.status).toBe(200);
  return (await response.json()) as LagReport;
}

async function produce(producer: Producer, topic: string, perPartition: number[]): Promise<void> {
  await producer.send({
    topic,
    messages: perPartition.flatMap((n, partition) => Array.from({ length: n }, (_, i) => ({ partition, key: `k${i}`, value: `v${i}` }))),
  });
}

/** What the broker itself says, read independently of the lag service. */
async function brokerTruth(topic: string, groupId: string): Promise<{ end: number[]; committed: (number | null)[] }> {
  const admin = kafka('lag-truth').admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const end = ends.sort((a, b) => a.partition - b.partition).map((e) => Number(e.high));
    const committed = offsets.partitions
      .sort((a, b) => a.partition - b.partition)
      .map((p) => (Number(p.offset) >= 0 ? Number(p.offset) : null));
    return { end, committed };
  } finally {
    await admin.disconnect();
  }
}

describe('lag monitor against the real broker', () => {
  let producer: Producer;
  const servers: LagServer[] = [];

  beforeAll(async () => {
    producer = kafka('lag-producer').producer();
    await producer.connect();
  });

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await producer.disconnect();
  });

  it('reports end - committed per partition and lag seconds growing with wall time while the consumer is stopped', async () => {
    const topic = uniqueName('lag-topic');
    const groupId = uniqueName('lag-group');
    await createTopic(topic, 3);

    // A real consumer reads what exists (10 on p0, 6 on p1, nothing on p2), commits, and stops.
    await produce(producer, topic, [10, 6, 0]);
    const consumer = kafka('lag-consumer').consumer({ groupId, maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    let consumed = 0;
    await consumer.run({ eachMessage: async () => void consumed++ });
    await eventually('the consumer has committed 10 and 6', async () => {
      const { committed } = await brokerTruth(topic, groupId);
      return consumed === 16 && committed[0] === 10 && committed[1] === 6;
    });
    await consumer.disconnect();

    // The consumer is stopped. New messages arrive: the oldest unconsumed ones are dated.
    const producedAt = Date.now();
    await produce(producer, topic, [5, 3, 4]);

    const server = await startLagServer({
      port: 0,
      brokers: stackEnv.kafkaBrokers,
      groupId,
      topics: [topic],
      intervalMs: 200,
      windowMs: 1_000,
      stopAfterMs: 60_000,
      logger,
    });
    servers.push(server);

    let first!: LagReport;
    await eventually('the service sees the new end offsets', async () => {
      first = await getLag(server);
      return first.partitions.map((p) => p.endOffset).join() === '15,9,4';
    });
    const truth = await brokerTruth(topic, groupId);
    expect(truth).toEqual({ end: [15, 9, 4], committed: [10, 6, null] });
    expect(first.partitions.map((p) => ({ partition: p.partition, committedOffset: p.committedOffset, lag: p.lag }))).toEqual([
      { partition: 0, committedOffset: 10, lag: 5 },
      { partition: 1, committedOffset: 6, lag: 3 },
      // never committed: measured from the log start (uncommittedPolicy 'earliest')
      { partition: 2, committedOffset: null, lag: 4 },
    ]);
    expect(first.group).toMatchObject({ groupId, state: 'Empty', members: [], totalLag: 12 });

    // The producer keeps writing; every report must still be end - committed, and lag
    // seconds must follow the wall clock (the oldest unconsumed message only gets older).
    let writing = true;
    let written = 0;
    const writer = (async () => {
      while (writing) {
        await produce(producer, topic, [1, 1, 1]);
        written++;
        await sleep(50);
      }
    })();
    const reports: LagReport[] = [first];
    try {
      await eventually('two seconds of reports while the producer writes', async () => {
        const r = await getLag(server);
        if (r.at !== reports[reports.length - 1].at) reports.push(r);
        return r.at - first.at >= 2_000 && written > 5;
      });
    } finally {
      writing = false;
      await writer;
    }

    for (const r of reports) {
      const [p0, p1, p2] = r.partitions;
      expect([p0.lag, p1.lag, p2.lag]).toEqual([p0.endOffset - 10, p1.endOffset - 6, p2.endOffset - 0]);
      expect(p0.committedOffset).toBe(10);
    }
    const last = reports[reports.length - 1];
    expect(last.partitions[0].endOffset).toBeGreaterThan(first.partitions[0].endOffset);
    const elapsed = (last.at - first.at) / 1000;
    for (let p = 0; p < 3; p++) {
      const grew = last.partitions[p].lagSeconds - first.partitions[p].lagSeconds;
      expect(grew).toBeCloseTo(elapsed, 1);
    }
    // ...and is the age of the oldest unconsumed message. Those were written before the
    // service started, so this also proves the history read from record timestamps.
    const age = (last.at - producedAt) / 1000;
    for (const p of last.partitions) {
      expect(p.lagSecondsMethod).toBe('interpolated');
      expect(Math.abs(p.lagSeconds - age)).toBeLessThan(0.15);
    }

    // The same figures on /metrics, under the conventional names.
    await eventually('metrics show the final end offsets', async () => {
      const truthNow = await brokerTruth(topic, groupId);
      const text = await (await fetch(`${server.url}/metrics`)).text();
      const samples = parsePrometheusText(text);
      const lag = (partition: number) =>
        samples.find(
          (s) =>
            s.name === 'kafka_consumergroup_lag' &&
            s.labels.consumergroup === groupId &&
            s.labels.topic === topic &&
            s.labels.partition === String(partition),
        )?.value;
      const members = samples.find((s) => s.name === 'kafka_consumergroup_members' && s.labels.consumergroup === groupId)?.value;
      return lag(0) === truthNow.end[0] - 10 && lag(1) === truthNow.end[1] - 6 && lag(2) === truthNow.end[2] && members === 0;
    });
  });

  it('shows a group that never committed and has no members: lag from the log start, then STOP', async () => {
    const topic = uniqueName('lag-nocommit');
    const groupId = uniqueName('lag-nobody');
    await createTopic(topic, 2);
    await produce(producer, topic, [7, 2]);

    const server = await startLagServer({
      port: 0,
      brokers: stackEnv.kafkaBrokers,
      groupId,
      topics: [topic],
      intervalMs: 200,
      windowMs: 800,
      stopAfterMs: 60_000,
      logger,
    });
    servers.push(server);

    let report!: LagReport;
    await eventually('both partitions are STOP', async () => {
      report = await getLag(server);
      return report.partitions.length === 2 && report.partitions.every((p) => p.status === 'STOP');
    });
    expect(report.partitions.map((p) => [p.committedOffset, p.lag])).toEqual([
      [null, 7],
      [null, 2],
    ]);
    expect(report.group.members).toEqual([]);
    expect(report.partitions[0].statusReason).toContain('no members');
    expect(report.history.series).toHaveLength(2);
  });

  it('reports ERR for a topic that does not exist, instead of failing or hiding it', async () => {
    const server = await startLagServer({
      port: 0,
      brokers: stackEnv.kafkaBrokers,
      groupId: uniqueName('g'),
      topics: [uniqueName('missing')],
      intervalMs: 200,
      windowMs: 800,
      logger,
    });
    servers.push(server);
    let report!: LagReport;
    await eventually('an error is reported', async () => {
      report = await getLag(server);
      return report.errors.length > 0;
    });
    expect(report.group.status).toBe('ERR');
    expect(report.errors[0]).toMatch(/^topic missing-\w+: /);
  });
});
