// Reads the source of truth (example-catalog's GET endpoints) for the cache loaders.
import { SAFE_ID_PATTERN } from '@app/contracts';
import type { Product } from '../../support/product';

export interface CategoryListing {
  categoryId: string;
  products: Product[];
}

export interface TenantListing {
  tenant: string;
  products: Product[];
}

export class ProductNotFoundError extends Error {
  readonly code = 'PRODUCT_NOT_FOUND';
  constructor(readonly productId: string) {
    super(`product "${productId}" does not exist in the catalog`);
    this.name = 'ProductNotFoundError';
  }
}

export class CatalogUnavailableError extends Error {
  readonly code = 'CATALOG_UNAVAILABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CatalogUnavailableError';
  }
}

export class CatalogTruthClient {
  private readonly baseUrl: string;

  constructor(
    baseUrl: string,
    private readonly timeoutMs: number,
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  /** Null when the catalog has no such product. */
  async product(id: string): Promise<Product | null> {
    return this.getJson<Product>(`/products/${this.safe(id)}`);
  }

  async categoryProducts(categoryId: string): Promise<CategoryListing> {
    const listing = await this.getJson<CategoryListing>(`/categories/${this.safe(categoryId)}/products`);
    if (!listing) throw new CatalogUnavailableError(`catalog answered 404 for the listing of category "${categoryId}"`);
    return listing;
  }

  async tenantProducts(tenant: string): Promise<TenantListing> {
    const listing = await this.getJson<TenantListing>(`/tenants/${this.safe(tenant)}/products`);
    if (!listing) throw new CatalogUnavailableError(`catalog answered 404 for the products of tenant "${tenant}"`);
    return listing;
  }

  private safe(id: string): string {
    // The controllers check ids already; this keeps a bad id from ever becoming a different URL.
    if (!SAFE_ID_PATTERN.test(id)) throw new CatalogUnavailableError(`refusing to call the catalog with id ${JSON.stringify(id)}`);
    return encodeURIComponent(id);
  }

  private async getJson<T>(path: string): Promise<T | null> {
    let response: Response;
    try {
      response = await fetch(this.baseUrl + path, { signal: AbortSignal.timeout(this.timeoutMs), headers: { accept: 'application/json' } });
    } catch (error) {
      throw new CatalogUnavailableError(`catalog ${this.baseUrl} did not answer GET ${path}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    if (response.status === 404) {
      await response.body?.cancel();
      return null;
    }
    if (!response.ok) throw new CatalogUnavailableError(`catalog answered ${response.status} to GET ${path}`);
    return (await response.json()) as T;
  }
}
