// Kafka Connect with Debezium's PostgreSQL connector, for change data capture in the local stack.
// Jars from Maven Central (connect.pom.xml: the worker, same Apache Kafka line as the broker;
// debezium.pom.xml: the plugin), fetched once into the stack cache like the broker's. One worker
// in distributed mode (offsets, configs and status in Kafka topics, so a worker restart resumes
// where the connector was), loopback only, a free REST port, stopped by pid.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureJavaAndMaven } from './kafka';
import { freePort, isOurs, spawnDetached, StackError, stopPid, tail, waitFor } from './processes';

export const CONNECT_VERSION = '3.9.1';
export const DEBEZIUM_VERSION = '3.6.1.Final';
export const POSTGRES_CONNECTOR_CLASS = 'io.debezium.connector.postgresql.PostgresConnector';

export interface ConnectInfo {
  pid: number;
  dir: string;
  restPort: number;
  /** http://127.0.0.1:PORT (the worker's REST API). */
  url: string;
  logFile: string;
  /** The worker group and the prefix of its internal topics. */
  groupId: string;
}

/**
 * Jars a plugin must not carry: the worker provides the Connect API, Kafka clients and slf4j, and
 * Debezium's newer Jackson clashes with the worker's at plugin scan (a CloudEventsConverter error).
 * With them gone the plugin loader falls back to the worker's copies.
 */
const PLUGIN_EXCLUDED = /^(connect-api|kafka-clients|slf4j-api|jackson-|lz4-java|snappy-java|zstd-jni)/;

function mvnCopy(pom: string, outputDirectory: string, what: string): void {
  ensureJavaAndMaven();
  mkdirSync(outputDirectory, { recursive: true });
  console.error(`[stack] fetching ${what} from Maven Central (once)`);
  const result = spawnSync(
    'mvn',
    ['-q', '-B', '-f', pom, 'dependency:copy-dependencies', `-DoutputDirectory=${outputDirectory}`, '-DincludeScope=runtime'],
    { encoding: 'utf8', timeout: 600_000 },
  );
  if (result.status !== 0)
    throw new StackError(
      'CONNECT_DOWNLOAD_FAILED',
      `mvn dependency:copy-dependencies (${what}) failed (exit ${result.status}):\n${result.stdout}\n${result.stderr}`,
    );
}

/** The Connect worker's jars, once, into `<cacheDir>/connect-<version>/libs`. */
export function ensureConnectJars(cacheDir: string): string {
  const libs = join(cacheDir, `connect-${CONNECT_VERSION}`, 'libs');
  if (existsSync(join(libs, `connect-runtime-${CONNECT_VERSION}.jar`))) return libs;
  rmSync(libs, { recursive: true, force: true });
  mvnCopy(join(__dirname, 'connect.pom.xml'), libs, `Kafka Connect ${CONNECT_VERSION}`);
  if (!existsSync(join(libs, `connect-runtime-${CONNECT_VERSION}.jar`)))
    throw new StackError('CONNECT_DOWNLOAD_FAILED', `connect-runtime-${CONNECT_VERSION}.jar missing in ${libs} after the download`);
  return libs;
}

/** Debezium's PostgreSQL connector as a Connect plugin folder; returns the plugin.path (its parent). */
export function ensureDebeziumPlugin(cacheDir: string): string {
  const pluginPath = join(cacheDir, `debezium-${DEBEZIUM_VERSION}`, 'plugins');
  const plugin = join(pluginPath, 'debezium-connector-postgres');
  const marker = join(plugin, `debezium-connector-postgres-${DEBEZIUM_VERSION}.jar`);
  if (existsSync(marker) && readdirSync(plugin).every((f) => !PLUGIN_EXCLUDED.test(f))) return pluginPath;
  rmSync(plugin, { recursive: true, force: true });
  mvnCopy(join(__dirname, 'debezium.pom.xml'), plugin, `Debezium ${DEBEZIUM_VERSION} PostgreSQL connector`);
  for (const jar of readdirSync(plugin)) if (PLUGIN_EXCLUDED.test(jar)) rmSync(join(plugin, jar));
  if (!existsSync(marker)) throw new StackError('CONNECT_DOWNLOAD_FAILED', `${marker} missing after the download`);
  return pluginPath;
}

const LOG4J = [
  'log4j.rootLogger=INFO, stdout',
  'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
  'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
  'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
  'log4j.logger.org.apache.kafka=WARN',
  'log4j.logger.org.apache.kafka.connect.runtime.Worker=INFO',
  'log4j.logger.org.apache.kafka.connect.runtime.WorkerTask=INFO',
  'log4j.logger.org.reflections=ERROR',
  'log4j.logger.org.eclipse.jetty=WARN',
  'log4j.logger.io.debezium=INFO',
  '',
].join('\n');

export interface StartConnectOptions {
  brokers: string[];
  /** Worker group id and internal topic prefix (default "stack-connect"). */
  groupId?: string;
  /** Bound on the start until the Debezium plugin is listed (default STACK_CONNECT_START_TIMEOUT_MS or 120 s). */
  timeoutMs?: number;
}

function workerProperties(dir: string, restPort: number, pluginPath: string, brokers: string[], groupId: string): string {
  return [
    `bootstrap.servers=${brokers.join(',')}`,
    `group.id=${groupId}`,
    `listeners=http://127.0.0.1:${restPort}`,
    'rest.advertised.host.name=127.0.0.1',
    `rest.advertised.port=${restPort}`,
    `plugin.path=${pluginPath}`,
    // Manifests only: no class-path scan (the scan takes most of a cold start).
    'plugin.discovery=service_load',
    'key.converter=org.apache.kafka.connect.json.JsonConverter',
    'value.converter=org.apache.kafka.connect.json.JsonConverter',
    'key.converter.schemas.enable=false',
    'value.converter.schemas.enable=false',
    // The stack's broker is one node and does not auto-create topics: the worker creates these itself.
    `config.storage.topic=${groupId}-configs`,
    `offset.storage.topic=${groupId}-offsets`,
    `status.storage.topic=${groupId}-status`,
    'config.storage.replication.factor=1',
    'offset.storage.replication.factor=1',
    'status.storage.replication.factor=1',
    'offset.storage.partitions=5',
    'status.storage.partitions=1',
    // Source offsets (the WAL position acknowledged to PostgreSQL) flushed each second.
    'offset.flush.interval.ms=1000',
    // Connectors' output topics are created from their topic.creation.default.* settings.
    'topic.creation.enable=true',
    `# written by scripts/stack/connect.ts for ${dir}`,
    '',
  ].join('\n');
}

/** Starts one distributed worker; resolves once its REST API lists Debezium's PostgreSQL connector. */
export async function startConnect(dir: string, cacheDir: string, options: StartConnectOptions): Promise<ConnectInfo> {
  const libs = ensureConnectJars(cacheDir);
  const pluginPath = ensureDebeziumPlugin(cacheDir);
  mkdirSync(dir, { recursive: true });
  const restPort = await freePort();
  const groupId = options.groupId ?? 'stack-connect';
  const props = join(dir, 'worker.properties');
  writeFileSync(props, workerProperties(dir, restPort, pluginPath, options.brokers, groupId));
  writeFileSync(join(dir, 'log4j.properties'), LOG4J);
  const logFile = join(dir, 'connect.log');
  const classpath = readdirSync(libs)
    .filter((f) => f.endsWith('.jar'))
    .map((f) => join(libs, f))
    .join(':');
  const pid = spawnDetached(
    'java',
    [
      `-Xmx${process.env.STACK_CONNECT_HEAP ?? '512m'}`,
      '-Xms64m',
      '-XX:+UseG1GC',
      '-Djava.awt.headless=true',
      '-Djava.net.preferIPv4Stack=true',
      `-Dlog4j.configuration=file:${join(dir, 'log4j.properties')}`,
      `-Dstack.dir=${dir}`,
      '-cp',
      classpath,
      'org.apache.kafka.connect.cli.ConnectDistributed',
      props,
    ],
    logFile,
  );
  const info: ConnectInfo = { pid, dir, restPort, url: `http://127.0.0.1:${restPort}`, logFile, groupId };
  try {
    await waitFor(
      `Kafka Connect on 127.0.0.1:${restPort} listing ${POSTGRES_CONNECTOR_CLASS}`,
      async () => {
        if (!isOurs(pid, dir)) throw new StackError('CONNECT_EXITED', 'the Kafka Connect worker exited');
        const plugins = (await connectRequest(info, 'GET', '/connector-plugins')) as { class: string }[];
        return plugins.some((p) => p.class === POSTGRES_CONNECTOR_CLASS) ? true : undefined;
      },
      options.timeoutMs ?? Number(process.env.STACK_CONNECT_START_TIMEOUT_MS ?? 120_000),
      500,
    );
  } catch (error) {
    await stopConnect(info);
    const message = error instanceof Error ? error.message : String(error);
    throw new StackError('CONNECT_START_FAILED', `${message}\n--- tail of ${logFile} ---\n${tail(logFile)}`);
  }
  return info;
}

/** SIGTERM (the task flushes its offsets), SIGKILL after the grace. */
export async function stopConnect(info: ConnectInfo, graceMs = 20_000): Promise<void> {
  await stopPid(info.pid, info.dir, graceMs);
}

/** One call to the worker's REST API; throws with the worker's message on a non-2xx answer. */
export async function connectRequest(
  info: Pick<ConnectInfo, 'url'>,
  method: 'GET' | 'PUT' | 'POST' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<unknown> {
  const response = await fetch(`${info.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  if (!response.ok) throw new StackError('CONNECT_REQUEST_FAILED', `${method} ${path}: HTTP ${response.status} ${text.slice(0, 2_000)}`);
  return text === '' ? undefined : (JSON.parse(text) as unknown);
}

interface ConnectorStatus {
  connector: { state: string; trace?: string };
  tasks: { id: number; state: string; trace?: string }[];
}

/** Creates or updates a connector (idempotent) and waits until the connector and all its tasks run. */
export async function registerConnector(
  info: ConnectInfo,
  name: string,
  config: Record<string, string>,
  timeoutMs = 60_000,
): Promise<void> {
  await connectRequest(info, 'PUT', `/connectors/${encodeURIComponent(name)}/config`, config);
  await waitForConnectorRunning(info, name, timeoutMs);
}

export async function waitForConnectorRunning(info: ConnectInfo, name: string, timeoutMs = 60_000): Promise<void> {
  await waitFor(
    `connector ${name} and its tasks RUNNING`,
    async () => {
      const status = (await connectRequest(info, 'GET', `/connectors/${encodeURIComponent(name)}/status`)) as ConnectorStatus;
      const failed = [status.connector, ...status.tasks].find((s) => s.state === 'FAILED');
      if (failed) throw new StackError('CONNECTOR_EXITED', `connector ${name} FAILED:\n${(failed.trace ?? '').slice(0, 3_000)}`);
      return status.connector.state === 'RUNNING' && status.tasks.length > 0 && status.tasks.every((t) => t.state === 'RUNNING')
        ? true
        : undefined;
    },
    timeoutMs,
    250,
  );
}

/**
 * What both connectors share: one table of the stack's PostgreSQL (loopback, user postgres) read
 * through pgoutput from a slot and a publication its owner created, no snapshot (a cache needs no
 * copy of old rows: changes from the slot's creation on), a short poll (most of Debezium's own
 * latency at low rates). The slot name is also the topic prefix.
 */
function postgresSource(options: {
  port: number;
  database: string;
  table: string;
  slot: string;
  publication: string;
}): Record<string, string> {
  return {
    'connector.class': POSTGRES_CONNECTOR_CLASS,
    'tasks.max': '1',
    'database.hostname': '127.0.0.1',
    'database.port': String(options.port),
    'database.user': 'postgres',
    'database.dbname': options.database,
    'plugin.name': 'pgoutput',
    'publication.name': options.publication,
    'publication.autocreate.mode': 'disabled',
    'slot.name': options.slot,
    'topic.prefix': options.slot,
    'table.include.list': `public.${options.table}`,
    'snapshot.mode': 'no_data',
    'poll.interval.ms': '50',
  };
}

/**
 * Debezium's PostgreSQL connector with its outbox event router on an outbox table written by
 * libs/publisher's PostgresOutbox: every inserted row goes to `topic` as the stored event (the
 * jsonb text, unchanged) keyed by its aggregate_key column (entityType:entityId, the publisher's
 * key, so the same partition). The publication must exist (publish = 'insert').
 */
export function outboxConnectorConfig(options: {
  table: string;
  port: number;
  database: string;
  slot: string;
  publication: string;
  topic: string;
}): Record<string, string> {
  return {
    ...postgresSource(options),
    'tombstones.on.delete': 'false',
    transforms: 'outbox',
    'transforms.outbox.type': 'io.debezium.transforms.outbox.EventRouter',
    'transforms.outbox.table.field.event.id': 'id',
    'transforms.outbox.table.field.event.key': 'aggregate_key',
    'transforms.outbox.table.field.event.payload': 'event',
    // One destination: the route field must name a column, the replacement is a constant.
    'transforms.outbox.route.by.field': 'aggregate_key',
    'transforms.outbox.route.topic.replacement': options.topic,
    // The relay's claim and sent updates are not events.
    'transforms.outbox.table.op.invalid.behavior': 'warn',
    // The stored event as it is (jsonb text) and the key as a string: the bytes a producer would send.
    'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
    'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
    'topic.creation.default.replication.factor': '1',
    'topic.creation.default.partitions': '3',
  };
}

/**
 * Debezium's PostgreSQL connector on one table (row-change events for an invalidator with
 * EVENT_FORMAT=debezium). The table needs REPLICA IDENTITY FULL (a delete's and an update's old
 * row), the publication must exist. Topic: `<slot>.<schema>.<table>`, keyed by the primary key.
 */
export function tableConnectorConfig(options: {
  port: number;
  database: string;
  table: string;
  slot: string;
  publication: string;
  partitions?: number;
  schemas?: boolean;
}): Record<string, string> {
  return {
    ...postgresSource(options),
    // numeric(14,2) as "12.50", not base64 bytes or a lossy double (CDC_NUMERIC_COLUMNS turns it into a number).
    'decimal.handling.mode': 'string',
    // Keeps the slot's confirmed position moving while the table is idle but the database is not.
    'heartbeat.interval.ms': '1000',
    'tombstones.on.delete': 'true',
    'key.converter.schemas.enable': String(options.schemas ?? false),
    'value.converter.schemas.enable': String(options.schemas ?? false),
    'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
    'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
    'topic.creation.default.replication.factor': '1',
    'topic.creation.default.partitions': String(options.partitions ?? 3),
  };
}

/**
 * kill -9 of the worker's JVM (a crash: no offset flush, no clean leave of its group). Resolves
 * once the process is gone. Only kills the pid if its command line still names the worker's folder.
 */
export async function killConnect(info: ConnectInfo, timeoutMs = 10_000): Promise<void> {
  if (!isOurs(info.pid, info.dir)) return;
  process.kill(info.pid, 'SIGKILL');
  await waitFor(
    `Kafka Connect pid ${info.pid} gone after SIGKILL`,
    () => Promise.resolve(isOurs(info.pid, info.dir) ? undefined : true),
    timeoutMs,
    50,
  );
}

/**
 * `waitForConnectorRunning`, but the connector and every task must run on THIS worker: after a
 * worker crash the status topic still says RUNNING for the dead worker until a live one takes over.
 */
export async function waitForConnectorRunningOn(info: ConnectInfo, name: string, timeoutMs = 60_000): Promise<void> {
  const workerId = `127.0.0.1:${info.restPort}`;
  await waitFor(
    `connector ${name} and its tasks RUNNING on worker ${workerId}`,
    async () => {
      const status = (await connectRequest(info, 'GET', `/connectors/${encodeURIComponent(name)}/status`)) as {
        connector: { state: string; worker_id?: string; trace?: string };
        tasks: { state: string; worker_id?: string; trace?: string }[];
      };
      const all = [status.connector, ...status.tasks];
      const failed = all.find((s) => s.state === 'FAILED' && s.worker_id === workerId);
      if (failed)
        throw new StackError('CONNECTOR_EXITED', `connector ${name} FAILED on ${workerId}:\n${(failed.trace ?? '').slice(0, 3_000)}`);
      return status.tasks.length > 0 && all.every((s) => s.state === 'RUNNING' && s.worker_id === workerId) ? true : undefined;
    },
    timeoutMs,
    250,
  );
}
