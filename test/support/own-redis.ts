// A redis-server of a test file's own (loopback, free port, temporary directory), for tests that
// change server settings the shared stack Redis must keep (maxmemory, eviction policy) or that
// stop the server. `stop()` disconnects the client, stops the server and removes its directory.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis, { RedisOptions } from 'ioredis';
import { RedisNodeInfo, startRedisNode, stopRedisNode } from '../../scripts/stack/redis';

export interface OwnRedis {
  node: RedisNodeInfo;
  /** A client of it (maxRetriesPerRequest 1 unless `clientOptions` say otherwise). */
  redis: Redis;
  url: string;
  /** Another client of the same server. */
  client(options?: RedisOptions): Redis;
  stop(): Promise<void>;
}

export async function startOwnRedis(name: string, clientOptions: RedisOptions = {}): Promise<OwnRedis> {
  const dir = mkdtempSync(join(tmpdir(), `${name}-`));
  const node = await startRedisNode(join(dir, 'redis'));
  const client = (options: RedisOptions = {}) => new Redis({ host: '127.0.0.1', port: node.port, maxRetriesPerRequest: 1, ...options });
  const redis = client(clientOptions);
  return {
    node,
    redis,
    url: `redis://127.0.0.1:${node.port}`,
    client,
    stop: async () => {
      redis.disconnect();
      await stopRedisNode(node);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
