// Read-through: every read asks the cache client, which returns the cached value or runs the
// loader under a lease (one loader per key at a time; an invalidation voids the lease, so a slow
// load can never put back data older than the invalidation).
import type { CacheClient, GetOrLoadOptions } from '@app/cache-client';
import { categoryProductsKey, productKey, tenantProductsKey, tenantProductsTag } from './cache-keys';
import { CatalogTruthClient, CategoryListing, ProductNotFoundError, TenantListing } from './catalog-truth.client';
import type { Product } from '../../support/product';
import type { StorefrontConfig } from './config/storefront.config';

/** Set by a read: `loaded` = this call ran the loader (a miss), else the value came from the cache. */
export interface ReadObserver {
  loaded: boolean;
}

export class StorefrontService {
  private readonly productOptions: GetOrLoadOptions;
  private readonly listingOptions: GetOrLoadOptions;

  constructor(
    private readonly cache: CacheClient,
    private readonly truth: CatalogTruthClient,
    config: StorefrontConfig,
  ) {
    const common = {
      loaderTimeoutMs: config.LOADER_TIMEOUT_MS,
      ...(config.STALE_WHILE_REVALIDATE_MS > 0 ? { staleWhileRevalidateMs: config.STALE_WHILE_REVALIDATE_MS } : {}),
    };
    this.productOptions = { ttlMs: config.PRODUCT_TTL_MS, ...common };
    this.listingOptions = { ttlMs: config.LISTING_TTL_MS, ...common };
  }

  /** The product with its version: the fill is version-guarded, so an older copy can't replace a newer tombstone. */
  product(id: string, observer?: ReadObserver): Promise<Product> {
    return this.cache.getOrLoad<Product>(
      productKey(id),
      async () => {
        if (observer) observer.loaded = true;
        const product = await this.truth.product(id);
        if (!product) throw new ProductNotFoundError(id);
        return { value: product, version: product.version };
      },
      this.productOptions,
    );
  }

  /** A listing aggregates many products: version 0, guarded by the lease alone. */
  categoryListing(categoryId: string, observer?: ReadObserver): Promise<CategoryListing> {
    return this.cache.getOrLoad<CategoryListing>(
      categoryProductsKey(categoryId),
      async () => {
        if (observer) observer.loaded = true;
        return { value: await this.truth.categoryProducts(categoryId), version: 0 };
      },
      this.listingOptions,
    );
  }

  /** Every product of a tenant: version 0, and a member of the tenant's tag (the mapping bumps it on every product change). */
  tenantProducts(tenant: string, observer?: ReadObserver): Promise<TenantListing> {
    return this.cache.getOrLoad<TenantListing>(
      tenantProductsKey(tenant),
      async () => {
        if (observer) observer.loaded = true;
        return { value: await this.truth.tenantProducts(tenant), version: 0 };
      },
      // one family for every tenant's listing: a family names a kind of key, never a tenant (bounded labels)
      { ...this.listingOptions, tags: [tenantProductsTag(tenant)], family: 'tenant-products' },
    );
  }
}
