import { Controller, Get, Header, Inject, Param, Req, Res } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { metricsRegistry } from '@app/telemetry';
import { categoryProductsKey, productKey, tenantProductsTag } from '../cache-keys';
import { STOREFRONT_CONFIG } from '../config/storefront.config';
import type { StorefrontConfig } from '../config/storefront.config';
import { ReadObserver, StorefrontService } from '../storefront.service';
import { CachedPage, HttpCachePolicy, pageResponse } from './http-cache';
import { SafeIdPipe } from './http-support';

const PAGE_HEADERS =
  'ETag (W/"v<version>" for a product), Cache-Control (max-age, s-maxage, stale-while-revalidate), xkey + Surrogate-Key (tags), X-Storefront-Cache (hit|miss); 304 for a matching If-None-Match';

@ApiTags('storefront')
@Controller()
export class StorefrontController {
  private readonly policy: HttpCachePolicy;

  constructor(
    @Inject(StorefrontService) private readonly storefront: StorefrontService,
    @Inject(STOREFRONT_CONFIG) config: StorefrontConfig,
  ) {
    this.policy = {
      maxAgeSeconds: config.HTTP_MAX_AGE_SECONDS,
      sharedMaxAgeSeconds: config.HTTP_SHARED_MAX_AGE_SECONDS,
      staleWhileRevalidateSeconds: config.HTTP_STALE_WHILE_REVALIDATE_SECONDS,
    };
  }

  @Get('products/:id')
  @ApiOperation({ summary: `A product, read through the cache (key product:{id}); includes its version. Headers: ${PAGE_HEADERS}` })
  @ApiOkResponse({ description: '{ id, tenant, name, price, categoryId, version, updatedAt }' })
  async product(@Param('id', SafeIdPipe) id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const read: ReadObserver = { loaded: false };
    const product = await this.storefront.product(id, read);
    this.send(req, res, { body: product, version: product.version, surrogateKeys: [productKey(id)], cache: read.loaded ? 'miss' : 'hit' });
  }

  @Get('categories/:id/products')
  @ApiOperation({ summary: `The products of a category, read through the cache (key category:{id}:products). Headers: ${PAGE_HEADERS}` })
  @ApiOkResponse({ description: '{ categoryId, products: [...] }' })
  async categoryListing(@Param('id', SafeIdPipe) id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const read: ReadObserver = { loaded: false };
    const listing = await this.storefront.categoryListing(id, read);
    const keys = [categoryProductsKey(id), ...listing.products.map((p) => productKey(p.id))];
    this.send(req, res, { body: listing, surrogateKeys: keys, cache: read.loaded ? 'miss' : 'hit' });
  }

  @Get('tenants/:tenant/products')
  @ApiOperation({
    summary: `Every product of a tenant, read through the cache (key tenant:{tenant}:all-products, tag tenant:{tenant}:products). Headers: ${PAGE_HEADERS}`,
  })
  @ApiOkResponse({ description: '{ tenant, products: [...] }' })
  async tenantProducts(@Param('tenant', SafeIdPipe) tenant: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const read: ReadObserver = { loaded: false };
    const listing = await this.storefront.tenantProducts(tenant, read);
    this.send(req, res, { body: listing, surrogateKeys: [tenantProductsTag(tenant)], cache: read.loaded ? 'miss' : 'hit' });
  }

  /** Errors never get here: they are thrown before, and StorefrontErrorFilter answers them (uncacheable 4xx/5xx). */
  private send(req: Request, res: Response, page: CachedPage): void {
    const out = pageResponse(page, this.policy, req.header('if-none-match'));
    res.status(out.status).set(out.headers);
    if (out.json === undefined) res.end();
    else res.send(out.json);
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
