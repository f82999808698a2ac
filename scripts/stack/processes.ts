// Process helpers for the local stack: spawn detached children whose pid we record,
// and stop them again by pid, never by name, so a user's own Redis or Kafka is never touched.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export class StackError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'StackError';
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export function spawnDetached(command: string, args: string[], logFile: string, cwd?: string): number {
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn(command, args, { cwd, detached: true, stdio: ['ignore', fd, fd] });
    if (child.pid === undefined) throw new StackError('SPAWN_FAILED', `could not start ${command}`);
    child.unref();
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

/** True when `pid` is alive and its command line mentions `marker` (guards against pid reuse). */
export function isOurs(pid: number, marker: string): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const cmdlinePath = `/proc/${pid}/cmdline`;
  if (!existsSync(cmdlinePath)) return true;
  try {
    const cmdline = readFileSync(cmdlinePath, 'utf8').replace(/\0/g, ' ');
    return cmdline.includes(marker);
  } catch {
    return false;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const result = await probe();
      if (result !== undefined) return result;
    } catch (error) {
      // The process we wait for is gone: waiting longer cannot help.
      if (error instanceof StackError && error.code.endsWith('_EXITED')) throw error;
      lastError = error;
    }
    await sleep(intervalMs);
  }
  const reason = lastError instanceof Error ? `: ${lastError.message}` : '';
  throw new StackError('TIMEOUT', `timed out after ${timeoutMs} ms waiting for ${what}${reason}`);
}

/** SIGTERM, wait up to graceMs, then SIGKILL. Only kills pids whose cmdline has `marker`. */
export async function stopPid(pid: number, marker: string, graceMs = 10_000): Promise<void> {
  if (!isOurs(pid, marker)) return;
  try {
    // A process left frozen (SIGSTOP by a fault test that died before its SIGCONT) would hold
    // SIGTERM pending until the SIGKILL: wake it first so it shuts down cleanly.
    process.kill(pid, 'SIGCONT');
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return;
    await sleep(100);
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
  const killDeadline = Date.now() + 5_000;
  while (Date.now() < killDeadline && isAlive(pid)) await sleep(50);
}

/**
 * Freezes a process of ours (SIGSTOP) for `ms`, then wakes it (SIGCONT), also when the wait is
 * cut short by an error: a frozen Kafka broker keeps its connections open and answers nothing,
 * as in a long GC pause, a hung disk or a paused VM.
 */
export async function freezePid(pid: number, marker: string, ms: number): Promise<void> {
  if (!isOurs(pid, marker)) throw new Error(`pid ${pid} (${marker}) is not running`);
  process.kill(pid, 'SIGSTOP');
  try {
    await sleep(ms);
  } finally {
    process.kill(pid, 'SIGCONT');
  }
}

export function commandExists(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

export function tail(file: string, lines = 40): string {
  if (!existsSync(file)) return '(no log)';
  const all = readFileSync(file, 'utf8').split('\n');
  return all.slice(-lines).join('\n');
}
