// Baseline (b): the Kafka-side ceiling. A raw kafkajs eachBatch loop that only decodes the
// JSON of each message, nothing else. Our invalidator cannot be faster than this.
import { Kafka } from 'kafkajs';

export async function rawConsume(kafka: Kafka, topic: string, expected: number): Promise<{ seconds: number; events: number }> {
  const consumer = kafka.consumer({ groupId: `bench-raw-${Date.now()}`, maxBytesPerPartition: 1_048_576, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let count = 0;
  let started = 0;
  let checksum = 0;
  const done = new Promise<number>((resolve) => {
    void consumer.run({
      partitionsConsumedConcurrently: 3,
      eachBatch: ({ batch }) => {
        if (started === 0) started = performance.now();
        for (const m of batch.messages) {
          const e = JSON.parse(m.value!.toString('utf8')) as { version: number };
          checksum += e.version;
        }
        count += batch.messages.length;
        if (count >= expected) resolve(performance.now());
        return Promise.resolve();
      },
    });
  });
  const ended = await done;
  await consumer.disconnect();
  if (checksum === 0) throw new Error('raw consume decoded nothing');
  return { seconds: (ended - started) / 1000, events: count };
}
