// The Redis-side baseline of the single-key state: the same invalidations through the earlier
// three-key batch script (fixtures/three-key-invalidateKeys.lua: value K, tombstone ~t{K},
// lease ~l{K}, 4-6 commands per key), on the same redis-server in the same run, so the bench
// reports redis-server CPU per event for both and their ratio (the goal: at most half).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type Redis from 'ioredis';
import { encodeEnvelope } from '@app/cache-protocol';

const LUA = readFileSync(join(__dirname, 'fixtures', 'three-key-invalidateKeys.lua'), 'utf8');
/** Keys per EVALSHA: what the library sends (maxKeysPerScriptCall's default). */
const KEYS_PER_CALL = 64;

/** An item as the earlier batch script packs it: 't<version>:<ttlMs>' or 'd<version>'. */
export interface ThreeKeyItem {
  key: string;
  head: string;
}

export class ThreeKeyBaseline {
  private sha?: string;

  constructor(private readonly redis: Redis) {}

  /** Caches `keys` as the earlier layout did (a format-1 value at K, version 1). */
  async seed(keys: string[], payload: string): Promise<void> {
    const value = encodeEnvelope({ version: 1, writtenAt: Date.now(), freshForMs: 0, namespaceGeneration: 0, payload });
    for (let i = 0; i < keys.length; i += 2000) {
      const p = this.redis.pipeline();
      for (const k of keys.slice(i, i + 2000)) p.set(k, value, 'PX', 3_600_000);
      await p.exec();
    }
  }

  /** Applies `items` in calls of 64 keys, all calls of one chunk in one pipeline (as the library does). */
  async apply(items: ThreeKeyItem[]): Promise<void> {
    this.sha ??= (await this.redis.script('LOAD', LUA)) as string;
    const p = this.redis.pipeline();
    for (let i = 0; i < items.length; i += KEYS_PER_CALL) {
      const call = items.slice(i, i + KEYS_PER_CALL);
      p.evalsha(this.sha, call.length, ...call.map((c) => c.key), ...call.map((c) => c.head));
    }
    const replies = await p.exec();
    const failed = replies?.find(([error]) => error);
    if (failed) throw failed[0] as Error;
  }
}
