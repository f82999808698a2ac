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

export interface NewProduct {
  id?: string;
  tenant: string;
  name: string;
  price: number;
  categoryId: string;
}

export type ProductPatch = Partial<Pick<Product, 'name' | 'price' | 'categoryId'>>;

export const PRODUCT_ENTITY_TYPE = 'product';
