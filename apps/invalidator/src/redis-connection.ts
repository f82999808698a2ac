// Redis or Redis Cluster from config. Commands fail fast while Redis is down (no endless
// offline queue) so the pipeline's own backoff decides what happens, and nothing is committed.
import Redis, { Cluster, RedisOptions } from 'ioredis';
import { InvalidatorConfig } from './config/invalidator.config';

export function createRedis(config: InvalidatorConfig): Redis | Cluster {
  const options: RedisOptions = {
    username: config.REDIS_USERNAME,
    password: config.REDIS_PASSWORD,
    tls: config.REDIS_TLS ? {} : undefined,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    commandTimeout: 10_000,
    retryStrategy: (times) => Math.min(times * 100, 2_000),
  };
  if (config.REDIS_CLUSTER_NODES) {
    const nodes = config.REDIS_CLUSTER_NODES.split(',').map((hp) => {
      const [host, port] = hp.split(':');
      return { host, port: Number(port) };
    });
    return new Cluster(nodes, { redisOptions: options, clusterRetryStrategy: (times) => Math.min(times * 100, 2_000) });
  }
  // Auto-pipelining batches the commands issued in one tick into one socket write (the tag
  // steps of a chunk are hundreds of small commands). Not on Cluster: there ioredis routes an
  // auto-pipelined EVALSHA by the wrong argument (the first argument, not the first key); the key batches are
  // explicit per-node pipelines anyway.
  return new Redis(config.REDIS_URL!, { ...options, enableAutoPipelining: true });
}

export function isRedisReady(redis: Redis | Cluster): boolean {
  return redis.status === 'ready';
}
