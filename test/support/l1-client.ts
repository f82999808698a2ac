// An in-process reader with L1 + the invalidation bus (test/security/*), and what the bus stream
// holds. The reader's loader answers from a plain Redis key `db:<key>` holding {"version":n}, so
// a test changes "the database" with one SET and sees which version a read returns.
import Redis from 'ioredis';
import { Registry } from 'prom-client';
import { CacheClient, CacheClientOptions } from '@app/cache-client';
import { BusMessage, decodeBusMessage } from '@app/cache-protocol/bus';
import { redis } from './stack-env';

export interface L1Reader {
  client: CacheClient;
  /** getOrLoad(key) with the db loader: the version it returned. */
  read(key: string, options?: { ttlMs?: number }): Promise<number>;
  /** Sets the "database" version of key (the loader's answer). */
  setDb(key: string, version: number): Promise<void>;
  close(): Promise<void>;
}

export async function startL1Reader(
  options: { streamKey: string; maxStalenessMs: number } & Partial<CacheClientOptions>,
): Promise<L1Reader> {
  const { streamKey, maxStalenessMs, ...rest } = options;
  const conn = redis();
  const db = redis();
  const client = new CacheClient(conn, {
    registry: new Registry(),
    l1: { maxEntries: 1000, maxStalenessMs },
    bus: { streamKey, blockMs: 200 },
    ...rest,
  });
  await client.busReady();
  return {
    client,
    async read(key, o = {}) {
      const value = await client.getOrLoad<{ version: number }>(
        key,
        async () => {
          const raw = await db.get(`db:${key}`);
          const version = raw ? (JSON.parse(raw) as { version: number }).version : 0;
          return { value: { version }, version };
        },
        { ttlMs: o.ttlMs ?? 60_000 },
      );
      return value.version;
    },
    async setDb(key, version) {
      await db.set(`db:${key}`, JSON.stringify({ version }));
    },
    async close() {
      await client.close();
      conn.disconnect();
      db.disconnect();
    },
  };
}

/** Every readable message in the bus stream, oldest first. */
export async function busMessages(r: Redis, streamKey: string): Promise<BusMessage[]> {
  const entries = (await r.xrange(streamKey, '-', '+')) as Array<[string, string[]]>;
  const out: BusMessage[] = [];
  for (const [, fields] of entries) {
    try {
      out.push(decodeBusMessage(fields[fields.indexOf('m') + 1]));
    } catch {
      // not ours to judge here
    }
  }
  return out;
}
