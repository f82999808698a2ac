// The catalog's whole schema, run by the service at every start (CatalogStore.open): idempotent
// (IF NOT EXISTS), inside one transaction under an advisory lock, so two catalogs starting at once
// against one database do not race on CREATE. A later change is a new statement appended here,
// written so that running it again is harmless.
import { postgresOutboxSchema } from '@app/publisher';

export const PRODUCTS_TABLE = 'catalog_products';
export const OUTBOX_TABLE = 'catalog_outbox';

/**
 * catalog_products as a change-data-capture source: its rows are products, `version` is the row
 * version, and the renames make a row read like the catalog's outbox event (docs/sources.md,
 * "Table CDC"). As the catalog team declares it in the registry (PUT /sources/<change topic>).
 */
export const PRODUCTS_CDC_DECLARATION = {
  owner: 'catalog',
  entityType: 'product',
  idColumns: ['id'],
  versionColumn: 'version',
  tenantColumn: 'tenant',
  fields: { category_id: 'categoryId', updated_at: 'updatedAt' },
  numericColumns: ['price'],
};

/** The same declaration as an invalidator deployment's own settings (EVENT_FORMAT=debezium + CDC_*). */
export const PRODUCTS_CDC_SETTINGS = {
  EVENT_FORMAT: 'debezium',
  CDC_ENTITY_TYPE: PRODUCTS_CDC_DECLARATION.entityType,
  CDC_VERSION_COLUMN: PRODUCTS_CDC_DECLARATION.versionColumn,
  CDC_TENANT_COLUMN: PRODUCTS_CDC_DECLARATION.tenantColumn,
  CDC_FIELDS: Object.entries(PRODUCTS_CDC_DECLARATION.fields)
    .map(([column, field]) => `${column}:${field}`)
    .join(','),
  CDC_NUMERIC_COLUMNS: PRODUCTS_CDC_DECLARATION.numericColumns.join(','),
};

/** pg_advisory_xact_lock key of the migration ("cata" in ASCII: any fixed bigint the database's other users do not take). */
export const MIGRATION_LOCK_KEY = 0x63617461;

export const CATALOG_SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS ${PRODUCTS_TABLE} (
  id          text PRIMARY KEY,
  tenant      text NOT NULL,
  name        text NOT NULL,
  price       numeric(14, 2) NOT NULL CHECK (price >= 0),
  category_id text NOT NULL,
  version     integer NOT NULL CHECK (version >= 1),   -- 1 at creation, +1 in the transaction of every change
  updated_at  timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS ${PRODUCTS_TABLE}_category ON ${PRODUCTS_TABLE} (category_id, id);
CREATE INDEX IF NOT EXISTS ${PRODUCTS_TABLE}_tenant ON ${PRODUCTS_TABLE} (tenant, id);
${postgresOutboxSchema(OUTBOX_TABLE)}`;
