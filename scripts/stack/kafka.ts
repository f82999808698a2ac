// The local Apache Kafka broker: jars from Maven Central (pom.xml beside this file), KRaft
// single node (broker + controller), loopback only, small heap.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { logLevel } from 'kafkajs';
// Relative, not @app/kafka: `npm run stack` runs without tsconfig-paths.
import { createKafka } from '../../libs/kafka/src/kafka-client';
import { withAdminRetry } from './admin-retry';
import { commandExists, freePort, isOurs, spawnDetached, StackError, stopPid, tail, waitFor } from './processes';

export const KAFKA_VERSION = '3.9.1';
const POM = join(__dirname, 'pom.xml');

export interface KafkaNodeInfo {
  brokerPort: number;
  controllerPort: number;
  pid: number;
  dir: string;
}

export interface TopicSpec {
  topic: string;
  numPartitions: number;
  configEntries?: { name: string; value: string }[];
}

export function ensureJavaAndMaven(): void {
  if (!commandExists('java'))
    throw new StackError('JAVA_MISSING', 'java not found: install Java 17+ (e.g. sudo apt-get install -y openjdk-17-jre-headless)');
  if (!commandExists('mvn'))
    throw new StackError('MAVEN_MISSING', 'mvn not found: install Apache Maven (e.g. sudo apt-get install -y maven)');
}

/** Downloads the broker jars once into `<cacheDir>/kafka-<version>/libs`. */
export function ensureKafkaJars(cacheDir: string): string {
  const libs = join(cacheDir, `kafka-${KAFKA_VERSION}`, 'libs');
  const marker = join(libs, `kafka_2.13-${KAFKA_VERSION}.jar`);
  if (existsSync(marker)) return libs;
  ensureJavaAndMaven();
  mkdirSync(libs, { recursive: true });
  console.error(`[stack] fetching Apache Kafka ${KAFKA_VERSION} jars from Maven Central (once)`);
  const result = spawnSync(
    'mvn',
    [
      '-q',
      '-B',
      '-f',
      POM,
      'dependency:copy-dependencies',
      `-DoutputDirectory=${libs}`,
      '-DincludeScope=runtime',
      `-Dkafka.version=${KAFKA_VERSION}`,
    ],
    { encoding: 'utf8', timeout: 600_000 },
  );
  if (result.status !== 0 || !existsSync(marker)) {
    throw new StackError(
      'KAFKA_DOWNLOAD_FAILED',
      `mvn dependency:copy-dependencies failed (exit ${result.status}):\n${result.stdout}\n${result.stderr}`,
    );
  }
  return libs;
}

/** A random KRaft cluster id (22 base64url characters), never starting with '-': kafka-storage would read it as an option (Kafka's own Uuid.randomUuid avoids the same). */
export function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url').slice(0, 22);
    if (!id.startsWith('-')) return id;
  }
}

function serverProperties(dir: string, brokerPort: number, controllerPort: number): string {
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${brokerPort},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${brokerPort}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    `log.dirs=${join(dir, 'data')}`,
    'num.partitions=1',
    'auto.create.topics.enable=false',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=4',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    'log.retention.hours=24',
    'log.segment.bytes=67108864',
    'log.cleaner.dedupe.buffer.size=4194304',
    'num.network.threads=2',
    'num.io.threads=4',
    '',
  ].join('\n');
}

const LOG4J = [
  'log4j.rootLogger=INFO, stdout',
  'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
  'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
  'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
  'log4j.logger.kafka=INFO',
  'log4j.logger.org.apache.kafka=WARN',
  'log4j.logger.kafka.log.LogCleaner=WARN',
  'log4j.logger.state.change.logger=WARN',
  '',
].join('\n');

/** Starts the broker; when a picked port was taken before the broker bound it, retries with new ports. */
export async function startKafka(dir: string, cacheDir: string): Promise<KafkaNodeInfo> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startKafkaOnce(dir, cacheDir);
    } catch (error) {
      const portRace = error instanceof StackError && error.code === 'KAFKA_START_FAILED' && /Address already in use/.test(error.message);
      if (!portRace || attempt >= 3) throw error;
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

async function startKafkaOnce(dir: string, cacheDir: string): Promise<KafkaNodeInfo> {
  ensureJavaAndMaven();
  const libs = ensureKafkaJars(cacheDir);
  mkdirSync(dir, { recursive: true });
  const brokerPort = await freePort();
  let controllerPort = await freePort();
  while (controllerPort === brokerPort) controllerPort = await freePort();
  const props = join(dir, 'server.properties');
  writeFileSync(props, serverProperties(dir, brokerPort, controllerPort));
  writeFileSync(join(dir, 'log4j.properties'), LOG4J);
  const classpath = readdirSync(libs)
    .filter((f) => f.endsWith('.jar'))
    .map((f) => join(libs, f))
    .join(':');
  const format = spawnSync(
    'java',
    ['-cp', classpath, 'kafka.tools.StorageTool', 'format', '-t', clusterId(), '-c', props, '--ignore-formatted'],
    {
      encoding: 'utf8',
      timeout: 120_000,
    },
  );
  if (format.status !== 0) throw new StackError('KAFKA_FORMAT_FAILED', `kafka storage format failed:\n${format.stdout}\n${format.stderr}`);

  const logFile = join(dir, 'kafka.log');
  const heap = process.env.STACK_KAFKA_HEAP ?? '512m';
  const pid = spawnDetached(
    'java',
    [
      `-Xmx${heap}`,
      '-Xms128m',
      '-XX:+UseG1GC',
      '-Djava.awt.headless=true',
      '-Djava.net.preferIPv4Stack=true',
      `-Dlog4j.configuration=file:${join(dir, 'log4j.properties')}`,
      `-Dstack.dir=${dir}`,
      '-cp',
      classpath,
      'kafka.Kafka',
      props,
    ],
    logFile,
  );
  const node: KafkaNodeInfo = { brokerPort, controllerPort, pid, dir };
  try {
    await waitFor(
      `Kafka broker on 127.0.0.1:${brokerPort}`,
      async () => {
        if (!isOurs(pid, dir)) throw new StackError('KAFKA_EXITED', 'the Kafka process exited');
        // One attempt per probe (retries: 0, kafkajs' 1 s connection timeout): waitFor is the retry loop.
        const admin = createKafka({
          clientId: 'stack',
          brokers: [`127.0.0.1:${brokerPort}`],
          logLevel: logLevel.NOTHING,
          connectionTimeoutMs: 1_000,
          retry: { retries: 0 },
        }).admin();
        try {
          await admin.connect();
          const cluster = await admin.describeCluster();
          return cluster.brokers.length > 0 ? true : undefined;
        } finally {
          await admin.disconnect().catch(() => undefined);
        }
      },
      Number(process.env.STACK_KAFKA_START_TIMEOUT_MS ?? 90_000),
      500,
    );
  } catch (error) {
    await stopKafka(node);
    const message = error instanceof Error ? error.message : String(error);
    throw new StackError('KAFKA_START_FAILED', `${message}\n--- tail of ${logFile} ---\n${tail(logFile)}`);
  }
  return node;
}

export async function stopKafka(node: KafkaNodeInfo): Promise<void> {
  await stopPid(node.pid, node.dir, 20_000);
}

export async function createTopics(brokers: string[], topics: TopicSpec[]): Promise<void> {
  const admin = createKafka({ clientId: 'stack', brokers, logLevel: logLevel.NOTHING, connectionTimeoutMs: 1_000, retry: {} }).admin();
  await withAdminRetry('connect admin', () => admin.connect());
  try {
    // list, then create what is missing: safe to repeat as a whole when Kafka says "retry"
    await withAdminRetry(`createTopics(${topics.map((t) => t.topic).join(', ')})`, async () => {
      const existing = new Set(await admin.listTopics());
      const missing = topics.filter((t) => !existing.has(t.topic));
      if (missing.length > 0) {
        await admin.createTopics({ topics: missing.map((t) => ({ ...t, replicationFactor: 1 })), waitForLeaders: true });
      }
    });
  } finally {
    await admin.disconnect();
  }
}
