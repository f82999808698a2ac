// The stack's PostgreSQL (on demand): ours, on a free loopback port, never the machine's 5432,
// ready for logical decoding, recorded in state.json with its pid and stopped by pid.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { findPostgresBin, startPostgres, stopPostgres } from '../../scripts/stack/postgres';
import { isAlive, isOurs } from '../../scripts/stack/processes';
import { readState, STACK_ROOT } from '../../scripts/stack/stack';
import { pgClient, stackPostgres } from '../support/postgres';

/** pg_isready's answer for the machine's own PostgreSQL on 5432 (0 = accepting, 2 = nothing there). */
function machinePostgresStatus(): number | null {
  return spawnSync(join(findPostgresBin()!, 'pg_isready'), ['-h', '127.0.0.1', '-p', '5432', '-t', '2']).status;
}

describe("the stack's PostgreSQL", () => {
  it('runs on a free loopback port (not 5432) with wal_level=logical, recorded in state.json', async () => {
    const url = await stackPostgres();
    expect(await stackPostgres()).toBe(url); // started once
    const port = Number(new URL(url).port);
    expect(port).not.toBe(5432);
    const info = readState(process.env.STACK_NAME!)!.postgres!;
    expect(info).toMatchObject({ port, url });
    expect(isAlive(info.pid)).toBe(true);
    const client = await pgClient(url);
    try {
      const show = async (name: string) => (await client.query(`SHOW ${name}`)).rows[0][name];
      expect(await show('wal_level')).toBe('logical');
      expect(await show('listen_addresses')).toBe('127.0.0.1');
      expect(Number(await show('max_replication_slots'))).toBeGreaterThanOrEqual(10);
      expect(Number(await show('max_wal_senders'))).toBeGreaterThanOrEqual(10);
      // a list setting: the stack writes its one folder as a double-quoted item (commas, quotes)
      expect(unquoteListItem(await show('unix_socket_directories'))).toBe(info.socketDir);
      expect(await show('data_directory')).toBe(info.dataDir);
    } finally {
      await client.end();
    }
  });

  it('starts and stops a server of its own by pid, leaving the machine PostgreSQL on 5432 as it was', async () => {
    const before = machinePostgresStatus();
    const dir = mkdtempSync(join(STACK_ROOT, 'pg-e2e-'));
    chmodSync(dir, 0o755); // as root the server runs as the postgres OS user, which must reach its folder
    try {
      const info = await startPostgres(join(dir, 'postgres'));
      expect(isAlive(info.pid)).toBe(true);
      const client = await pgClient(info.url);
      expect((await client.query('SELECT 1 AS one')).rows[0].one).toBe(1);
      await client.end();
      await stopPostgres(info);
      expect(isOurs(info.pid, info.dataDir)).toBe(false);
      await expect(pgClient(info.url)).rejects.toThrow(/ECONNREFUSED/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(machinePostgresStatus()).toBe(before);
  });
  // postgresql.conf takes the socket folder as a quoted, comma-separated list: a comma in the path
  // made the server put its socket and lock file in the folder before the comma (not ours), and a
  // single quote broke the file.
  it.each([
    ['a comma', 'a,b'],
    ['a single quote and a space', "it's here"],
  ])('starts in a folder whose path holds %s, its socket inside that folder only', async (_what, odd) => {
    const dir = mkdtempSync(join(STACK_ROOT, 'pg-e2e-'));
    chmodSync(dir, 0o755);
    const prefix = join(dir, odd.split(',')[0]);
    if (odd.includes(',')) mkdirSync(prefix); // the folder a split list would wrongly use
    try {
      const info = await startPostgres(join(dir, odd, 'postgres'));
      try {
        expect(info.socketDir.startsWith(join(dir, odd))).toBe(true);
        expect(readdirSync(info.socketDir).some((f) => f.startsWith('.s.PGSQL.'))).toBe(true);
        if (odd.includes(',')) expect(readdirSync(prefix)).toEqual([]);
        const client = await pgClient(info.url);
        expect((await client.query('SHOW unix_socket_directories')).rows[0].unix_socket_directories).toContain(odd);
        await client.end();
      } finally {
        await stopPostgres(info);
      }
      expect(existsSync(info.dataDir)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** One item of a PostgreSQL list setting as written in postgresql.conf: "a ""b"" c" -> a "b" c. */
function unquoteListItem(value: string): string {
  return value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1).replace(/""/g, '"') : value;
}
