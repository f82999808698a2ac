// The outbox as a PostgreSQL table, safe with several relays (processes) draining it at once.
//
// How a relay claims rows: `unsent` is ONE statement (so one short transaction of its own):
//
//   UPDATE outbox SET claimed_by = me, claimed_until = now() + lease
//   FROM (SELECT seq FROM outbox WHERE unsent AND (never claimed OR lease over)
//         ORDER BY seq LIMIT n FOR UPDATE SKIP LOCKED) c WHERE outbox.seq = c.seq RETURNING ...
//
// - FOR UPDATE SKIP LOCKED: two relays claiming at the same moment never take the same row; the
//   second skips the rows the first has locked (instead of waiting for it, or, with a plain
//   SELECT, reading them as free and publishing them twice). A row the first relay claimed and
//   committed just before is re-checked against the latest version (READ COMMITTED) and skipped.
// - The claim is a LEASE (claimed_until), not a transaction held open until markSent: a relay
//   publishes with no transaction open and no connection pinned while Kafka answers (a long
//   transaction would hold back vacuum and a pooled connection per relay). A relay that crashes
//   after claiming leaves rows whose lease simply runs out; another relay takes them then.
// - markSent runs only after Kafka acknowledged (OutboxRelay calls it after the send); markFailed
//   keeps the row, with its reason, out of the queue. A failed send calls `release`, so another
//   relay can take the rows at once instead of after the lease.
// - At least once, as everywhere: a lease that runs out while its relay still waits for Kafka
//   (lease shorter than a send) or a crash between Kafka's ack and markSent sends a row again,
//   with the same eventId; the invalidator dedups by entity and version.
// - Order: one relay publishes its claimed rows in write order. Two relays hold different rows, so
//   an entity's v2 (claimed by one) can reach Kafka before its v1 (claimed by the other); the
//   invalidator's version guard makes that harmless (a key never moves back in version).
//
// The table (postgresOutboxSchema) is written by the service IN ITS OWN TRANSACTION with
// `insert(tx, record)`; this class only reads and marks rows.
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { EntityUpdated } from '@app/contracts';
import type { Outbox, OutboxRecord } from './outbox';

/** What the outbox needs from node-postgres: a Pool, or a PoolClient inside a transaction. */
export interface SqlQueryable {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[]; rowCount: number | null }>;
}

export interface PostgresOutboxOptions {
  /** Default "outbox": the table postgresOutboxSchema(table) creates. */
  table?: string;
  /**
   * Default 30000: how long a claim keeps other relays off a row. Longer than the longest publish
   * (a shorter lease can let another relay send the same row again: harmless, but double work);
   * a crashed relay's rows wait this long before another relay takes them. At most 7 days.
   */
  leaseMs?: number;
  /** Default host:pid:random: this relay's name in `claimed_by`. Unique per relay. */
  claimer?: string;
}

export interface PostgresOutboxCounts {
  /** Not sent yet (claimed or not). */
  pending: number;
  /** Set aside by markFailed, kept for a human. */
  failed: number;
}

export interface FailedOutboxRow {
  id: string;
  event: EntityUpdated;
  reason: string;
  failedAt: Date;
}

/** 7 days: longer only delays a crashed relay's rows, and far longer overflows PostgreSQL's interval. */
const MAX_LEASE_MS = 7 * 24 * 3_600_000;

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,47}$/;

function tableName(table: string): string {
  if (!IDENTIFIER.test(table))
    throw new Error(`outbox table "${table}" must be a lowercase SQL identifier ([a-z_][a-z0-9_]*, at most 48 characters)`);
  return table;
}

/** Idempotent DDL of an outbox table (run it in the service's migration). */
export function postgresOutboxSchema(table = 'outbox'): string {
  const t = tableName(table);
  return `
CREATE TABLE IF NOT EXISTS ${t} (
  seq           bigserial PRIMARY KEY,          -- write order
  id            text NOT NULL UNIQUE,           -- the record id (event.eventId)
  event         jsonb NOT NULL,
  trace_id      text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  claimed_by    text,                           -- the relay that holds the lease
  claimed_until timestamptz,                    -- lease end: after it, any relay may take the row
  attempts      integer NOT NULL DEFAULT 0,     -- claims so far
  sent_at       timestamptz,                    -- Kafka acknowledged
  failed_at     timestamptz,                    -- refused for good (see failure)
  failure       text
);
-- The Kafka record key (entityType:entityId): Debezium's outbox event router reads it from here
-- when the table is captured by CDC instead of drained by the relay (docs/sources.md).
ALTER TABLE ${t} ADD COLUMN IF NOT EXISTS aggregate_key text;
CREATE INDEX IF NOT EXISTS ${t}_unsent ON ${t} (seq) WHERE sent_at IS NULL AND failed_at IS NULL;
`;
}

export class PostgresOutbox implements Outbox {
  readonly table: string;
  readonly claimer: string;
  private readonly leaseMs: number;

  constructor(
    private readonly db: SqlQueryable,
    options: PostgresOutboxOptions = {},
  ) {
    this.table = tableName(options.table ?? 'outbox');
    this.leaseMs = options.leaseMs ?? 30_000;
    // Bounded: a lease PostgreSQL cannot add to now() made every claim fail ("interval out of range"), forever.
    if (!Number.isInteger(this.leaseMs) || this.leaseMs < 1 || this.leaseMs > MAX_LEASE_MS)
      throw new Error(`leaseMs must be an integer from 1 to ${MAX_LEASE_MS} (7 days) (got ${options.leaseMs})`);
    this.claimer = options.claimer ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  }

  /** Writes the record; call it with the client of the transaction that writes the change it announces. */
  async insert(tx: SqlQueryable, record: OutboxRecord): Promise<void> {
    await tx.query(`INSERT INTO ${this.table} (id, event, trace_id, aggregate_key) VALUES ($1, $2::jsonb, $3, $4)`, [
      record.id,
      JSON.stringify(record.event),
      record.traceId ?? null,
      `${record.event.entityType}:${record.event.entityId}`,
    ]);
  }

  /** Claims up to `limit` unsent rows nobody holds (see the top of this file), oldest first. */
  async unsent(limit: number): Promise<readonly OutboxRecord[]> {
    const { rows } = await this.db.query(
      `UPDATE ${this.table} AS o
          SET claimed_by = $1, claimed_until = now() + $2::double precision * interval '1 millisecond', attempts = o.attempts + 1
         FROM (SELECT seq FROM ${this.table}
                WHERE sent_at IS NULL AND failed_at IS NULL AND (claimed_until IS NULL OR claimed_until < now())
                ORDER BY seq
                LIMIT $3
                FOR UPDATE SKIP LOCKED) AS c
        WHERE o.seq = c.seq
    RETURNING o.seq, o.id, o.event, o.trace_id`,
      [this.claimer, this.leaseMs, limit],
    );
    return rows
      .sort((a, b) => Number(a.seq) - Number(b.seq))
      .map((r) => {
        const record: OutboxRecord = { id: String(r.id), event: r.event as EntityUpdated };
        if (typeof r.trace_id === 'string') record.traceId = r.trace_id;
        return record;
      });
  }

  /** Kafka acknowledged these: idempotent, whoever holds the lease now (the row did go out). */
  async markSent(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db.query(`UPDATE ${this.table} SET sent_at = now(), claimed_until = NULL WHERE id = ANY($1::text[]) AND sent_at IS NULL`, [
      [...ids],
    ]);
  }

  /** Never publishable: out of the queue for good, kept with its reason. */
  async markFailed(id: string, reason: string): Promise<void> {
    await this.db.query(
      `UPDATE ${this.table} SET failed_at = now(), failure = $2, claimed_until = NULL WHERE id = $1 AND sent_at IS NULL AND failed_at IS NULL`,
      [id, reason],
    );
  }

  /** Gives back rows this relay claimed but could not publish (a failed send): any relay may take them now. */
  async release(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db.query(
      `UPDATE ${this.table} SET claimed_until = NULL, claimed_by = NULL WHERE id = ANY($1::text[]) AND claimed_by = $2 AND sent_at IS NULL`,
      [[...ids], this.claimer],
    );
  }

  /** Gives back every row this relay still holds (at shutdown). */
  async releaseAll(): Promise<number> {
    const { rowCount } = await this.db.query(
      `UPDATE ${this.table} SET claimed_until = NULL, claimed_by = NULL WHERE claimed_by = $1 AND sent_at IS NULL AND failed_at IS NULL`,
      [this.claimer],
    );
    return rowCount ?? 0;
  }

  async counts(): Promise<PostgresOutboxCounts> {
    const { rows } = await this.db.query(
      `SELECT count(*) FILTER (WHERE sent_at IS NULL AND failed_at IS NULL) AS pending,
              count(*) FILTER (WHERE failed_at IS NOT NULL) AS failed
         FROM ${this.table}`,
    );
    return { pending: Number(rows[0].pending), failed: Number(rows[0].failed) };
  }

  /** Rows set aside by markFailed, oldest first. */
  async failed(limit = 100): Promise<FailedOutboxRow[]> {
    const { rows } = await this.db.query(
      `SELECT id, event, failure, failed_at FROM ${this.table} WHERE failed_at IS NOT NULL ORDER BY seq LIMIT $1`,
      [limit],
    );
    return rows.map((r) => ({
      id: String(r.id),
      event: r.event as EntityUpdated,
      reason: String(r.failure),
      failedAt: r.failed_at as Date,
    }));
  }

  /** Deletes rows sent more than `olderThanMs` ago (run it now and then: the table only grows otherwise). */
  async deleteSent(olderThanMs: number): Promise<number> {
    const { rowCount } = await this.db.query(
      `DELETE FROM ${this.table} WHERE sent_at IS NOT NULL AND sent_at < now() - $1::double precision * interval '1 millisecond'`,
      [olderThanMs],
    );
    return rowCount ?? 0;
  }
}
