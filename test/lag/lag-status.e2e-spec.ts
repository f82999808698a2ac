// The Burrow-style status follows what a real kafkajs consumer does: OK while it keeps up,
// WARN while it consumes slower than the producer writes, STALL while it hangs inside a
// message with lag behind it, OK again once it catches up. The alerting series
// (kafka_consumergroup_partition_status) says the same at the same time.
import { setTimeout as sleep } from 'node:timers/promises';
import { Consumer, Producer } from 'kafkajs';
import pino from 'pino';
import { LagServer, startLagServer } from '../../apps/lag-monitor/src/http/lag-server';
import type { LagSnapshot, PartitionStatus } from '@app/lag';
import { parsePrometheusText } from '@app/telemetry';
import { createTopic, eventually, kafka, stackEnv, uniqueName } from '../support/stack-env';

type Pace = 'fast' | 'slow' | 'hung';

describe('partition status driven by a real consumer', () => {
  let producer: Producer;
  let consumer: Consumer;
  let server: LagServer;
  let writing = false;
  let writer: Promise<void> = Promise.resolve();
  let releaseHang: () => void = () => undefined;

  afterAll(async () => {
    writing = false;
    await writer;
    releaseHang();
    await consumer?.disconnect();
    await producer?.disconnect();
    await server?.close();
  });

  it('goes OK -> WARN -> STALL -> OK', async () => {
    const topic = uniqueName('status-topic');
    const groupId = uniqueName('status-group');
    await createTopic(topic, 1);
    producer = kafka('status-producer').producer();
    await producer.connect();

    // The consumer's pace is the test's lever: no delay, 100 ms of "work" per message, or
    // stuck inside one message until released. It commits after every message.
    let pace: Pace = 'fast';
    let hang: Promise<void> = Promise.resolve();
    consumer = kafka('status-consumer').consumer({ groupId, sessionTimeout: 30_000, maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommitThreshold: 1,
      eachMessage: async () => {
        if (pace === 'slow') await sleep(100);
        if (pace === 'hung') await hang;
      },
    });

    server = await startLagServer({
      port: 0,
      brokers: stackEnv.kafkaBrokers,
      groupId,
      topics: [topic],
      intervalMs: 200,
      windowMs: 1_500,
      stopAfterMs: 60_000,
      logger: pino({ level: 'error' }),
    });
    const seen: PartitionStatus[] = [];
    let latest: LagSnapshot | undefined;
    server.monitor.onSnapshot((s) => {
      latest = s;
      const status = s.partitions[0]?.status;
      if (status && seen[seen.length - 1] !== status) seen.push(status);
    });
    const statusIs = (status: PartitionStatus) => () => latest?.partitions[0]?.status === status;
    const startWriting = (perTick: number): void => {
      writing = true;
      writer = (async () => {
        while (writing) {
          await producer.send({ topic, messages: Array.from({ length: perTick }, (_, i) => ({ value: `m${i}` })) });
          await sleep(100);
        }
      })();
    };
    const stopWriting = async (): Promise<void> => {
      writing = false;
      await writer;
    };

    // OK: the consumer keeps up with a trickle.
    await producer.send({ topic, messages: [{ value: 'first' }] });
    await eventually(
      'OK with lag 0 after the first message is consumed',
      () => statusIs('OK')() && latest!.partitions[0].committedOffset === 1,
      20_000,
    );

    // WARN: ~10 messages/s consumed, ~50/s produced; offsets move, lag only rises.
    pace = 'slow';
    startWriting(5);
    await eventually('WARN while the consumer falls behind', statusIs('WARN'), 15_000);
    const warn = latest!.partitions[0];
    expect(warn.lag).toBeGreaterThan(0);
    expect(warn.statusReason).toMatch(/lag rose from \d+ to \d+/);

    // STALL: the consumer hangs inside a message (still a group member) while messages keep coming.
    hang = new Promise<void>((r) => (releaseHang = r));
    pace = 'hung';
    await eventually('STALL while the consumer hangs', statusIs('STALL'), 15_000);
    expect(latest!.group.members).toHaveLength(1);
    const metrics = parsePrometheusText(await (await fetch(`${server.url}/metrics`)).text());
    const stallSeries = metrics.find(
      (m) => m.name === 'kafka_consumergroup_partition_status' && m.labels.consumergroup === groupId && m.labels.status === 'STALL',
    );
    expect(stallSeries?.value).toBe(1);

    // OK: the producer stops, the consumer is released and catches up.
    await stopWriting();
    pace = 'fast';
    releaseHang();
    await eventually('OK again once caught up', () => statusIs('OK')() && latest!.partitions[0].lag === 0, 30_000);

    expect(seen).toEqual(['OK', 'WARN', 'STALL', 'OK']);
  });
});
