// kcat (Debian's package, built on librdkafka): a Kafka client that is not kafkajs, so tests can
// produce record batches in every codec the way C/Go/Python/Java services do, and hold a consumer
// group with an assignment protocol kafkajs does not speak. Never skipped: CI installs it.
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { stackEnv } from './stack-env';

export type KcatCodec = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

/** Throws, naming the install command, when kcat is not on PATH. */
export function requireKcat(): void {
  const probe = spawnSync('kcat', ['-V'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      'kcat is missing: these tests need a librdkafka producer. Install it with: apt-get update && apt-get install -y kcat (.ci/run does this)',
    );
  }
}

/**
 * Produces `records` (one per line, "key|value") with librdkafka in one go, so they travel as
 * compressed record batches (linger 50 ms). Returns once kcat has delivered everything.
 */
export function kcatProduce(
  topic: string,
  records: { key: string; value: string }[],
  options: { codec: KcatCodec; headers?: Record<string, string>; partition?: number },
): void {
  for (const r of records) {
    if (r.key.includes('|') || /[\r\n]/.test(r.key + r.value))
      throw new Error(`kcatProduce: key must not contain "|" and no newlines: ${r.key}`);
  }
  const args = [
    '-P',
    '-b',
    stackEnv.kafkaBrokers.join(','),
    '-t',
    topic,
    '-K',
    '|',
    '-z',
    options.codec,
    '-X',
    'linger.ms=50',
    '-X',
    'acks=all',
    '-q',
  ];
  if (options.partition !== undefined) args.push('-p', String(options.partition));
  for (const [name, value] of Object.entries(options.headers ?? {})) args.push('-H', `${name}=${value}`);
  const run = spawnSync('kcat', args, { input: records.map((r) => `${r.key}|${r.value}\n`).join(''), encoding: 'utf8', timeout: 30_000 });
  if (run.error || run.status !== 0)
    throw new Error(`kcat -P ${options.codec} to ${topic} failed (${run.error?.message ?? `exit ${run.status}`}): ${run.stderr}`);
}

/** Reads a whole topic with librdkafka and returns "key|value" lines (kcat exits at the end). */
export function kcatConsume(topic: string): string[] {
  const args = ['-C', '-b', stackEnv.kafkaBrokers.join(','), '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%k|%s\n'];
  const run = spawnSync('kcat', args, { encoding: 'utf8', timeout: 30_000 });
  if (run.error || run.status !== 0)
    throw new Error(`kcat -C ${topic} failed (${run.error?.message ?? `exit ${run.status}`}): ${run.stderr}`);
  return run.stdout.split('\n').filter((line) => line !== '');
}

export interface KcatGroupMember {
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** A librdkafka group member that keeps `groupId` with the given assignment strategy until stopped (by pid). */
export function kcatGroupMember(groupId: string, topic: string, assignmentStrategy: string): KcatGroupMember {
  const child = spawn(
    'kcat',
    ['-b', stackEnv.kafkaBrokers.join(','), '-G', groupId, topic, '-q', '-X', `partition.assignment.strategy=${assignmentStrategy}`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let out = '';
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
