// invalidateTag: closes the tag's epoch (tagBump-3), then walks the member sets of every
// closed epoch not yet scanned in bounded SSCAN steps, invalidating each step's members
// through the batch script before asking for the next step. A tag with a million members
// never blocks Redis: each step is one SSCAN COUNT n and one pipeline of small scripts.
//
// Why this is enough (see README "Tags"): a fill joins a tag only if the tag's epoch is still
// the one it read before loading (tagJoin-2), and it joins before it fills. So a fill that
// loaded before the bump either fails to join (and does not fill), or joined the set the
// bump closed, which is scanned here after the bump: its lease is voided or its value deleted.
import { randomInt } from 'node:crypto';
import { CacheProtocolError } from './errors';
import { KeyBatchRunner } from './key-batch';
import { purgeItem } from './key-effects';
import { keyProblem, tagMembersKey, tagPendingKey, tagStateKey } from './key-layout';
import { RedisConnection, tagBumpScript, tagRetireScript } from './scripts';

export interface TagScanSettings {
  scanCount: number;
  stateTtlMs: number;
  maxKeyBytes: number;
}

const MAX_BUMP_ATTEMPTS = 20;

/**
 * The epoch of a tag state created now: the clock in microseconds, so an epoch never repeats even
 * if the state expires or is evicted and is created again (a value recording the lost epoch can
 * never match by chance: it reads as a miss).
 */
export function freshTagEpoch(): number {
  return Date.now() * 1000 + randomInt(1000);
}

async function closeEpoch(redis: RedisConnection, tag: string, stateTtlMs: number): Promise<{ closing: number; scannedThrough: number }> {
  // Returns scannedThrough === closing when there is nothing to scan (tagBump's fast path).
  const stateKey = tagStateKey(tag);
  for (let attempt = 0; attempt < MAX_BUMP_ATTEMPTS; attempt += 1) {
    const current = await redis.hget(stateKey, 'e');
    const closing = current === null ? freshTagEpoch() : Number(current);
    const reply = await tagBumpScript.run(redis, stateKey, tagMembersKey(tag), tagPendingKey(tag, closing), current ?? '', closing + 1, closing - 1, stateTtlMs);
    if (reply.bumped && 'nothingToScan' in reply) return { closing, scannedThrough: closing };
    if (reply.bumped) {
      // A state without a readable scanned-through mark: scan at least the epoch just closed.
      const scannedThrough = Number.isSafeInteger(reply.scannedThrough) && reply.scannedThrough < closing ? reply.scannedThrough : closing - 1;
      return { closing, scannedThrough };
    }
  }
  throw new CacheProtocolError('TAG_CONTENDED', `tag "${tag}": its epoch moved on every one of ${MAX_BUMP_ATTEMPTS} attempts`, true);
}

/** Invalidates every member of `tag`; returns how many member keys were invalidated. */
export async function invalidateTag(redis: RedisConnection, runner: KeyBatchRunner, tag: string, tombstoneTtlMs: number, settings: TagScanSettings): Promise<number> {
  const { closing, scannedThrough } = await closeEpoch(redis, tag, settings.stateTtlMs);
  let invalidated = 0;
  if (scannedThrough >= closing) return 0;
  for (let epoch = scannedThrough + 1; epoch <= closing; epoch += 1) {
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
