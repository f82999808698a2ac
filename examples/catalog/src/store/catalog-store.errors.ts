export type CatalogStoreErrorCode =
  | 'PRODUCT_NOT_FOUND'
  | 'PRODUCT_EXISTS'
  | 'VERSION_CONFLICT'
  | 'EVENT_INVALID'
  /** PostgreSQL could not be reached or refused the statement: nothing was committed, retry later. */
  | 'DATABASE_UNAVAILABLE'
  | 'STORE_CLOSED';

export class CatalogStoreError extends Error {
  constructor(
    readonly code: CatalogStoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CatalogStoreError';
  }
}
