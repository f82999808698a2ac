// The latency phases' load generator: `rate` events/s offered as one producer.send per 10 ms
// tick (rate/100 events a tick), for `seconds`. Shared by ours (publish -> applied) and the
// raw-hop baseline (publish -> consumed), so both see the same offered load, the same batching
// and the same send-start timestamp.
import { setTimeout as sleep } from 'node:timers/promises';
import { Producer } from 'kafkajs';
import { entityMessageKey } from '@app/contracts';
import { BenchEvent, generateEvents } from './workload';

export const TICK_MS = 10;

export interface OfferOptions {
  producer: Producer;
  topic: string;
  rate: number;
  seconds: number;
  entities: number;
  /** First version of each tick's events (ours needs versions above the preloaded ones). */
  nextVersion: () => number;
  /** Called right after the send started (before it is acknowledged): the tick's events and the send-start time. */
  onTick: (events: BenchEvent[], sendAt: number) => void;
}

/** Returns the events sent and when the first tick was due (the caller computes the achieved rate). */
export async function offerTicks(o: OfferOptions): Promise<{ sent: number; startedAt: number }> {
  const perTick = Math.max(1, Math.round((o.rate * TICK_MS) / 1000));
  const ticks = Math.round((o.seconds * 1000) / TICK_MS);
  const startedAt = performance.now();
  let sent = 0;
  for (let tick = 0; tick < ticks; tick += 1) {
    const due = startedAt + tick * TICK_MS;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const events = [...generateEvents(perTick, o.entities, o.nextVersion())];
    const sendAt = performance.now();
    const sending = o.producer.send({
      topic: o.topic,
      acks: 1,
      messages: events.map((e) => ({
        key: entityMessageKey(e.entityType, e.entityId),
        value: JSON.stringify({ ...e, occurredAt: new Date().toISOString() }),
      })),
    });
    o.onTick(events, sendAt);
    await sending;
    sent += events.length;
  }
  return { sent, startedAt };
}
