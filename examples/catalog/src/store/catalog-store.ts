// The catalog's source of truth: products in PostgreSQL. Every change is ONE transaction: lock the
// product row (SELECT ... FOR UPDATE), write it with version = version + 1 (RETURNING the row),
// build and validate the event from the row as committed, insert the event's outbox row, COMMIT.
// Both rows are committed together or not at all: a change that rolls back (a conflict, an event
// that would be refused, a failed insert) leaves no product change and no event. Concurrent
// changes of one product wait on its row lock, so its versions only ever go up by one.
import { randomUUID } from 'node:crypto';
import { Pool, PoolClient } from 'pg';
import { EntityUpdated, fastValidateEntityUpdated, validateEntityUpdated } from '@app/contracts';
import { buildEntityUpdated, createOutboxRecord, PostgresOutbox } from '@app/publisher';
import { redactDatabaseUrl } from '../config/database-url';
import { CATALOG_SCHEMA_SQL, MIGRATION_LOCK_KEY, OUTBOX_TABLE, PRODUCTS_TABLE } from './catalog-schema';
import { CatalogStoreError } from './catalog-store.errors';
import { NewProduct, Product, PRODUCT_ENTITY_TYPE, ProductPatch } from './product';

export interface CatalogStoreOptions {
  /** postgres://user[:password]@host:port/database */
  databaseUrl: string;
  /** Default 10: connections in the pool. */
  poolSize?: number;
  /** Default 30000: the relay's claim on outbox rows (PostgresOutbox leaseMs). */
  outboxLeaseMs?: number;
  /** Default 5000: bound on getting a connection. */
  connectTimeoutMs?: number;
  now?: () => Date;
  /** Errors of idle pooled connections (the server restarted); default: ignored, the pool reconnects. */
  onPoolError?: (error: Error) => void;
}

export interface ChangeResult {
  product: Product;
  /** False when the patch changed nothing: no new version, no event. */
  changed: boolean;
  event?: EntityUpdated;
}

type ProductRow = {
  id: string;
  tenant: string;
  name: string;
  /** numeric: node-postgres gives it as a string (exact), turned into a number for the API. */
  price: string;
  category_id: string;
  version: number;
  updated_at: Date;
};

const COLUMNS = 'id, tenant, name, price, category_id, version, updated_at';

function toProduct(row: ProductRow): Product {
  return {
    id: row.id,
    tenant: row.tenant,
    name: row.name,
    price: Number(row.price),
    categoryId: row.category_id,
    version: row.version,
    updatedAt: row.updated_at.toISOString(),
  };
}

export class CatalogStore {
  /** The transactional outbox the relay drains; its rows are inserted in the transactions of the changes they announce. */
  readonly outbox: PostgresOutbox;
  private readonly now: () => Date;
  private readonly changeListeners: (() => void)[] = [];
  private closed = false;

  private constructor(
    private readonly pool: Pool,
    private readonly where: string,
    options: CatalogStoreOptions,
  ) {
    this.now = options.now ?? (() => new Date());
    this.outbox = new PostgresOutbox(pool, { table: OUTBOX_TABLE, leaseMs: options.outboxLeaseMs });
  }

  /** Connects and creates the schema when missing; DATABASE_UNAVAILABLE (naming DATABASE_URL) if PostgreSQL cannot be used. */
  static async open(options: CatalogStoreOptions): Promise<CatalogStore> {
    const where = `DATABASE_URL ${redactDatabaseUrl(options.databaseUrl)}`;
    const pool = new Pool({
      connectionString: options.databaseUrl,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
      application_name: 'example-catalog',
    });
    pool.on('error', (error) => options.onPoolError?.(error));
    const store = new CatalogStore(pool, where, options);
    try {
      await store.transaction(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
        await tx.query(CATALOG_SCHEMA_SQL);
      });
    } catch (error) {
      await pool.end().catch(() => undefined);
      if (error instanceof CatalogStoreError) throw error;
      throw new CatalogStoreError('DATABASE_UNAVAILABLE', `could not prepare the catalog schema (${where}): ${(error as Error).message}`, {
        cause: error,
      });
    }
    return store;
  }

  /** Called after every committed change (the relay's notify). */
  onChange(listener: () => void): void {
    this.changeListeners.push(listener);
  }

  async get(id: string): Promise<Product | undefined> {
    const rows = await this.read<ProductRow>(`SELECT ${COLUMNS} FROM ${PRODUCTS_TABLE} WHERE id = $1`, [id]);
    return rows[0] ? toProduct(rows[0]) : undefined;
  }

  /** Products of a category, sorted by id (byte order, whatever the database's collation). */
  async listByCategory(categoryId: string): Promise<Product[]> {
    const rows = await this.read<ProductRow>(`SELECT ${COLUMNS} FROM ${PRODUCTS_TABLE} WHERE category_id = $1 ORDER BY id COLLATE "C"`, [
      categoryId,
    ]);
    return rows.map(toProduct);
  }

  /** Every product of a tenant, sorted by id. */
  async listByTenant(tenant: string): Promise<Product[]> {
    const rows = await this.read<ProductRow>(`SELECT ${COLUMNS} FROM ${PRODUCTS_TABLE} WHERE tenant = $1 ORDER BY id COLLATE "C"`, [
      tenant,
    ]);
    return rows.map(toProduct);
  }

  /** Products, unsent and failed outbox rows (GET /health). */
  async counts(): Promise<{ products: number; outboxPending: number; outboxFailed: number }> {
    const rows = await this.read<{ products: string; pending: string; failed: string }>(
      `SELECT (SELECT count(*) FROM ${PRODUCTS_TABLE}) AS products,
              count(*) FILTER (WHERE sent_at IS NULL AND failed_at IS NULL) AS pending,
              count(*) FILTER (WHERE failed_at IS NOT NULL) AS failed
         FROM ${OUTBOX_TABLE}`,
      [],
    );
    return { products: Number(rows[0].products), outboxPending: Number(rows[0].pending), outboxFailed: Number(rows[0].failed) };
  }

  async create(input: NewProduct, traceId?: string): Promise<ChangeResult> {
    const id = input.id ?? `p-${randomUUID().slice(0, 12)}`;
    return this.change(async (tx) => {
      const inserted = await tx.query<ProductRow>(
        `INSERT INTO ${PRODUCTS_TABLE} (id, tenant, name, price, category_id, version, updated_at)
         VALUES ($1, $2, $3, $4, $5, 1, $6)
         ON CONFLICT (id) DO NOTHING
         RETURNING ${COLUMNS}`,
        [id, input.tenant, input.name, input.price, input.categoryId, this.now()],
      );
      if (inserted.rows.length === 0) {
        const existing = await tx.query<{ version: number }>(`SELECT version FROM ${PRODUCTS_TABLE} WHERE id = $1`, [id]);
        throw new CatalogStoreError(
          'PRODUCT_EXISTS',
          `product "${id}" already exists (version ${existing.rows[0]?.version ?? '?'}); update it instead`,
        );
      }
      return this.announce(tx, undefined, toProduct(inserted.rows[0]), traceId);
    });
  }

  /** Applies `patch`; with `expectedVersion`, refuses (VERSION_CONFLICT) if someone changed the product since. */
  async update(id: string, patch: ProductPatch, options: { expectedVersion?: number; traceId?: string } = {}): Promise<ChangeResult> {
    return this.change(async (tx) => {
      const locked = await tx.query<ProductRow>(`SELECT ${COLUMNS} FROM ${PRODUCTS_TABLE} WHERE id = $1 FOR UPDATE`, [id]);
      if (locked.rows.length === 0) throw new CatalogStoreError('PRODUCT_NOT_FOUND', `product "${id}" does not exist`);
      const current = toProduct(locked.rows[0]);
      if (options.expectedVersion !== undefined && options.expectedVersion !== current.version) {
        throw new CatalogStoreError(
          'VERSION_CONFLICT',
          `product "${id}" is at version ${current.version}, not the expected ${options.expectedVersion}; re-read and retry`,
        );
      }
      const next = { ...current, ...definedOnly(patch) };
      if (next.name === current.name && next.price === current.price && next.categoryId === current.categoryId)
        return { product: current, changed: false };
      const updated = await tx.query<ProductRow>(
        `UPDATE ${PRODUCTS_TABLE}
            SET name = $2, price = $3, category_id = $4, version = version + 1, updated_at = $5
          WHERE id = $1
      RETURNING ${COLUMNS}`,
        [id, next.name, next.price, next.categoryId, this.now()],
      );
      return this.announce(tx, current, toProduct(updated.rows[0]), options.traceId);
    });
  }

  move(id: string, categoryId: string, options: { expectedVersion?: number; traceId?: string } = {}): Promise<ChangeResult> {
    return this.update(id, { categoryId }, options);
  }

  /** Gives back the relay's outbox claims (so another catalog takes them at once) and closes the pool. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.outbox.releaseAll().catch(() => undefined);
    await this.pool.end();
  }

  /** Inside the change's transaction: the event from the rows as written, validated, then its outbox row. */
  private async announce(tx: PoolClient, before: Product | undefined, after: Product, traceId?: string): Promise<ChangeResult> {
    const event = buildEntityUpdated(
      {
        entityType: PRODUCT_ENTITY_TYPE,
        entityId: after.id,
        version: after.version,
        tenant: after.tenant,
        before: before ? { ...before } : undefined,
        after: { ...after },
        occurredAt: after.updatedAt,
      },
      this.now,
    );
    // Refuse at the edge (and roll the change back): an event the publisher would refuse must not become a change nobody hears about.
    if (!fastValidateEntityUpdated(event)) {
      const reasons = validateEntityUpdated(event).map((v) => `${v.field}: ${v.message}`);
      throw new CatalogStoreError('EVENT_INVALID', `the change of product "${after.id}" cannot be announced: ${reasons.join('; ')}`);
    }
    await this.outbox.insert(tx, createOutboxRecord(event, traceId));
    return { product: after, changed: true, event };
  }

  /** Runs `work` in a transaction; on commit of a real change, tells the listeners. */
  private async change(work: (tx: PoolClient) => Promise<ChangeResult>): Promise<ChangeResult> {
    const result = await this.transaction(work);
    if (result.changed) this.changeListeners.forEach((listener) => listener());
    return result;
  }

  private async transaction<T>(work: (tx: PoolClient) => Promise<T>): Promise<T> {
    if (this.closed) throw new CatalogStoreError('STORE_CLOSED', 'the catalog store is closed');
    let tx: PoolClient;
    try {
      tx = await this.pool.connect();
    } catch (error) {
      throw this.unavailable(error);
    }
    let broken: Error | undefined;
    try {
      await tx.query('BEGIN');
      const result = await work(tx);
      await tx.query('COMMIT');
      return result;
    } catch (error) {
      try {
        await tx.query('ROLLBACK');
      } catch (rollbackError) {
        broken = rollbackError as Error; // the connection is unusable: drop it from the pool
      }
      throw error instanceof CatalogStoreError ? error : this.unavailable(error);
    } finally {
      tx.release(broken);
    }
  }

  private async read<R extends object>(sql: string, values: unknown[]): Promise<R[]> {
    if (this.closed) throw new CatalogStoreError('STORE_CLOSED', 'the catalog store is closed');
    try {
      return (await this.pool.query<R & Record<string, unknown>>(sql, values)).rows;
    } catch (error) {
      throw this.unavailable(error);
    }
  }

  private unavailable(error: unknown): CatalogStoreError {
    return new CatalogStoreError('DATABASE_UNAVAILABLE', `PostgreSQL (${this.where}): ${(error as Error).message}`, { cause: error });
  }
}

function definedOnly<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<T>;
}
