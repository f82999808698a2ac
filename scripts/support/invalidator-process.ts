// Runs the real invalidator (apps/invalidator/src/main.ts) as a child process, so the e2e tests,
// the bench and the consistency checker can kill -9 it in the middle of a batch, restart it, or
// run two in one consumer group. Lives in scripts/ because tooling never imports from test/.
import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../stack/processes';

const ROOT = join(__dirname, '..', '..');

export interface InvalidatorProcess {
  port: number;
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  kill9(): Promise<void>;
  terminate(timeoutMs?: number): Promise<number | null>;
}

/** The compiled invalidator (`nest build invalidator`), as a container runs it. */
export const COMPILED_INVALIDATOR = join(ROOT, 'dist/apps/invalidator/apps/invalidator/src/main.js');

/**
 * `compiled`: run COMPILED_INVALIDATOR (build it first) instead of the TypeScript sources through
 * ts-node, which keeps the TypeScript compiler in the process (CPU at startup, a larger heap).
 */
export async function spawnInvalidator(
  env: Record<string, string>,
  options: { waitReady?: boolean; nodeArgs?: string[]; compiled?: boolean } = {},
): Promise<InvalidatorProcess> {
  const port = await freePort();
  // The test process carries the stack's addresses; the child gets only what `env` says about Redis.
  const inherited = { ...process.env };
  delete inherited.REDIS_URL;
  delete inherited.REDIS_CLUSTER_NODES;
  const entry = options.compiled
    ? [COMPILED_INVALIDATOR]
    : ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', join(ROOT, 'apps/invalidator/src/main.ts')];
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), ...entry], {
    cwd: ROOT,
    env: { ...inherited, TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'), LOG_LEVEL: 'warn', ...env, HTTP_PORT: String(port) },
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
    const deadline = Date.now() + 45_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`invalidator exited with ${child.exitCode}:\n${out}`);
      const ready = await fetch(`http://127.0.0.1:${port}/health/ready`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ready) break;
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`invalidator on port ${port} not ready after 45 s\n--- invalidator output ---\n${out}`);
      }
      await sleep(200);
    }
  }
  return proc;
}
