// Tag invalidation in two steps. First the epochs of all the chunk's tags are closed, many tags
// per script call (tagBumps-1n; one call per slot group under Redis Cluster): each live member
// set moves aside as the pending set of its closed epoch. A hot tag that nobody joined since its
// last invalidation is done right there (nothing to scan). Then, only for tags with pending sets,
// those sets are walked in bounded SSCAN steps, each step's members invalidated through the
// batch script before asking for the next step, and the set is retired (tagRetire-2). A tag with
// a million members never blocks Redis: each step is one SSCAN COUNT n and one pipeline of small
// scripts.
//
// Why this is enough (see docs/design.md "Tags"): a fill joins a tag only if the tag's epoch is
// still the one it read before loading (tagJoin-2), and it joins before it fills. So a fill that
// loaded before the close either fails to join (and does not fill), or joined the set the close
// moved aside, which is scanned here after the close: its lease is voided or its value deleted.
import { randomInt } from 'node:crypto';
import { KeyBatchRunner } from './key-batch';
import { purgeItem } from './key-effects';
import { keyProblem, tagPendingKey, tagStateKey } from './key-layout';
import { ClosedEpoch, isCluster, RedisConnection, tagBumpsScript, tagRetireScript } from './scripts';
import { chunked, indicesBySlot } from './slot';

export interface TagScanSettings {
  scanCount: number;
  maxKeyBytes: number;
}

export interface TagToClose {
  tag: string;
  /** Minimum TTL of the tag's state (its epoch record). */
  stateTtlMs: number;
}

/**
 * The epoch of a tag state created now: the clock in microseconds, so an epoch never repeats even
 * if the state expires or is evicted and is created again (a value recording the lost epoch can
 * never match by chance: it reads as a miss).
 */
export function freshTagEpoch(): number {
  return Date.now() * 1000 + randomInt(1000);
}

/** Indices of `tags` grouped into calls: by slot under Redis Cluster, in order otherwise; at most `perCall` per call. */
function groupCalls(redis: RedisConnection, tags: TagToClose[], perCall: number): number[][] {
  const groups = isCluster(redis) ? [...indicesBySlot(tags, (t) => t.tag).values()] : [tags.map((_, i) => i)];
  return groups.flatMap((g) => chunked(g, perCall));
}

/** Closes the current epoch of every tag (one result per tag, in order). Safe to run again: a second close only adds an epoch to scan. */
export async function closeTagEpochs(redis: RedisConnection, tags: TagToClose[], perCall: number): Promise<ClosedEpoch[]> {
  const results = new Array<ClosedEpoch>(tags.length);
  const calls = groupCalls(redis, tags, perCall);
  const epoch = freshTagEpoch();
  const argsOf = (call: number[]) => [call.map((i) => tagStateKey(tags[i].tag)), epoch, call.map((i) => tags[i].stateTtlMs)] as const;
  const settle = (call: number[], closed: ClosedEpoch[]) => call.forEach((i, n) => (results[i] = closed[n]));
  if (isCluster(redis) || calls.length === 1) {
    // ioredis routes each call by its first key (one slot per call)
    const replies = await Promise.all(calls.map((call) => tagBumpsScript.run(redis, ...argsOf(call))));
    replies.forEach((closed, n) => settle(calls[n], closed));
    return results;
  }
  const pipeline = redis.pipeline();
  const decoders = calls.map((call) => tagBumpsScript.queue(pipeline, ...argsOf(call)));
  const replies = await pipeline.exec();
  if (!replies) throw new Error('pipeline was discarded');
  replies.forEach(([error, reply], n) => {
    if (error) throw error;
    settle(calls[n], decoders[n](reply));
  });
  return results;
}

/** Invalidates the members of every pending set of `tag` from closed.scannedThrough+1 to closed.closing; returns how many were invalidated. */
export async function scanClosedEpochs(
  redis: RedisConnection,
  runner: KeyBatchRunner,
  tag: string,
  closed: ClosedEpoch,
  tombstoneTtlMs: number,
  settings: TagScanSettings,
): Promise<number> {
  let invalidated = 0;
  for (let epoch = closed.scannedThrough + 1; epoch <= closed.closing; epoch += 1) {
    const pending = tagPendingKey(tag, epoch);
    let cursor = '0';
    do {
      const [next, members] = await redis.sscan(pending, cursor, 'COUNT', settings.scanCount);
      cursor = next;
      // Only keys the protocol could have written; anything else in the set is not ours to touch.
      const keys = members.filter((m) => keyProblem(m, settings.maxKeyBytes) === undefined);
      if (keys.length > 0) {
        await runner.run(keys.map((k) => purgeItem(k, tombstoneTtlMs)));
        invalidated += keys.length;
      }
    } while (cursor !== '0');
    await tagRetireScript.run(redis, tagStateKey(tag), pending, epoch);
  }
  return invalidated;
}
