// Runs the real registry (apps/registry/src/main.ts) as a child process on a free port, so a
// test sees what an operator sees: its HTTP answers, its exit code and its log lines.
import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const ROOT = join(__dirname, '..', '..');

export interface RegistryProcess {
  url: string;
  child: ChildProcess;
  output: () => string;
  terminate(): Promise<number | null>;
}

/** Resolves once the registry says where it listens and /health/ready answers 200. */
export async function spawnRegistry(env: Record<string, string>, timeoutMs = 60_000): Promise<RegistryProcess> {
  const child = spawn(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', join(ROOT, 'apps/registry/src/main.ts')],
    {
      cwd: ROOT,
      env: { ...process.env, TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'), HTTP_PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const terminate = async () => {
    if (child.exitCode !== null) return child.exitCode;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`registry exited with ${child.exitCode}:\n${out}`);
    const url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
    if (
      url &&
      (await fetch(`${url}/health/ready`).then(
        (r) => r.status === 200,
        () => false,
      ))
    )
      return { url, child, output: () => out, terminate };
    if (Date.now() > deadline) {
      await terminate();
      throw new Error(`registry not ready after ${timeoutMs} ms\n--- registry output ---\n${out}`);
    }
    await sleep(200);
  }
}
