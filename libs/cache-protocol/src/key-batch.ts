// Runs many per-key items through the batch script: several keys per EVALSHA call, one
// pipeline per Redis node, all nodes at once, no await per key. Under Redis Cluster a script
// may only touch one slot, so items are grouped by slot first (the companions of a key share
// its slot); on a standalone Redis any grouping works, so items are simply chunked in order.
// Items of the same key stay in input order (same slot, same call or same pipeline).
import type { ChainableCommander, Cluster } from 'ioredis';
import { companionsOf } from './key-layout';
import { applyKeyEffectsScript, RedisConnection, ScriptArg } from './scripts';
import { clusterSlot } from './slot';

export interface KeyBatchItem {
  /** A validated key. */
  key: string;
  /** This item's ARGV in the batch script (action first). */
  argv: ScriptArg[];
}

interface ScriptCall {
  items: number[];
  keys: string[];
  argv: ScriptArg[];
}

function isCluster(redis: RedisConnection): redis is Cluster {
  return (redis as Cluster).isCluster === true;
}

function toCall(items: KeyBatchItem[], indices: number[]): ScriptCall {
  const keys: string[] = [];
  const argv: ScriptArg[] = [];
  for (const i of indices) {
    const c = companionsOf(items[i].key);
    keys.push(c.value, c.tombstone, c.lease);
    for (const a of items[i].argv) argv.push(a);
  }
  return { items: indices, keys, argv };
}

function chunk(indices: number[], size: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < indices.length; i += size) out.push(indices.slice(i, i + size));
  return out;
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
    await Promise.all(groups.map((calls) => this.execute(calls.pipelineable, calls.calls, codes)));
    return codes;
  }

  /** Calls grouped by the node that serves them (one group for a standalone Redis). */
  private plan(items: KeyBatchItem[]): { pipelineable: boolean; calls: ScriptCall[] }[] {
    const redis = this.redis;
    if (!isCluster(redis)) {
      const all = items.map((_, i) => i);
      return [{ pipelineable: true, calls: chunk(all, this.maxItemsPerCall).map((c) => toCall(items, c)) }];
    }
    const bySlot = new Map<number, number[]>();
    for (let i = 0; i < items.length; i += 1) {
      const slot = clusterSlot(items[i].key);
      const list = bySlot.get(slot);
      if (list) list.push(i);
      else bySlot.set(slot, [i]);
    }
    const byNode = new Map<string, ScriptCall[]>();
    const unrouted: ScriptCall[] = [];
    for (const [slot, indices] of bySlot) {
      const node = redis.slots[slot]?.join(';');
      for (const c of chunk(indices, this.maxItemsPerCall)) {
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

  private async execute(pipelineable: boolean, calls: ScriptCall[], codes: number[]): Promise<void> {
    if (!pipelineable || calls.length === 1) {
      const replies = await Promise.all(calls.map((c) => applyKeyEffectsScript.run(this.redis, c.keys, c.argv)));
      replies.forEach((reply, n) => calls[n].items.forEach((item, j) => (codes[item] = reply[j])));
      return;
    }
    const pipeline: ChainableCommander = this.redis.pipeline();
    const decoders = calls.map((c) => applyKeyEffectsScript.queue(pipeline, c.keys, c.argv));
    const results = await pipeline.exec();
    if (!results) throw new Error('pipeline was discarded');
    results.forEach(([error, reply], n) => {
      if (error) throw error;
      const decoded = decoders[n](reply);
      calls[n].items.forEach((item, j) => (codes[item] = decoded[j]));
    });
  }
}
