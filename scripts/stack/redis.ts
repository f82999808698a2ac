// Local redis-server instances: a standalone one and a 3-master cluster, loopback only,
// no persistence, each on a free port, each stoppable and restartable on the same port.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Redis from 'ioredis';
import { commandExists, freePort, isOurs, spawnDetached, StackError, stopPid, tail, waitFor } from './processes';

export interface RedisNodeInfo {
  port: number;
  /** Cluster bus port (cluster nodes only). */
  busPort?: number;
  pid: number;
  dir: string;
}

const CLUSTER_SLOTS = 16384;

export function ensureRedisInstalled(): void {
  if (commandExists('redis-server')) return;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot && commandExists('apt-get')) {
    console.error('[stack] redis-server missing: installing it with apt-get (Debian package redis-server)');
    const update = spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    const install = spawnSync('apt-get', ['install', '-y', '-qq', 'redis-server'], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    if (update.status === 0 && install.status === 0 && commandExists('redis-server')) return;
  }
  throw new StackError('REDIS_MISSING', 'redis-server is not installed. Install it with: sudo apt-get install -y redis-server');
}

function redisArgs(port: number, dir: string, cluster: boolean, busPort: number): string[] {
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--protected-mode',
    'yes',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
    '--daemonize',
    'no',
    '--logfile',
    '',
    '--maxmemory-policy',
    'noeviction',
  ];
  // The bus port defaults to port + 10000, which does not exist for ports above 55535: pick one.
  if (cluster)
    args.push(
      '--cluster-enabled',
      'yes',
      '--cluster-port',
      String(busPort),
      '--cluster-config-file',
      join(dir, 'nodes.conf'),
      '--cluster-node-timeout',
      '2000',
    );
  return args;
}

/** Starts one node; a free port taken by someone else between the pick and the bind is retried with another. */
export interface RedisNodeOptions {
  port?: number;
  cluster?: boolean;
  /** More redis-server arguments, after the defaults (a later one wins), e.g. ['--maxmemory', '4mb', '--maxmemory-policy', 'allkeys-lru']. */
  extraArgs?: string[];
}

export async function startRedisNode(dir: string, options: RedisNodeOptions = {}): Promise<RedisNodeInfo> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startRedisNodeOnce(dir, options);
    } catch (error) {
      if (options.port !== undefined || attempt >= 3 || !(error instanceof StackError) || error.code !== 'REDIS_EXITED') throw error;
    }
  }
}

async function startRedisNodeOnce(dir: string, options: RedisNodeOptions): Promise<RedisNodeInfo> {
  ensureRedisInstalled();
  mkdirSync(dir, { recursive: true });
  const port = options.port ?? (await freePort());
  let busPort = options.cluster ? await freePort() : 0;
  while (options.cluster && busPort === port) busPort = await freePort();
  const logFile = join(dir, 'redis.log');
  const pid = spawnDetached(
    'redis-server',
    [...redisArgs(port, dir, options.cluster ?? false, busPort), ...(options.extraArgs ?? [])],
    logFile,
  );
  try {
    await waitFor(
      `redis-server on 127.0.0.1:${port}`,
      async () => {
        if (!isOurs(pid, String(port))) throw new StackError('REDIS_EXITED', `redis-server exited:\n${tail(logFile)}`);
        const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
        client.on('error', () => undefined);
        try {
          await client.connect();
          return (await client.ping()) === 'PONG' ? true : undefined;
        } finally {
          client.disconnect();
        }
      },
      15_000,
      100,
    );
  } catch (error) {
    await stopPid(pid, String(port), 2_000);
    throw error;
  }
  return { port, pid, dir, ...(options.cluster ? { busPort } : {}) };
}

export async function stopRedisNode(node: RedisNodeInfo): Promise<void> {
  await stopPid(node.pid, String(node.port), 5_000);
}

/** Starts `masters` cluster-enabled nodes, splits the slots evenly, joins them, waits for cluster_state:ok. */
export async function startRedisCluster(baseDir: string, masters = 3): Promise<RedisNodeInfo[]> {
  const nodes: RedisNodeInfo[] = [];
  try {
    for (let i = 0; i < masters; i += 1) nodes.push(await startRedisNode(join(baseDir, `node-${i}`), { cluster: true }));
    const clients = nodes.map((n) => new Redis({ port: n.port, host: '127.0.0.1', maxRetriesPerRequest: 1 }));
    try {
      const per = Math.ceil(CLUSTER_SLOTS / masters);
      for (let i = 0; i < masters; i += 1) {
        const from = i * per;
        const to = Math.min(CLUSTER_SLOTS - 1, (i + 1) * per - 1);
        await clients[i].call('CLUSTER', 'ADDSLOTSRANGE', String(from), String(to));
      }
      for (let i = 1; i < masters; i += 1)
        await clients[0].call('CLUSTER', 'MEET', '127.0.0.1', String(nodes[i].port), String(nodes[i].busPort));
      await waitFor(
        'redis cluster_state:ok on every node',
        async () => {
          for (const client of clients) {
            const info = String(await client.call('CLUSTER', 'INFO'));
            if (!info.includes('cluster_state:ok') || !info.includes(`cluster_known_nodes:${masters}`)) return undefined;
          }
          return true;
        },
        30_000,
        200,
      );
    } finally {
      clients.forEach((c) => c.disconnect());
    }
    return nodes;
  } catch (error) {
    await Promise.all(nodes.map(stopRedisNode));
    throw error;
  }
}

/**
 * Starts a cluster node in `dir`, joins it to the cluster through `master` and makes it a replica
 * of `master` (CLUSTER REPLICATE); resolves once its replication link is up. `noFailover`: the
 * replica never promotes itself (cluster-replica-no-failover), only a CLUSTER FAILOVER does.
 * `masterAnnouncedPort`: the port the master announces (cluster-announce-port, e.g. a proxy in
 * front of it): the replica is told to replicate only once it knows the master there, so its
 * link goes through that port.
 */
export async function startClusterReplica(
  master: RedisNodeInfo,
  dir: string,
  options: { noFailover?: boolean; masterAnnouncedPort?: number } = {},
): Promise<RedisNodeInfo> {
  const node = await startRedisNode(dir, {
    cluster: true,
    // Stays the replica of `master`: the cluster never migrates it to a master left without replicas.
    extraArgs: ['--cluster-allow-replica-migration', 'no', ...(options.noFailover ? ['--cluster-replica-no-failover', 'yes'] : [])],
  });
  const toMaster = new Redis({ port: master.port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
  const toReplica = new Redis({ port: node.port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
  try {
    const masterId = String(await toMaster.call('CLUSTER', 'MYID'));
    await toReplica.call('CLUSTER', 'MEET', '127.0.0.1', String(master.port), String(master.busPort));
    // REPLICATE needs the master in the new node's table (the MEET's handshake).
    await waitFor(
      `node ${node.port} knows master ${master.port}`,
      async () => {
        const line = String(await toReplica.call('CLUSTER', 'NODES'))
          .split('\n')
          .find((l) => l.startsWith(masterId));
        return line !== undefined && line.includes(`127.0.0.1:${options.masterAnnouncedPort ?? master.port}@`) ? true : undefined;
      },
      30_000,
      100,
    );
    await toReplica.call('CLUSTER', 'REPLICATE', masterId);
    await waitFor(
      `replica ${node.port} of ${master.port} linked`,
      async () => (/^master_link_status:up/m.test(await toReplica.info('replication')) ? true : undefined),
      30_000,
      100,
    );
    return node;
  } catch (error) {
    await stopRedisNode(node);
    throw error;
  } finally {
    toMaster.disconnect();
    toReplica.disconnect();
  }
}
