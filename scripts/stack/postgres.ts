// A PostgreSQL of our own: `initdb` into the stack's run folder, `pg_ctl start` on a free loopback
// port (never 5432: the machine's own PostgreSQL there is not ours), its unix socket inside our
// folder, wal_level=logical with replication slots and WAL senders for change-data-capture.
// Stopped by pid (postmaster.pid), after checking the pid's command line names our data folder.
// initdb refuses to run as root: as root we run initdb and pg_ctl as the `postgres` OS user.
import { execFile, spawnSync } from 'node:child_process';
import { appendFileSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { freePort, isAlive, isOurs, StackError, stopPid, tail, waitFor } from './processes';

export interface PostgresInfo {
  port: number;
  /** The postmaster's pid (first line of postmaster.pid). */
  pid: number;
  dir: string;
  dataDir: string;
  /** Where the unix socket lives (inside `dir`, or a short folder of ours under /tmp when `dir` is too long for a socket path). */
  socketDir: string;
  logFile: string;
  /** OS user the server runs as (`postgres` when we are root). */
  osUser?: string;
  /** postgres://postgres@127.0.0.1:PORT/postgres (trust authentication, loopback only). */
  url: string;
}

export const POSTGRES_PACKAGE = 'postgresql';
/** The port of the machine's own PostgreSQL: never ours. */
const RESERVED_PORTS = new Set([5432]);
/** A unix socket path is at most 107 bytes; ".s.PGSQL.NNNNN.lock" needs 20 of them. */
const MAX_SOCKET_DIR_LENGTH = 80;

export interface PostgresSearch {
  /** Default process.env.PATH. */
  path?: string;
  /** Default ['/usr/local/bin']. */
  extraDirs?: string[];
  /** Default '/usr/lib/postgresql' (Debian: one folder per major version, each with bin/). */
  versionsRoot?: string;
}

/** The folder holding initdb, pg_ctl and postgres: PATH, /usr/local/bin, then the newest /usr/lib/postgresql/N/bin. */
export function findPostgresBin(search: PostgresSearch = {}): string | undefined {
  const dirs = [...(search.path ?? process.env.PATH ?? '').split(':').filter(Boolean), ...(search.extraDirs ?? ['/usr/local/bin'])];
  const root = search.versionsRoot ?? '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions) dirs.push(join(root, v, 'bin'));
  }
  for (const dir of dirs) {
    const initdb = join(dir, 'initdb');
    if (!existsSync(initdb)) continue;
    // /usr/local/bin/initdb is a symlink into the version's bin folder, where pg_ctl and postgres are.
    const bin = dirname(realpathSync(initdb));
    if (existsSync(join(bin, 'pg_ctl')) && existsSync(join(bin, 'postgres'))) return bin;
  }
  return undefined;
}

export function ensurePostgresInstalled(search: PostgresSearch = {}): string {
  const bin = findPostgresBin(search);
  if (bin) return bin;
  throw new StackError(
    'POSTGRES_MISSING',
    `initdb/pg_ctl not found (looked in PATH, /usr/local/bin and /usr/lib/postgresql/*/bin). Install PostgreSQL with: sudo apt-get install -y ${POSTGRES_PACKAGE}`,
  );
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** The command line for `bin/tool args` as us, or as the postgres OS user when we are root. */
function asServerUser(osUser: string | undefined, command: string, args: string[]): [string, string[]] {
  if (!osUser) return [command, args];
  if (existsSync('/usr/sbin/runuser') || existsSync('/sbin/runuser')) return ['runuser', ['-u', osUser, '--', command, ...args]];
  const quoted = [command, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return ['su', [osUser, '-s', '/bin/sh', '-c', quoted]];
}

function run(osUser: string | undefined, command: string, args: string[], cwd: string, timeoutMs: number): Promise<string> {
  const [cmd, argv] = asServerUser(osUser, command, args);
  return new Promise((resolve, reject) => {
    execFile(cmd, argv, { cwd, timeout: timeoutMs, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
      const output = `${stdout}${stderr}`.trim();
      if (error) reject(Object.assign(new Error(error.message, { cause: error }), { output }));
      else resolve(output);
    });
  });
}

function chownTree(path: string, uid: number, gid: number): void {
  chownSync(path, uid, gid);
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) chownTree(child, uid, gid);
    else chownSync(child, uid, gid);
  }
}

function osUserIds(user: string): { uid: number; gid: number } {
  const out = spawnSync('id', ['-u', user], { encoding: 'utf8' });
  const gidOut = spawnSync('id', ['-g', user], { encoding: 'utf8' });
  if (out.status !== 0 || gidOut.status !== 0)
    throw new StackError('POSTGRES_USER_MISSING', `running as root, PostgreSQL must run as the "${user}" OS user, which does not exist`);
  return { uid: Number(out.stdout.trim()), gid: Number(gidOut.stdout.trim()) };
}

async function pickPort(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (!RESERVED_PORTS.has(port)) return port;
  }
}

/**
 * postgresql.conf's value for one socket folder: a list item in double quotes (a comma in the path
 * would otherwise split it, putting the socket in the folder before the comma, not ours), inside a
 * single-quoted setting string (where ' and \ are escaped by doubling).
 */
export function socketDirectoriesValue(dir: string): string {
  if (/[\r\n]/.test(dir))
    throw new StackError(
      'POSTGRES_DIR_INVALID',
      `the PostgreSQL folder ${JSON.stringify(dir)} holds a line break; set STACK_DIR to another folder`,
    );
  const item = `"${dir.replace(/"/g, '""')}"`;
  return `'${item.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

function readPostmasterPid(dataDir: string): number | undefined {
  const file = join(dataDir, 'postmaster.pid');
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

export interface StartPostgresOptions {
  port?: number;
  /** Bound on initdb + start (default STACK_POSTGRES_START_TIMEOUT_MS or 60 s). */
  timeoutMs?: number;
}

/** initdb + pg_ctl start; resolves once it accepts connections on 127.0.0.1:port. */
export async function startPostgres(dir: string, options: StartPostgresOptions = {}): Promise<PostgresInfo> {
  const bin = ensurePostgresInstalled();
  const timeoutMs = options.timeoutMs ?? Number(process.env.STACK_POSTGRES_START_TIMEOUT_MS ?? 60_000);
  const deadline = Date.now() + timeoutMs;
  const left = () => Math.max(1_000, deadline - Date.now());
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'postgres.log');
  let socketDir = join(dir, 'socket');
  if (socketDir.length > MAX_SOCKET_DIR_LENGTH) socketDir = mkdtempSync(join(tmpdir(), 'stack-pg-'));
  else mkdirSync(socketDir);
  const osUser = isRoot() ? 'postgres' : undefined;
  if (osUser) {
    const { uid, gid } = osUserIds(osUser);
    chownTree(dir, uid, gid);
    chownSync(socketDir, uid, gid);
    // The server user must reach its folder through every parent (a repo under /root is not reachable).
    const probe = spawnSync('runuser', ['-u', osUser, '--', 'test', '-w', dir]);
    if (probe.status !== 0)
      throw new StackError(
        'POSTGRES_DIR_UNREACHABLE',
        `the "${osUser}" OS user cannot write ${dir} (a parent folder is closed to it); set STACK_DIR to a folder it can reach`,
      );
  }
  const port = options.port ?? (await pickPort());
  const info: PostgresInfo = {
    port,
    pid: 0,
    dir,
    dataDir,
    socketDir,
    logFile,
    ...(osUser ? { osUser } : {}),
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
  };
  const fail = (what: string, error: unknown): never => {
    const output = (error as { output?: string }).output ?? (error as Error).message;
    throw new StackError(
      'POSTGRES_START_FAILED',
      `${what} failed within ${timeoutMs} ms (log: ${logFile}):\n${output}\n${existsSync(logFile) ? tail(logFile) : ''}`,
    );
  };
  try {
    await run(
      osUser,
      join(bin, 'initdb'),
      ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-locale', '--no-sync'],
      dir,
      left(),
    );
  } catch (error) {
    fail('initdb', error);
  }
  appendFileSync(
    join(dataDir, 'postgresql.conf'),
    [
      '',
      '# the stack tool: loopback only, our own socket folder, ready for logical decoding (CDC)',
      "listen_addresses = '127.0.0.1'",
      `port = ${port}`,
      `unix_socket_directories = ${socketDirectoriesValue(socketDir)}`,
      'wal_level = logical',
      'max_replication_slots = 10',
      'max_wal_senders = 10',
      'max_connections = 200',
      'shared_buffers = 32MB',
      // a throwaway test and dev database: durability across power loss is not wanted, speed is
      'fsync = off',
      // synchronous_commit stays on (the default, as in production): a commit's WAL is written at
      // commit (no fsync: cheap), so logical decoding sees it at once. Off, the WAL writer writes it
      // up to wal_writer_delay (200 ms) later, and every CDC change waited that long (the bench
      // measured Debezium's hop at 240 ms p50 with it off).
      'full_page_writes = off',
      '',
    ].join('\n'),
  );
  try {
    await run(
      osUser,
      join(bin, 'pg_ctl'),
      ['-D', dataDir, '-l', logFile, '-w', '-t', String(Math.ceil(left() / 1000)), 'start'],
      dir,
      left(),
    );
  } catch (error) {
    const pid = readPostmasterPid(dataDir);
    if (pid) await stopPid(pid, dataDir, 2_000);
    fail('pg_ctl start', error);
  }
  const pid = readPostmasterPid(dataDir);
  if (!pid) fail('pg_ctl start', new Error('no postmaster.pid after start'));
  info.pid = pid!;
  try {
    await waitFor(
      `postgres on 127.0.0.1:${port}`,
      () => {
        if (!isOurs(info.pid, dataDir)) throw new StackError('POSTGRES_EXITED', `postgres exited (log: ${logFile}):\n${tail(logFile)}`);
        const ready = spawnSync(join(bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-t', '1']);
        return Promise.resolve(ready.status === 0 ? true : undefined);
      },
      left(),
      100,
    );
  } catch (error) {
    await stopPostgres(info);
    throw error;
  }
  return info;
}

/** Fast shutdown (SIGINT: running transactions are rolled back, clients disconnected), SIGKILL after the grace. */
export async function stopPostgres(info: PostgresInfo, graceMs = 10_000): Promise<void> {
  if (info.pid > 0 && isOurs(info.pid, info.dataDir)) {
    try {
      process.kill(info.pid, 'SIGCONT');
      process.kill(info.pid, 'SIGINT');
    } catch {
      /* already gone */
    }
    // stopPid: waits, then SIGTERM/SIGKILL if it is still there (only a process whose cmdline names our data folder).
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline && isOurs(info.pid, info.dataDir)) await new Promise((r) => setTimeout(r, 100));
    await stopPid(info.pid, info.dataDir, 2_000);
    // Exited, but a zombie until init reaps it (postgres is not our child): give that a moment.
    const reaped = Date.now() + 5_000;
    while (Date.now() < reaped && isAlive(info.pid)) await new Promise((r) => setTimeout(r, 50));
  }
  if (!info.socketDir.startsWith(info.dir)) rmSync(info.socketDir, { recursive: true, force: true });
}

/**
 * `pg_ctl restart -m fast` on the same data folder and port (clients are disconnected, replication
 * slots and their positions survive); resolves with the new postmaster pid once it accepts
 * connections. For fault tests on a PostgreSQL of the test's own.
 */
export async function restartPostgres(info: PostgresInfo, timeoutMs = 60_000): Promise<PostgresInfo> {
  const bin = ensurePostgresInstalled();
  try {
    await run(
      info.osUser,
      join(bin, 'pg_ctl'),
      ['-D', info.dataDir, '-l', info.logFile, '-m', 'fast', '-w', '-t', String(Math.ceil(timeoutMs / 1000)), 'restart'],
      info.dir,
      timeoutMs,
    );
  } catch (error) {
    const output = (error as { output?: string }).output ?? (error as Error).message;
    throw new StackError('POSTGRES_START_FAILED', `pg_ctl restart failed (log: ${info.logFile}):\n${output}\n${tail(info.logFile)}`);
  }
  const pid = readPostmasterPid(info.dataDir);
  if (!pid) throw new StackError('POSTGRES_START_FAILED', `no postmaster.pid after the restart (log: ${info.logFile})`);
  const restarted = { ...info, pid };
  await waitFor(
    `postgres on 127.0.0.1:${info.port} after the restart`,
    () =>
      Promise.resolve(
        spawnSync(join(bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(info.port), '-U', 'postgres', '-t', '1']).status === 0
          ? true
          : undefined,
      ),
    timeoutMs,
    100,
  );
  return restarted;
}
