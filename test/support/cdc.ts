// Kafka Connect + Debezium for a test file: one worker of its own (its group and internal topics
// unique to the file), a connector on a database of the test, and a teardown that removes the
// connector, stops the worker and drops the replication slot (a slot pins WAL and blocks DROP
// DATABASE).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from 'pg';
import { ConnectInfo, connectRequest, registerConnector, startConnect, stopConnect } from '../../scripts/stack/connect';
import { STACK_ROOT } from '../../scripts/stack/stack';
import { eventually, stackEnv, uniqueName } from './stack-env';

export interface TestConnector {
  connect: ConnectInfo;
  name: string;
  /** The replication slot and publication name (also Debezium's topic prefix). */
  slot: string;
  close(): Promise<void>;
}

/** A slot/publication name unique to this run (lowercase, SQL-safe). */
export function uniqueSlot(prefix: string): string {
  return uniqueName(prefix).replace(/[^a-z0-9_]/g, '_');
}

/**
 * Creates the publication on `tables` (`publish` as PostgreSQL takes it), starts a worker and
 * registers `config` (which must use `slot` as slot and publication name) as connector `name`.
 */
export async function startTestConnector(
  sql: Client,
  options: { name: string; slot: string; tables: string[]; publish?: string; config: Record<string, string> },
): Promise<TestConnector> {
  const { slot } = options;
  await sql.query(
    `CREATE PUBLICATION ${slot} FOR TABLE ${options.tables.join(', ')}${options.publish ? ` WITH (publish = '${options.publish}')` : ''}`,
  );
  const connect = await startConnect(mkdtempSync(join(tmpdir(), 'connect-')), join(STACK_ROOT, 'cache'), {
    brokers: stackEnv.kafkaBrokers,
    groupId: uniqueName('connect'),
  });
  try {
    await registerConnector(connect, options.name, options.config);
  } catch (error) {
    await stopConnect(connect);
    throw error;
  }
  return {
    connect,
    name: options.name,
    slot,
    close: async () => {
      await connectRequest(connect, 'DELETE', `/connectors/${options.name}`).catch(() => undefined);
      await stopConnect(connect);
      await eventually(
        `replication slot ${slot} dropped`,
        async () => {
          await sql.query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active', [
            slot,
          ]);
          return (await sql.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [slot])).rowCount === 0;
        },
        30_000,
        200,
      ).catch(() => undefined);
    },
  };
}

export interface ConnectWorkerGroup {
  /** The worker group id, also the prefix of its config, offset and status topics. */
  groupId: string;
  /** A new worker process (a folder of its own) in the group: after a kill -9 of the last one it resumes its connectors from their stored offsets. */
  start(): Promise<ConnectInfo>;
  /** Stops every worker started here that still runs (a test's teardown; stopping one twice is harmless). */
  stopAll(): Promise<void>;
}

/** Kafka Connect workers on the stack's broker that share one group (unique to the caller). */
export function connectWorkerGroup(prefix = 'connect'): ConnectWorkerGroup {
  const groupId = uniqueName(prefix);
  const started: ConnectInfo[] = [];
  return {
    groupId,
    start: async () => {
      const info = await startConnect(mkdtempSync(join(tmpdir(), `${prefix}-`)), join(STACK_ROOT, 'cache'), {
        brokers: stackEnv.kafkaBrokers,
        groupId,
      });
      started.push(info);
      return info;
    },
    stopAll: async () => {
      await Promise.all(started.map((info) => stopConnect(info)));
    },
  };
}
