// Baseline (a): the pattern common in guides. One message at a time (eachMessage), one
// `await redis.del` per key, tags via SMEMBERS + DEL. Same workload as ours.
import Redis from 'ioredis';
import { Kafka } from 'kafkajs';
import { BenchEvent, keysOf, tagOf } from './workload';

export async function naiveConsume(
  kafka: Kafka,
  redis: Redis,
  topic: string,
  expected: number,
): Promise<{ seconds: number; events: number }> {
  const consumer = kafka.consumer({ groupId: `bench-naive-${Date.now()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let count = 0;
  let started = 0;
  const done = new Promise<number>((resolve) => {
    void consumer.run({
      eachMessage: async ({ message }) => {
        if (started === 0) started = performance.now();
        const event = JSON.parse(message.value!.toString('utf8')) as BenchEvent;
        for (const key of keysOf(event)) await redis.del(key);
        const members = await redis.smembers(tagOf(event));
        if (members.length > 0) await redis.del(...members);
        count += 1;
        if (count === expected) resolve(performance.now());
      },
    });
  });
  const ended = await done;
  await consumer.disconnect();
  return { seconds: (ended - started) / 1000, events: count };
}
