// Baseline (c): Kafka's own hop on this box. A raw kafkajs consumer (eachBatch, JSON.parse only,
// no Redis, its own consumer group, the invalidator's fetch settings) on a topic like the latency
// topic, offered the same rates by the same generator as ours. Measured like ours: time from the
// send start to the consumer having decoded the event, for the first event of every 10 ms tick
// (probe, as ours' external probe) and for every event.
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, Producer } from 'kafkajs';
import { offerTicks } from './offer';
import { percentile } from './proc-stats';

export interface RawHopRow {
  offeredRate: number;
  achievedRate: number;
  probes: number;
  'probe p50ms': number;
  'probe p99ms': number;
  'probe p999ms': number;
  events: number;
  'every event p50ms': number;
  'every event p99ms': number;
  'every event p999ms': number;
  /** events not seen within 10 s of the phase's end */
  lost: number;
}

export interface RawHopOptions {
  kafka: Kafka;
  producer: Producer;
  topic: string;
  rates: number[];
  seconds: number;
  warmupSeconds: number;
  entities: number;
  partitionsConsumedConcurrently: number;
}

const r1 = (x: number) => Math.round(x * 10) / 10;

/** The invalidator's fetch settings (libs/kafka batch-consumer defaults), for the raw consumers that are its baselines. */
export const INVALIDATOR_FETCH_SETTINGS = {
  maxBytesPerPartition: 1_048_576,
  maxBytes: 10_485_760,
  maxWaitTimeInMs: 100,
  allowAutoTopicCreation: false,
} as const;

export async function rawHopLatency(o: RawHopOptions): Promise<RawHopRow[]> {
  const consumer = o.kafka.consumer({ groupId: `bench-raw-hop-${Date.now()}`, ...INVALIDATOR_FETCH_SETTINGS });
  // eventId -> send start; `probe` marks the first event of its tick
  const pending = new Map<string, { sendAt: number; probe: boolean }>();
  let probeMs: number[] = [];
  let everyMs: number[] = [];
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await consumer.connect();
  // the topic is empty until the warm-up: from the beginning, so no event is sent before the group's offsets resolve
  await consumer.subscribe({ topic: o.topic, fromBeginning: true });
  await consumer.run({
    partitionsConsumedConcurrently: o.partitionsConsumedConcurrently,
    eachBatch: ({ batch }) => {
      for (const m of batch.messages) {
        const e = JSON.parse(m.value!.toString('utf8')) as { eventId: string };
        const seen = performance.now();
        const p = pending.get(e.eventId);
        if (!p) continue;
        pending.delete(e.eventId);
        everyMs.push(seen - p.sendAt);
        if (p.probe) probeMs.push(seen - p.sendAt);
      }
      return Promise.resolve();
    },
  });
  try {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      joined,
      new Promise<never>(
        (_, reject) => (timer = setTimeout(() => reject(new Error('raw hop: consumer did not join its group in 30 s')), 30_000)),
      ),
    ]).finally(() => clearTimeout(timer));
    const rows: RawHopRow[] = [];
    let version = 1;
    const schedule = [
      ...(o.warmupSeconds > 0 ? [{ rate: o.rates[0], seconds: o.warmupSeconds, warmup: true }] : []),
      ...o.rates.map((rate) => ({ rate, seconds: o.seconds, warmup: false })),
    ];
    for (const { rate, seconds, warmup } of schedule) {
      probeMs = [];
      everyMs = [];
      pending.clear();
      const { sent, startedAt } = await offerTicks({
        producer: o.producer,
        topic: o.topic,
        rate,
        seconds,
        entities: o.entities,
        nextVersion: () => (version += 1),
        onTick: (events, sendAt) => events.forEach((e, i) => pending.set(e.eventId, { sendAt, probe: i === 0 })),
      });
      const achieved = sent / ((performance.now() - startedAt) / 1000);
      const drainUntil = performance.now() + 10_000;
      while (pending.size > 0 && performance.now() < drainUntil) await sleep(20);
      if (warmup) continue;
      const probes = [...probeMs].sort((x, y) => x - y);
      const every = [...everyMs].sort((x, y) => x - y);
      rows.push({
        offeredRate: rate,
        achievedRate: Math.round(achieved),
        probes: probes.length,
        'probe p50ms': r1(percentile(probes, 50)),
        'probe p99ms': r1(percentile(probes, 99)),
        'probe p999ms': r1(percentile(probes, 99.9)),
        events: every.length,
        'every event p50ms': r1(percentile(every, 50)),
        'every event p99ms': r1(percentile(every, 99)),
        'every event p999ms': r1(percentile(every, 99.9)),
        lost: pending.size,
      });
    }
    return rows;
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
}
