// The local stack: one Kafka broker (KRaft), one redis-server and a 3-master Redis Cluster; on
// demand a PostgreSQL (`up --postgres`, startStackPostgres), Kafka Connect with Debezium (`up --cdc`,
// startStackConnect) and Varnish. All on free loopback
// ports, all recorded in `.stack/runs/<name>/state.json` so that `down` (or the next `up` after a
// crash) stops exactly what was started, by pid.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
// Relative, not @app/contracts: `npm run stack` runs without tsconfig-paths.
import { DEFAULT_ENTITY_UPDATED_PARTITIONS, DEFAULT_TOPICS } from '../../libs/contracts/src/topics';
import { createTopics, KafkaNodeInfo, startKafka, stopKafka } from './kafka';
import { isAlive, isOurs, StackError } from './processes';
import { PostgresInfo, startPostgres, stopPostgres } from './postgres';
import { ConnectInfo, startConnect, stopConnect } from './connect';
import { RedisNodeInfo, startRedisCluster, startRedisNode, stopRedisNode } from './redis';
import { startVarnish, stopVarnish, VarnishInfo } from './varnish';

export const STACK_ROOT = resolve(process.env.STACK_DIR ?? join(__dirname, '..', '..', '.stack'));

export interface StackState {
  name: string;
  /** Process that owns this stack; when it is dead the stack is a leftover. Absent for CLI stacks. */
  ownerPid?: number;
  startedAt: string;
  kafka?: KafkaNodeInfo;
  redis?: RedisNodeInfo;
  cluster?: RedisNodeInfo[];
  /** Varnish instances started on demand (startStackVarnish), each in front of one backend. */
  varnish?: VarnishInfo[];
  /** PostgreSQL, started with `up --postgres` or on demand (startStackPostgres). */
  postgres?: PostgresInfo;
  /** Kafka Connect with Debezium (startStackConnect): stopped by `down` before Kafka and PostgreSQL. */
  connect?: ConnectInfo;
}

export interface StackAddresses {
  kafkaBrokers: string;
  redisUrl: string;
  redisClusterNodes: string;
  /** postgres://postgres@127.0.0.1:PORT/postgres, or '' when the stack has no PostgreSQL. */
  postgresUrl: string;
}

export interface UpOptions {
  name: string;
  ownerPid?: number;
  cluster?: boolean;
  /** Also start PostgreSQL (off by default: the test stack starts it on demand). */
  postgres?: boolean;
  /** Also start PostgreSQL and one Kafka Connect worker with Debezium's PostgreSQL connector (`up --cdc`). */
  cdc?: boolean;
}

/** A stack name is one folder name under STACK_DIR/runs (emptied by `up`, deleted by `down`), never a path. */
const STACK_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

function isStackName(name: unknown): name is string {
  return typeof name === 'string' && STACK_NAME.test(name);
}

function runDir(name: string): string {
  if (!isStackName(name))
    throw new StackError(
      'BAD_NAME',
      `stack name ${JSON.stringify(name)} must be letters, digits, "_", "." or "-" (at most 64, starting with a letter or digit)`,
    );
  return join(STACK_ROOT, 'runs', name);
}

function statePath(name: string): string {
  return join(runDir(name), 'state.json');
}

export function readState(name: string): StackState | undefined {
  const path = statePath(name);
  if (!existsSync(path)) return undefined;
  return JSON.parse(readFileSync(path, 'utf8')) as StackState;
}

function writeState(state: StackState): void {
  mkdirSync(runDir(state.name), { recursive: true });
  writeFileSync(statePath(state.name), JSON.stringify(state, null, 2));
}

export function addresses(state: StackState): StackAddresses {
  return {
    kafkaBrokers: state.kafka ? `127.0.0.1:${state.kafka.brokerPort}` : '',
    redisUrl: state.redis ? `redis://127.0.0.1:${state.redis.port}` : '',
    redisClusterNodes: (state.cluster ?? []).map((n) => `127.0.0.1:${n.port}`).join(','),
    postgresUrl: state.postgres?.url ?? '',
  };
}

export async function down(name: string): Promise<boolean> {
  const state = readState(name);
  if (!state) return false;
  // Connect first: it flushes its source offsets to Kafka and lets go of its replication slot.
  if (state.connect) await stopConnect(state.connect);
  await Promise.all([
    state.kafka ? stopKafka(state.kafka) : Promise.resolve(),
    state.redis ? stopRedisNode(state.redis) : Promise.resolve(),
    ...(state.cluster ?? []).map(stopRedisNode),
    ...(state.varnish ?? []).map(stopVarnish),
    state.postgres ? stopPostgres(state.postgres) : Promise.resolve(),
  ]);
  rmSync(runDir(name), { recursive: true, force: true });
  return true;
}

/** Stops stacks left behind by crashed owners (test runs whose jest process died). */
export async function cleanLeftovers(): Promise<string[]> {
  const runs = join(STACK_ROOT, 'runs');
  if (!existsSync(runs)) return [];
  const cleaned: string[] = [];
  for (const name of readdirSync(runs).filter(isStackName)) {
    const state = readState(name);
    if (!state) {
      rmSync(join(runs, name), { recursive: true, force: true });
      continue;
    }
    if (state.ownerPid !== undefined && !isAlive(state.ownerPid)) {
      await down(name);
      cleaned.push(name);
    }
  }
  return cleaned;
}

/**
 * Starts a Varnish (xkey) in front of `backend` ("127.0.0.1:PORT") for the running stack `name`
 * and records its pid in state.json, so `down` (or the leftover cleanup) stops it. On demand
 * only: tests that need it (test/support/varnish.ts) and `npm run dev`.
 */
export async function startStackVarnish(name: string, backend: string, timeoutMs = 30_000): Promise<VarnishInfo> {
  if (!readState(name)) throw new Error(`no stack "${name}" is running`);
  const dir = join(runDir(name), `varnish-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`);
  const info = await startVarnish(dir, backend, { timeoutMs });
  const state = readState(name);
  if (!state) {
    await stopVarnish(info);
    throw new Error(`stack "${name}" went away while Varnish started`);
  }
  state.varnish = [...(state.varnish ?? []), info];
  writeState(state);
  return info;
}

/** Stops one Varnish of the stack and forgets it. */
export async function stopStackVarnish(name: string, info: VarnishInfo): Promise<void> {
  await stopVarnish(info);
  const state = readState(name);
  if (!state) return;
  state.varnish = (state.varnish ?? []).filter((v) => v.pid !== info.pid);
  writeState(state);
}

/**
 * The stack's PostgreSQL, started on first call and recorded in state.json (stopped by `down` and
 * the leftover cleanup); later calls, from any process (jest workers), get the same one. The start
 * is serialized across processes by a lock folder in the run folder.
 */
export async function startStackPostgres(
  name: string,
  timeoutMs = Number(process.env.STACK_POSTGRES_START_TIMEOUT_MS ?? 60_000),
): Promise<PostgresInfo> {
  const running = (): PostgresInfo | undefined => {
    const state = readState(name);
    if (!state) throw new StackError('NO_STACK', `no stack "${name}" is running`);
    return state.postgres && isOurs(state.postgres.pid, state.postgres.dataDir) ? state.postgres : undefined;
  };
  const lock = join(runDir(name), 'postgres.lock');
  const deadline = Date.now() + timeoutMs + 10_000;
  for (;;) {
    const found = running();
    if (found) return found;
    try {
      mkdirSync(lock);
    } catch {
      // Another process is starting it; a lock whose owner died is taken over.
      const owner = Number(existsSync(join(lock, 'pid')) ? readFileSync(join(lock, 'pid'), 'utf8') : NaN);
      if (Number.isInteger(owner) && !isAlive(owner)) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline)
        throw new StackError('TIMEOUT', `timed out waiting for another process to start PostgreSQL for stack "${name}" (lock ${lock})`);
      await new Promise((r) => setTimeout(r, 200));
      continue;
    }
    try {
      writeFileSync(join(lock, 'pid'), String(process.pid));
      const again = running();
      if (again) return again;
      const info = await startPostgres(join(runDir(name), 'postgres'), { timeoutMs });
      const state = readState(name);
      if (!state) {
        await stopPostgres(info);
        throw new StackError('NO_STACK', `stack "${name}" went away while PostgreSQL started`);
      }
      state.postgres = info;
      writeState(state);
      return info;
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
}

/** Starts one Kafka Connect worker (with Debezium's PostgreSQL connector) for the stack and records it, so `down` stops it. */
export async function startStackConnect(name: string): Promise<ConnectInfo> {
  const state = readState(name);
  if (!state?.kafka) throw new StackError('NO_STACK', `no stack "${name}" with Kafka is running`);
  if (state.connect && isOurs(state.connect.pid, state.connect.dir)) return state.connect;
  const info = await startConnect(join(runDir(name), 'connect'), join(STACK_ROOT, 'cache'), {
    brokers: [`127.0.0.1:${state.kafka.brokerPort}`],
  });
  const now = readState(name);
  if (!now) {
    await stopConnect(info);
    throw new StackError('NO_STACK', `stack "${name}" went away while Kafka Connect started`);
  }
  now.connect = info;
  writeState(now);
  return info;
}

export async function up(options: UpOptions): Promise<StackState> {
  const cleaned = await cleanLeftovers();
  if (cleaned.length > 0) console.error(`[stack] cleaned leftovers of crashed runs: ${cleaned.join(', ')}`);
  // A stack of the same name (e.g. `dev` after a crash) is replaced, not duplicated.
  await down(options.name);
  const dir = runDir(options.name);
  mkdirSync(dir, { recursive: true });
  const state: StackState = { name: options.name, ownerPid: options.ownerPid, startedAt: new Date().toISOString() };
  writeState(state);
  try {
    const [kafka, redis, cluster] = await Promise.all([
      startKafka(join(dir, 'kafka'), join(STACK_ROOT, 'cache')).then((k) => {
        state.kafka = k;
        writeState(state);
        return k;
      }),
      startRedisNode(join(dir, 'redis')).then((r) => {
        state.redis = r;
        writeState(state);
        return r;
      }),
      options.cluster === false
        ? Promise.resolve(undefined)
        : startRedisCluster(join(dir, 'redis-cluster')).then((c) => {
            state.cluster = c;
            writeState(state);
            return c;
          }),
    ]);
    void redis;
    void cluster;
    // After the others: startStackPostgres records itself in state.json, which they also write.
    if (options.postgres || options.cdc) state.postgres = await startStackPostgres(options.name);
    if (options.cdc) state.connect = await startStackConnect(options.name);
    await createTopics(
      [`127.0.0.1:${kafka.brokerPort}`],
      [
        { topic: DEFAULT_TOPICS.entityUpdated, numPartitions: DEFAULT_ENTITY_UPDATED_PARTITIONS },
        { topic: DEFAULT_TOPICS.deadLetter, numPartitions: 1 },
        {
          topic: DEFAULT_TOPICS.mappings,
          numPartitions: 1,
          configEntries: [
            { name: 'cleanup.policy', value: 'compact' },
            { name: 'min.compaction.lag.ms', value: '0' },
          ],
        },
      ],
    );
    return state;
  } catch (error) {
    await down(options.name);
    throw error;
  }
}

export function listStacks(): StackState[] {
  const runs = join(STACK_ROOT, 'runs');
  if (!existsSync(runs)) return [];
  return readdirSync(runs)
    .filter(isStackName)
    .map((name) => readState(name))
    .filter((s): s is StackState => s !== undefined);
}
