// The dead-letter topic as an operator sees it: `npm run dlq -- <args>` as a child process, and
// the topic's records read to its end (headers as strings) for assertions.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { readDeadLetters } from '../../apps/invalidator/src/cli/dlq-cli';
import { kafka } from './stack-env';

const ROOT = join(__dirname, '..', '..');

export interface DlqToolRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `npm run dlq -- <args>` as an operator runs it; the brokers come from the args (--brokers), not the environment. */
export function runDlqTool(args: string[]): Promise<DlqToolRun> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    delete env.KAFKA_BROKERS;
    const child = spawn('npm', ['run', '--silent', 'dlq', '--', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface DlqRecord {
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

/** Every record of `topic` up to its end offsets now (dead letters and whatever else the topic holds). */
export async function readDlqTopic(topic: string): Promise<DlqRecord[]> {
  const records = await readDeadLetters(kafka('e2e-dlq-reader'), topic, 30_000);
  return records.map((r) => ({
    partition: r.dlqPartition,
    offset: r.dlqOffset,
    key: r.key === null ? null : r.key.toString(),
    value: r.value === null ? null : r.value.toString(),
    headers: Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, String(v)])),
  }));
}
