import { setTimeout as sleep } from 'node:timers/promises';
import type { BatchControl, InboundBatch, InboundMessage } from '../consumer-api';
import { commitOffsetAfter, FetchedPartition, PartitionWorker, PartitionWorkerDeps } from './partition-worker';
import { Slots } from './slots';

const msg = (offset: number, partition = 0): InboundMessage => ({
  topic: 't',
  partition,
  offset: String(offset),
  key: null,
  value: Buffer.from(`v${offset}`),
  headers: {},
  timestamp: 0,
});

/** A partition log of `size` messages served `perFetch` at a time; fetches past the end return nothing. */
function log(size: number, perFetch: number, partition = 0) {
  const fetches: bigint[] = [];
  const fetch = async (position: bigint): Promise<FetchedPartition> => {
    fetches.push(position);
    await new Promise((r) => setImmediate(r));
    const from = Number(position);
    const to = Math.min(size, from + perFetch);
    const messages = Array.from({ length: Math.max(0, to - from) }, (_, i) => msg(from + i, partition));
    return { messages, nextOffset: BigInt(Math.max(from, to)), highWatermark: BigInt(size) };
  };
  return { fetches, fetch };
}

function deps(overrides: Partial<PartitionWorkerDeps> & Pick<PartitionWorkerDeps, 'fetch' | 'handler'>): PartitionWorkerDeps {
  return {
    topic: 't',
    partition: 0,
    initialPosition: async () => 0n,
    commit: async () => undefined,
    slots: new Slots(1),
    onFetchError: async () => 'retry',
    onHandlerError: async () => undefined,
    ...overrides,
  };
}

const until = async (what: () => boolean) => {
  for (let i = 0; i < 2_000 && !what(); i += 1) await new Promise((r) => setImmediate(r));
  if (!what()) throw new Error('condition never met');
};

describe('commitOffsetAfter', () => {
  it('commits the offset after the last applied message (what Kafka expects), also past 2^53', () => {
    expect(commitOffsetAfter('0')).toBe(1n);
    expect(commitOffsetAfter('41')).toBe(42n);
    expect(commitOffsetAfter('9007199254740993')).toBe(9007199254740994n);
  });
});

describe('PartitionWorker', () => {
  it('hands out batches in offset order, one at a time, and commits offset + 1 of what the handler resolved', async () => {
    const { fetch } = log(10, 4);
    const commits: bigint[] = [];
    const batches: string[][] = [];
    let inHandler = 0;
    let overlapped = false;
    const worker: PartitionWorker = new PartitionWorker(
      deps({
        fetch,
        commit: async (o) => void commits.push(o),
        handler: async (batch, control) => {
          inHandler += 1;
          overlapped ||= inHandler > 1;
          batches.push(batch.messages.map((m) => m.offset));
          await sleep(2);
          await control.resolveAndCommit(batch.messages[batch.messages.length - 1].offset);
          inHandler -= 1;
          if (batch.messages.some((m) => m.offset === '9')) worker.stop();
        },
      }),
    );
    await worker.start();
    expect(batches).toEqual([
      ['0', '1', '2', '3'],
      ['4', '5', '6', '7'],
      ['8', '9'],
    ]);
    expect(commits).toEqual([4n, 8n, 10n]);
    expect(overlapped).toBe(false);
  });

  it('fetches a partly resolved batch again from the first unresolved message', async () => {
    const { fetch, fetches } = log(6, 6);
    const seen: string[][] = [];
    const worker: PartitionWorker = new PartitionWorker(
      deps({
        fetch,
        handler: async (batch, control) => {
          seen.push(batch.messages.map((m) => m.offset));
          if (seen.length === 1)
            await control.resolveAndCommit('2'); // gave up after the first chunk
          else {
            await control.resolveAndCommit('5');
            worker.stop();
          }
        },
      }),
    );
    await worker.start();
    expect(seen).toEqual([
      ['0', '1', '2', '3', '4', '5'],
      ['3', '4', '5'],
    ]);
    expect(fetches.slice(0, 2)).toEqual([0n, 3n]);
  });

  it('does not fetch while paused, and fetches again once resumed', async () => {
    const { fetch, fetches } = log(4, 2);
    let control!: BatchControl;
    let batches = 0;
    const worker = new PartitionWorker(
      deps({
        fetch,
        handler: async (batch, c) => {
          batches += 1;
          control = c;
          await c.resolveAndCommit(batch.messages[batch.messages.length - 1].offset);
          if (batches === 1) c.pausePartition();
        },
      }),
    );
    const done = worker.start();
    await until(() => batches === 1);
    for (let i = 0; i < 50; i += 1) await new Promise((r) => setImmediate(r));
    expect(fetches).toEqual([0n]);
    control.resumePartition();
    await until(() => batches === 2);
    expect(fetches.slice(0, 2)).toEqual([0n, 2n]);
    worker.stop();
    await done;
  });

  it('revoked: the batch in the handler sees isActive() false, nothing more is fetched or committed', async () => {
    const { fetch, fetches } = log(10, 2);
    const commits: bigint[] = [];
    let release!: () => void;
    let control!: BatchControl;
    const worker = new PartitionWorker(
      deps({
        fetch,
        commit: async (o) => void commits.push(o),
        handler: async (_batch, c) => {
          control = c;
          await new Promise<void>((r) => (release = r));
        },
      }),
    );
    const done = worker.start();
    await until(() => control !== undefined);
    expect(control.isActive()).toBe(true);
    worker.revoke();
    expect(control.isActive()).toBe(false);
    await expect(control.heartbeat()).rejects.toThrow(/revoked/);
    await expect(control.resolveAndCommit('1')).rejects.toThrow(/revoked/);
    release();
    await done;
    expect(fetches).toEqual([0n]);
    expect(commits).toEqual([]);
  });

  it('a failed commit makes the batch inactive (the group moved on) and is flushed on a graceful stop', async () => {
    const { fetch } = log(2, 2);
    let fail = true;
    const commits: bigint[] = [];
    let control!: BatchControl;
    const worker: PartitionWorker = new PartitionWorker(
      deps({
        fetch,
        commit: async (o) => {
          if (fail) throw new Error('REBALANCE_IN_PROGRESS');
          commits.push(o);
        },
        handler: async (_b, c) => {
          control = c;
          await c.resolveAndCommit('1');
          // the commit runs on; its failure takes the batch away
          await until(() => !c.isActive());
          worker.stop();
        },
      }),
    );
    await worker.start();
    expect(control.isActive()).toBe(false);
    expect(worker.uncommitted).toBe(2n);
    fail = false;
    await worker.flush();
    expect(commits).toEqual([2n]);
    expect(worker.uncommitted).toBeUndefined();
  });

  it('a commit that failed while the partition stayed ours is retried before the next fetch (no lag left behind)', async () => {
    // The group rebalanced during the commit and gave the partition back to this member: the
    // batch was applied, so its offset must still be committed even if no message ever follows.
    const { fetch, fetches } = log(2, 2);
    let fail = true;
    const commits: bigint[] = [];
    const errors: string[] = [];
    const worker: PartitionWorker = new PartitionWorker(
      deps({
        fetch,
        commit: async (o) => {
          if (fail) {
            fail = false;
            throw new Error('REBALANCE_IN_PROGRESS');
          }
          commits.push(o);
        },
        onFetchError: async (error) => {
          errors.push((error as Error).message);
          return 'retry';
        },
        handler: async (_b, c) => {
          await c.resolveAndCommit('1');
          await until(() => !c.isActive()); // the failed commit is known before the next fetch
        },
      }),
    );
    const done = worker.start();
    // Stop the loop whatever happens, so a failing run ends instead of fetching forever.
    await until(() => commits.length > 0 && fetches.length > 1).finally(() => worker.stop());
    await done;
    expect(commits).toEqual([2n]);
    expect(worker.uncommitted).toBeUndefined();
    expect(errors).toEqual([]);
    // The applied batch is not fetched again: the next fetch starts after it.
    expect(fetches.slice(0, 2)).toEqual([0n, 2n]);
  });

  it('a retried commit that fails again backs off through onFetchError and keeps trying', async () => {
    const { fetch } = log(2, 2);
    let failures = 0;
    const commits: bigint[] = [];
    const errors: string[] = [];
    const worker: PartitionWorker = new PartitionWorker(
      deps({
        fetch,
        commit: async (o) => {
          if (failures < 3) {
            failures += 1;
            throw new Error('COORDINATOR_NOT_AVAILABLE');
          }
          commits.push(o);
        },
        onFetchError: async (error) => {
          errors.push((error as Error).message);
          return 'retry';
        },
        handler: async (_b, c) => {
          await c.resolveAndCommit('1').catch(() => undefined);
        },
      }),
    );
    const done = worker.start();
    await until(() => commits.length > 0).finally(() => worker.stop());
    await done;
    expect(commits).toEqual([2n]);
    expect(errors).toEqual(['COORDINATOR_NOT_AVAILABLE', 'COORDINATOR_NOT_AVAILABLE']);
  });

  it('the next fetch and the next chunk do not wait for a commit under way; a commit never covers what was not resolved', async () => {
    const { fetch, fetches } = log(6, 2);
    const commits: bigint[] = [];
    const releases: (() => void)[] = [];
    const resolvedWhenCommitted: bigint[] = [];
    let resolvedSoFar = 0n;
    const worker = new PartitionWorker(
      deps({
        fetch,
        // each commit waits until the test releases it (a slow broker)
        commit: (o) =>
          new Promise<void>((resolve) => {
            expect(o).toBeLessThanOrEqual(resolvedSoFar);
            resolvedWhenCommitted.push(resolvedSoFar);
            releases.push(() => {
              commits.push(o);
              resolve();
            });
          }),
        handler: async (batch, control) => {
          for (const m of batch.messages) {
            resolvedSoFar = BigInt(m.offset) + 1n;
            await control.resolveAndCommit(m.offset);
          }
        },
      }),
    );
    const done = worker.start();
    try {
      // the first commit is still held, yet every batch was handled and fetching went on past the log's end
      await until(() => fetches.length >= 4);
      expect(fetches.slice(0, 3)).toEqual([0n, 2n, 4n]);
      expect(releases).toHaveLength(1);
      expect(commits).toEqual([]);
      // one commit at a time; the next one takes the latest resolved offset (not one per chunk)
      releases[0]();
      await until(() => releases.length === 2);
      expect(commits).toEqual([1n]);
      releases[1]();
      await until(() => commits.length === 2);
      expect(commits).toEqual([1n, 6n]);
    } finally {
      // a failing run must not leave the loop waiting on a held commit
      worker.stop();
      for (;;) {
        const held = releases.length;
        releases.forEach((r) => r());
        await sleep(1);
        if (releases.length === held) break;
      }
      await done;
    }
    expect(releases).toHaveLength(2);
  });

  it('a stopped loop ends only once its commit under way settled (the next owner reads the committed offset)', async () => {
    const { fetch } = log(2, 2);
    let release!: () => void;
    const commits: bigint[] = [];
    const worker = new PartitionWorker(
      deps({
        fetch,
        commit: (o) =>
          new Promise<void>((resolve) => {
            release = () => {
              commits.push(o);
              resolve();
            };
          }),
        handler: async (_b, c) => {
          await c.resolveAndCommit('1');
          worker.stop();
        },
      }),
    );
    let ended = false;
    const done = worker.start().then(() => (ended = true));
    await until(() => release !== undefined);
    await sleep(5);
    expect(ended).toBe(false);
    release();
    await done;
    expect(commits).toEqual([2n]);
    expect(worker.uncommitted).toBeUndefined();
  });

  it('partitions share the handler slots: at most N batches at once across partitions', async () => {
    const slots = new Slots(2);
    let inHandler = 0;
    let most = 0;
    const workers: PartitionWorker[] = [];
    for (let p = 0; p < 4; p += 1) {
      const { fetch } = log(6, 2, p);
      const worker = new PartitionWorker(
        deps({
          partition: p,
          slots,
          fetch,
          handler: async (batch: InboundBatch, control) => {
            inHandler += 1;
            most = Math.max(most, inHandler);
            await sleep(1);
            inHandler -= 1;
            await control.resolveAndCommit(batch.messages[batch.messages.length - 1].offset);
            if (batch.messages.some((m) => m.offset === '5')) worker.stop();
          },
        }),
      );
      workers.push(worker);
    }
    await Promise.all(workers.map((w) => w.start()));
    expect(most).toBe(2);
  });

  it('a handler error backs off and fetches the batch again from the resolved position', async () => {
    const { fetch, fetches } = log(4, 4);
    const errors: string[] = [];
    let calls = 0;
    const worker: PartitionWorker = new PartitionWorker(
      deps({
        fetch,
        onHandlerError: async (error) => void errors.push((error as Error).message),
        handler: async (_batch, control) => {
          calls += 1;
          if (calls === 1) {
            await control.resolveAndCommit('0');
            throw new Error('redis script missing');
          }
          await control.resolveAndCommit('3');
          worker.stop();
        },
      }),
    );
    await worker.start();
    expect(errors).toEqual(['redis script missing']);
    expect(fetches.slice(0, 2)).toEqual([0n, 1n]);
  });
});
