// Proves the local stack is real: a Kafka broker that stores and serves messages, a Redis
// that runs Lua, and a Redis Cluster that routes by slot.
import { createTopic, eventually, kafka, redis, redisCluster, uniqueName } from '../support/stack-env';
import { DEFAULT_TOPICS } from '@app/contracts/topics';

describe('local stack', () => {
  it('creates a topic, produces and consumes a message through the real broker', async () => {
    const topic = uniqueName('smoke');
    await createTopic(topic, 2);
    const client = kafka('smoke');
    const admin = client.admin();
    await admin.connect();
    const topics = await admin.listTopics();
    expect(topics).toEqual(
      expect.arrayContaining([topic, DEFAULT_TOPICS.entityUpdated, DEFAULT_TOPICS.deadLetter, DEFAULT_TOPICS.mappings]),
    );
    const mappingsConfig = await admin.describeConfigs({
      resources: [{ type: 2, name: DEFAULT_TOPICS.mappings, configNames: ['cleanup.policy'] }],
      includeSynonyms: false,
    });
    expect(mappingsConfig.resources[0].configEntries[0].configValue).toBe('compact');
    await admin.disconnect();

    const producer = client.producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ key: 'k', value: 'hello kafka' }] });
    await producer.disconnect();

    const received: string[] = [];
    const consumer = client.consumer({ groupId: uniqueName('smoke-group') });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void received.push(String(message.value)) });
    try {
      await eventually('the message comes back', () => received.includes('hello kafka'));
    } finally {
      await consumer.disconnect();
    }
  });

  it('runs SET/GET/EVAL on the standalone redis-server', async () => {
    const r = redis();
    try {
      const key = uniqueName('smoke');
      await r.set(key, 'v1');
      expect(await r.get(key)).toBe('v1');
      expect(await r.eval("return redis.call('GET', KEYS[1]) .. ARGV[1]", 1, key, '!')).toBe('v1!');
      const info = await r.info('server');
      expect(info).not.toContain('tcp_port:6379\r');
    } finally {
      r.disconnect();
    }
  });

  it('routes keys across a 3-master Redis Cluster', async () => {
    const c = redisCluster();
    try {
      const keys = Array.from({ length: 30 }, (_, i) => uniqueName(`k${i}`));
      await Promise.all(keys.map((k) => c.set(k, k)));
      expect(await Promise.all(keys.map((k) => c.get(k)))).toEqual(keys);
      expect(c.nodes('master')).toHaveLength(3);
    } finally {
      c.disconnect();
    }
  });
});
