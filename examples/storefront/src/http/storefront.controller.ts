import { Controller, Get, Header, Inject, Param } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { metricsRegistry } from '@app/telemetry';
import type { CatalogProduct, CategoryListing, TenantListing } from '../catalog-truth.client';
import { StorefrontService } from '../storefront.service';
import { SafeIdPipe } from './http-support';

@ApiTags('storefront')
@Controller()
export class StorefrontController {
  constructor(@Inject(StorefrontService) private readonly storefront: StorefrontService) {}

  @Get('products/:id')
  @ApiOperation({ summary: 'A product, read through the cache (key product:{id}); includes its version' })
  @ApiOkResponse({ description: '{ id, tenant, name, price, categoryId, version, updatedAt }' })
  product(@Param('id', SafeIdPipe) id: string): Promise<CatalogProduct> {
    return this.storefront.product(id);
  }

  @Get('categories/:id/products')
  @ApiOperation({ summary: 'The products of a category, read through the cache (key category:{id}:products)' })
  @ApiOkResponse({ description: '{ categoryId, products: [...] }' })
  categoryListing(@Param('id', SafeIdPipe) id: string): Promise<CategoryListing> {
    return this.storefront.categoryListing(id);
  }

  @Get('tenants/:tenant/products')
  @ApiOperation({ summary: "Every product of a tenant, read through the cache (key tenant:{tenant}:all-products, tag tenant:{tenant}:products)" })
  @ApiOkResponse({ description: '{ tenant, products: [...] }' })
  tenantProducts(@Param('tenant', SafeIdPipe) tenant: string): Promise<TenantListing> {
    return this.storefront.tenantProducts(tenant);
  }

  @Get('health')
  @ApiExcludeEndpoint()
  health(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('metrics')
  @ApiExcludeEndpoint()
  @Header('content-type', 'text/plain; version=0.0.4')
  metrics(): Promise<string> {
    return metricsRegistry().metrics();
  }
}
