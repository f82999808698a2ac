// Per-test-file wiring for the invalidator: own topics, own group, a mapping YAML file.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { CacheProtocol } from '@app/cache-protocol';
import { parsePrometheusText, sumOf } from '@app/telemetry';
import { withAdminRetry } from '../../scripts/stack/admin-retry';
import { groupProgress, GroupProgress } from '../../scripts/stack/group-progress';
import { createTopic, kafka, stackEnv, uniqueName } from './stack-env';

export const SHOP_MAPPINGS = [
  {
    id: 'shop.product',
    entityType: 'product',
    owner: 'catalog',
    description: 'product page warmed from after; listings of old and new category dropped; tenant tag',
    keys: [
      { template: 'product:{entityId}', action: 'warm', warmFrom: 'after', ttlSeconds: 3600, tombstoneTtlSeconds: 600 },
      { template: 'product-summary:{entityId}', action: 'tombstone', tombstoneTtlSeconds: 600 },
      { template: 'category:{after.categoryId}:products', action: 'delete' },
      { template: 'category:{before.categoryId}:products', action: 'delete' },
    ],
    tags: ['tenant:{tenant}:products'],
  },
];

export interface InvalidatorTestEnv {
  topic: string;
  dlqTopic: string;
  groupId: string;
  mappingsFile: string;
  env: Record<string, string>;
}

export async function invalidatorTestEnv(
  options: { partitions?: number; redisUrl?: string; redisClusterNodes?: string; extra?: Record<string, string> } = {},
): Promise<InvalidatorTestEnv> {
  const topic = uniqueName('entity.updated');
  const dlqTopic = `${topic}.dlq`;
  await createTopic(topic, options.partitions ?? 3);
  await createTopic(dlqTopic, 1);
  const dir = mkdtempSync(join(tmpdir(), 'inv-'));
  const mappingsFile = join(dir, 'mappings.yaml');
  writeFileSync(mappingsFile, stringify({ mappings: SHOP_MAPPINGS }));
  const groupId = uniqueName('invalidator');
  return {
    topic,
    dlqTopic,
    groupId,
    mappingsFile,
    env: {
      KAFKA_BROKERS: stackEnv.kafkaBrokers.join(','),
      KAFKA_TOPIC: topic,
      KAFKA_DLQ_TOPIC: dlqTopic,
      KAFKA_GROUP_ID: groupId,
      ...(options.redisClusterNodes
        ? { REDIS_CLUSTER_NODES: options.redisClusterNodes }
        : { REDIS_URL: options.redisUrl ?? stackEnv.redisUrl }),
      MAPPINGS_SOURCE: 'file',
      MAPPINGS_FILE: mappingsFile,
      SESSION_TIMEOUT_MS: '6000',
      RETRY_INITIAL_MS: '50',
      RETRY_MAX_MS: '500',
      HTTP_PORT: '0',
      LOG_LEVEL: 'warn',
      // Most tests run team mappings without declaring keyspaces (the old bootstrap rule); the
      // keyspace tests in test/security set it true.
      KEYSPACES_REQUIRED: 'false',
      // The client under test: KAFKA_CLIENT from the environment (the e2e-kafkajs jest project sets it), else the default.
      ...(process.env.KAFKA_CLIENT ? { KAFKA_CLIENT: process.env.KAFKA_CLIENT } : {}),
      ...options.extra,
    },
  };
}

/** Committed offset sum of `groupId` on `topic` vs. the end offsets (from the admin API, as an operator sees it). */
export async function committedVsEnd(groupId: string, topic: string): Promise<GroupProgress> {
  const admin = kafka('e2e-lag').admin();
  await withAdminRetry('connect admin', () => admin.connect());
  try {
    return await groupProgress(admin, groupId, topic);
  } finally {
    await admin.disconnect();
  }
}

/** Caches an aggregate (unversioned) value the way a reader does: lease, then fill with version 0. */
export async function fillAggregate(protocol: CacheProtocol, key: string, value: string): Promise<void> {
  await fillVersion(protocol, key, 0, value);
}

/**
 * Caches `value` at `version` the way a reader does (lease, then fill). A warm only rewrites a
 * cached value (it never creates one), so a test that wants to see an event's warm land caches
 * an older version of the key first, as a reader would have.
 */
export async function fillVersion(protocol: CacheProtocol, key: string, version: number, value: string, ttlMs = 60_000): Promise<void> {
  const got = await protocol.leaseGet(key, { leaseTtlMs: 5_000 });
  if (got.kind !== 'miss') throw new Error(`expected a miss for ${key}, got ${got.kind}`);
  const outcome = await protocol.fill(got.lease, version, value, { ttlMs });
  if (outcome !== 'filled') throw new Error(`fill of ${key}: ${outcome}`);
}

/**
 * Sum of the samples of metric `name` whose labels include `labels`, read from an invalidator
 * child process's own GET /metrics (0 when absent).
 */
export async function processMetric(port: number, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return sumOf(parsePrometheusText(text), name, (l) => Object.entries(labels).every(([k, v]) => l[k] === v)) ?? 0;
}
