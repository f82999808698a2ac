// PostgreSQL for the e2e tests that need one (the example catalog and its outbox): the run's stack
// starts it on first use (startStackPostgres: once per stack, whichever jest worker asks first,
// recorded in state.json and stopped by `down`), and every test gets a database of its own.
import { Client } from 'pg';
import { startStackPostgres } from '../../scripts/stack/stack';
import { uniqueName } from './stack-env';

let server: Promise<string> | undefined;

/** The stack's PostgreSQL server URL (postgres://postgres@127.0.0.1:PORT/postgres), started on first call. */
export function stackPostgres(): Promise<string> {
  const stack = process.env.STACK_NAME;
  if (!stack) throw new Error('STACK_NAME is not set (run through jest --selectProjects e2e)');
  server ??= startStackPostgres(stack).then((info) => info.url);
  return server;
}

export interface TestDatabase {
  url: string;
  name: string;
  /** Drops the database (after closing every connection to it). */
  drop(): Promise<void>;
}

/** A fresh, empty database on the stack's PostgreSQL. */
export async function freshDatabase(prefix = 'e2e'): Promise<TestDatabase> {
  const serverUrl = await stackPostgres();
  const name = uniqueName(prefix)
    .replace(/[^a-z0-9]/gi, '_')
    .toLowerCase();
  await adminQuery(serverUrl, `CREATE DATABASE ${name}`);
  const url = serverUrl.replace(/\/[^/]*$/, `/${name}`);
  return { url, name, drop: () => adminQuery(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

async function adminQuery(url: string, sql: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A client of its own on `url` (the caller ends it). */
export async function pgClient(url: string): Promise<Client> {
  const client = new Client({ connectionString: url });
  await client.connect();
  return client;
}
