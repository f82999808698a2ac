// Runs the real invalidator (apps/invalidator/src/main.ts) as a child process, so tests can
// kill -9 it in the middle of a batch, restart it, or run two in one consumer group.
import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '../../scripts/stack/processes';
import { eventually } from './stack-env';

const ROOT = join(__dirname, '..', '..');

export interface InvalidatorProcess {
  port: number;
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  kill9(): Promise<void>;
  terminate(timeoutMs?: number): Promise<number | null>;
}

export async function spawnInvalidator(env: Record<string, string>, options: { waitReady?: boolean } = {}): Promise<InvalidatorProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', join(ROOT, 'apps/invalidator/src/main.ts')], {
    cwd: ROOT,
    env: { ...process.env, TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'), LOG_LEVEL: 'warn', ...env, HTTP_PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const proc: InvalidatorProcess = {
    port,
    child,
    output: () => out,
    exited,
    kill9: async () => {
      child.kill('SIGKILL');
      await exited;
    },
    terminate: async (timeoutMs = 20_000) => {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
  if (options.waitReady !== false) {
    try {
      await eventually(
        `invalidator on port ${port} ready`,
        async () => {
          if (child.exitCode !== null) throw new Error(`invalidator exited with ${child.exitCode}:\n${out}`);
          const res = await fetch(`http://127.0.0.1:${port}/health/ready`);
          return res.status === 200;
        },
        45_000,
        200,
      );
    } catch (error) {
      child.kill('SIGKILL');
      throw new Error(`${(error as Error).message}\n--- invalidator output ---\n${out}`);
    }
  }
  return proc;
}
