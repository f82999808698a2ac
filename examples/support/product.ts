// The example shop's product: what example-catalog stores and serves (GET /products/:id), the
// `before`/`after` of its events, and what example-storefront's loaders read. Shared by both
// examples and their tests, so the shape is written once.

/** A product as the catalog stores it and serves it; also the `before`/`after` of its events. */
export interface Product {
  id: string;
  tenant: string;
  name: string;
  /** In the shop's currency, at most two decimals. */
  price: number;
  categoryId: string;
  /** Starts at 1, +1 on every change: the version the invalidator guards with. */
  version: number;
  updatedAt: string;
}
