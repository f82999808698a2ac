// Runs many per-key items through the batch script: several keys per EVALSHA call, one
// pipeline per Redis node, all nodes at once, no await per key. Under Redis Cluster a script
// may only touch one slot, so items are grouped by slot first (a key's whole state lives in the
// key itself); on a standalone Redis any grouping works, so items are simply chunked in order.
// Items of the same key stay in input order (same slot, same call or same pipeline).
//
// Each item travels as one key name (its floor and lease live in it) and one packed
// ARGV (three for a warm): see lua/includes/packedItem.lua.
//
// Calls without warm items go to invalidateKeys-1n (allow-oom: invalidations always land, even
// at maxmemory with noeviction). Calls with warm items go to applyKeyEffects-1n, which Redis
// refuses as a whole before it runs when it is at maxmemory; such a call is then applied again
// through invalidateKeys-1n with each warm replaced by its `degraded` form (a tombstone of its
// version), and the warm items report WARM_DEGRADED_OOM. Nothing waits for memory to free up.
import type { ChainableCommander } from 'ioredis';
import { WARM_DEGRADED_OOM } from './outcomes';
import { applyKeyEffectsScript, invalidateKeysScript, isCluster, isOomError, RedisConnection } from './scripts';
import { chunked, indicesBySlot } from './slot';

export interface KeyBatchItem {
  /** A validated key. */
  key: string;
  /** This item's ARGV in the batch script: its packed head (action first), then a warm's tag epochs and payload. */
  argv: string[];
  /** Warm items: the invalidation applied instead when Redis refuses the warm for lack of memory. */
  degraded?: string[];
}

interface ScriptCall {
  items: number[];
  keys: string[];
  argv: string[];
  /** The call carries warm items (applyKeyEffects-1n, refused at maxmemory). */
  warms: boolean;
}

function toCall(items: KeyBatchItem[], indices: number[], degraded = false): ScriptCall {
  const keys = new Array<string>(indices.length);
  const argv: string[] = [];
  let warms = false;
  for (let n = 0; n < indices.length; n += 1) {
    const item = items[indices[n]];
    keys[n] = item.key;
    const args = degraded && item.degraded ? item.degraded : item.argv;
    if (args[0].charCodeAt(0) === 119 /* 'w' */) warms = true;
    for (const a of args) argv.push(a);
  }
  return { items: indices, keys, argv, warms };
}

function send(redis: RedisConnection, call: ScriptCall): Promise<number[]> {
  return call.warms ? applyKeyEffectsScript.run(redis, call.keys, call.argv) : invalidateKeysScript.run(redis, call.keys, call.argv);
}

export class KeyBatchRunner {
  constructor(
    private readonly redis: RedisConnection,
    private readonly maxItemsPerCall: number,
  ) {}

  /** One script code per item, in item order. Rejects when Redis fails; every item is safe to run again. */
  async run(items: KeyBatchItem[]): Promise<number[]> {
    if (items.length === 0) return [];
    const codes = new Array<number>(items.length);
    const groups = this.plan(items);
    await Promise.all(groups.map((calls) => this.execute(calls.pipelineable, calls.calls, codes, items)));
    return codes;
  }

  /** Calls grouped by the node that serves them (one group for a standalone Redis). */
  private plan(items: KeyBatchItem[]): { pipelineable: boolean; calls: ScriptCall[] }[] {
    const redis = this.redis;
    if (!isCluster(redis)) {
      const all = items.map((_, i) => i);
      return [{ pipelineable: true, calls: chunked(all, this.maxItemsPerCall).map((c) => toCall(items, c)) }];
    }
    const bySlot = indicesBySlot(items, (item) => item.key);
    const byNode = new Map<string, ScriptCall[]>();
    const unrouted: ScriptCall[] = [];
    for (const [slot, indices] of bySlot) {
      const node = redis.slots[slot]?.join(';');
      for (const c of chunked(indices, this.maxItemsPerCall)) {
        const call = toCall(items, c);
        if (node === undefined) unrouted.push(call);
        else {
          const list = byNode.get(node);
          if (list) list.push(call);
          else byNode.set(node, [call]);
        }
      }
    }
    const groups = [...byNode.values()].map((calls) => ({ pipelineable: true, calls }));
    // Slot map not known yet (cluster still connecting): send calls singly, ioredis routes them.
    if (unrouted.length > 0) groups.push({ pipelineable: false, calls: unrouted });
    return groups;
  }

  private async execute(pipelineable: boolean, calls: ScriptCall[], codes: number[], items: KeyBatchItem[]): Promise<void> {
    const refused: ScriptCall[] = [];
    const settle = (call: ScriptCall, error: Error | null | undefined, reply: number[] | undefined): void => {
      if (error) {
        if (call.warms && isOomError(error)) refused.push(call);
        else throw error;
        return;
      }
      call.items.forEach((item, j) => (codes[item] = (reply as number[])[j]));
    };
    if (!pipelineable || calls.length === 1) {
      const replies = await Promise.allSettled(calls.map((c) => send(this.redis, c)));
      // ioredis rejects with an Error (ReplyError for Redis' own refusals)
      replies.forEach((r, n) =>
        settle(calls[n], r.status === 'rejected' ? (r.reason as Error) : undefined, r.status === 'fulfilled' ? r.value : undefined),
      );
    } else {
      const pipeline: ChainableCommander = this.redis.pipeline();
      const decoders = calls.map((c) => (c.warms ? applyKeyEffectsScript : invalidateKeysScript).queue(pipeline, c.keys, c.argv));
      const results = await pipeline.exec();
      if (!results) throw new Error('pipeline was discarded');
      results.forEach(([error, reply], n) => settle(calls[n], error, error ? undefined : decoders[n](reply)));
    }
    if (refused.length === 0) return;
    // Redis is at maxmemory: the warms become tombstones of their versions (allow-oom script).
    const degraded = refused.map((c) => toCall(items, c.items, true));
    const replies = await Promise.all(degraded.map((c) => send(this.redis, c)));
    replies.forEach((reply, n) =>
      degraded[n].items.forEach((item, j) => (codes[item] = items[item].degraded ? WARM_DEGRADED_OOM : reply[j])),
    );
  }
}
