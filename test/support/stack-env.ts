// Addresses of the stack started by test/global-setup.ts, plus helpers every e2e test needs.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import Redis, { Cluster } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { createKafka } from '@app/kafka';
import { withAdminRetry } from '../../scripts/stack/admin-retry';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: e2e tests run under test/global-setup.ts (npm test)`);
  return value;
}

export const stackEnv = {
  get kafkaBrokers(): string[] {
    return required('KAFKA_BROKERS').split(',');
  },
  get redisUrl(): string {
    return required('REDIS_URL');
  },
  get redisClusterNodes(): { host: string; port: number }[] {
    return required('REDIS_CLUSTER_NODES')
      .split(',')
      .map((hp) => ({ host: hp.split(':')[0], port: Number(hp.split(':')[1]) }));
  },
};

export function kafka(clientId = 'e2e'): Kafka {
  // kafkajs' own timeouts and retry (retry: {}), silent: the tests' clients, from the one factory.
  return createKafka({ clientId, brokers: stackEnv.kafkaBrokers, logLevel: logLevel.NOTHING, connectionTimeoutMs: 1_000, retry: {} });
}

export function redis(): Redis {
  return new Redis(stackEnv.redisUrl, { maxRetriesPerRequest: 2 });
}

export function redisCluster(): Cluster {
  return new Cluster(stackEnv.redisClusterNodes, { redisOptions: { maxRetriesPerRequest: 2 } });
}

/** A fresh name so tests sharing one broker never see each other's messages. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export async function createTopic(name: string, numPartitions = 3, configEntries?: { name: string; value: string }[]): Promise<void> {
  const admin = kafka('e2e-admin').admin();
  await withAdminRetry('connect admin', () => admin.connect());
  try {
    // a repeat after a retriable error that came after the creation is answered `false` by kafkajs, not an error
    await withAdminRetry(`createTopics(${name})`, () =>
      admin.createTopics({ topics: [{ topic: name, numPartitions, replicationFactor: 1, configEntries }], waitForLeaders: true }),
    );
  } finally {
    await admin.disconnect();
  }
}

/** Polls `condition` until it returns true or the deadline passes. Never a bare sleep. */
export async function eventually(
  what: string,
  condition: () => Promise<boolean> | boolean,
  timeoutMs = 30_000,
  intervalMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if (await condition()) return;
    } catch (error) {
      lastError = error;
    }
    await sleep(intervalMs);
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for: ${what}${lastError instanceof Error ? ` (last error: ${lastError.message})` : ''}`,
  );
}
