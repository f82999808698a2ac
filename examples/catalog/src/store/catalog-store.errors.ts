export type CatalogStoreErrorCode =
  | 'PRODUCT_NOT_FOUND'
  | 'PRODUCT_EXISTS'
  | 'VERSION_CONFLICT'
  | 'EVENT_INVALID'
  | 'JOURNAL_CORRUPT'
  | 'JOURNAL_WRITE_FAILED'
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
