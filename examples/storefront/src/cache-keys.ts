// The cache keys this service fills. They must be the keys the catalog mapping
// (examples/mappings/catalog.yaml) tells the invalidator to clear, or invalidations miss them.
export const productKey = (productId: string): string => `product:${productId}`;
export const categoryProductsKey = (categoryId: string): string => `category:${categoryId}:products`;

/**
 * Every product of a tenant. No key template can name it from one event, so it joins the
 * mapping's tag instead: the invalidator's tag invalidation of `tenant:{tenant}:products` drops it.
 */
export const tenantProductsKey = (tenant: string): string => `tenant:${tenant}:all-products`;
export const tenantProductsTag = (tenant: string): string => `tenant:${tenant}:products`;
