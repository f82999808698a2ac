// withAdminRetry against a real broker: a broker of this test's own (started through
// scripts/stack, never the shared one) is frozen with SIGSTOP past the client's request timeout
// while the group-progress poll of the bench and the checker reads it; the poll retries and
// answers once the broker is thawed. A real non-retriable error fails at once, naming the call.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Admin, logLevel, Partitioners } from 'kafkajs';
import { createKafka } from '@app/kafka';
import { AdminRetryInfo, isRetriableKafkaError, KafkaAdminCallError, withAdminRetry } from '../../scripts/stack/admin-retry';
import { groupProgress } from '../../scripts/stack/group-progress';
import { createTopics, KafkaNodeInfo, startKafka, stopKafka } from '../../scripts/stack/kafka';
import { STACK_ROOT } from '../../scripts/stack/stack';
import { eventually, uniqueName } from '../support/stack-env';

describe('admin calls retried on a real broker', () => {
  const dir = mkdtempSync(join(tmpdir(), 'admin-retry-'));
  const topic = uniqueName('admin-retry');
  let node: KafkaNodeInfo | undefined;
  let admin: Admin;

  beforeAll(async () => {
    node = await startKafka(join(dir, 'kafka'), join(STACK_ROOT, 'cache'));
    const brokers = [`127.0.0.1:${node.brokerPort}`];
    await createTopics(brokers, [{ topic, numPartitions: 2 }]);
    // one request timeout of 1 s, no kafkajs retries: the first frozen request fails fast, and only withAdminRetry retries
    const kafka = createKafka({
      clientId: 'admin-retry',
      brokers,
      logLevel: logLevel.NOTHING,
      connectionTimeoutMs: 1_000,
      requestTimeoutMs: 1_000,
      retry: { retries: 0 },
    });
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({ topic, messages: [{ value: 'a' }, { value: 'b' }, { value: 'c' }] });
    await producer.disconnect();
    admin = kafka.admin();
    await admin.connect();
  });

  afterAll(async () => {
    await admin?.disconnect().catch(() => undefined);
    if (node) {
      process.kill(node.pid, 'SIGCONT');
      await stopKafka(node);
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('a group-progress poll survives a broker frozen past the request timeout', async () => {
    const group = uniqueName('admin-retry-group');
    expect(await groupProgress(admin, group, topic)).toMatchObject({ committed: 0, end: 3 });

    const retries: AdminRetryInfo[] = [];
    process.kill(node!.pid, 'SIGSTOP');
    let poll: Promise<unknown>;
    try {
      poll = groupProgress(admin, group, topic, { initialRetryTimeMs: 200, onRetry: (info) => retries.push(info) });
      poll.catch(() => undefined); // awaited below, after the thaw
      await eventually('the poll meets the frozen broker and schedules a retry', () => retries.length > 0, 20_000);
    } finally {
      process.kill(node!.pid, 'SIGCONT');
    }
    await expect(poll).resolves.toMatchObject({ committed: 0, end: 3 });
    // the frozen broker answered fetchOffsets nothing within the request timeout. Where the freeze
    // caught it decides what kafkajs reports: during the coordinator lookup it swallows the timeout
    // and says "no coordinator found" (non-retriable to it); on the fetch itself, a request timeout.
    // Both must be retried (CI has seen each).
    expect(retries[0].operation).toBe(`fetchOffsets(group ${group}, topic ${topic})`);
    expect((retries[0].error as Error).name).toMatch(/^KafkaJS(GroupCoordinatorNotFound|RequestTimeoutError)$/);
    expect(isRetriableKafkaError(retries[0].error)).toBe(true);
  });

  it('a non-retriable broker error fails at once, naming the call', async () => {
    const onRetry = jest.fn();
    const bad = uniqueName('admin-retry-bad');
    const error = await withAdminRetry(
      `createTopics(${bad})`,
      () => admin.createTopics({ topics: [{ topic: bad, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'shred' }] }] }),
      { onRetry },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KafkaAdminCallError);
    expect(error).toMatchObject({ operation: `createTopics(${bad})`, attempts: 1, retriable: false });
    expect((error as Error).message).toMatch(new RegExp(`^createTopics\\(${bad}\\) failed: `));
    expect(onRetry).not.toHaveBeenCalled();
  });
});
