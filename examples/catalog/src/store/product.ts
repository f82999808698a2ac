import type { Product } from '../../../support/product';

// Product is shared with example-storefront (examples/support/product.ts).
export type { Product };

export interface NewProduct {
  id?: string;
  tenant: string;
  name: string;
  price: number;
  categoryId: string;
}

export type ProductPatch = Partial<Pick<Product, 'name' | 'price' | 'categoryId'>>;

export const PRODUCT_ENTITY_TYPE = 'product';
