import { Body, Controller, Get, HttpCode, Inject, NotFoundException, Param, Patch, Post, Res } from '@nestjs/common';
import type { Response } from 'express';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CatalogStore } from '../store/catalog-store';
import { Product } from '../store/product';
import { SafeIdPipe, TraceId } from './http-support';
import { CategoryListingView, CreateProductDto, MoveProductDto, ProductView, TenantListingView, UpdateProductDto } from './product.dto';

@ApiTags('products')
@Controller('products')
export class ProductsController {
  constructor(@Inject(CatalogStore) private readonly store: CatalogStore) {}

  @Post()
  @ApiOperation({ summary: 'Create a product (version 1); publishes entity.updated' })
  @ApiCreatedResponse({ type: ProductView })
  async create(@Body() body: CreateProductDto, @TraceId() traceId?: string): Promise<Product> {
    return (await this.store.create(body, traceId)).product;
  }

  @Get(':id')
  @ApiOperation({
    summary:
      'The product as stored now (the truth the storefront loads; also the invalidator\'s loader: `warmFrom: { loaderUrl: "http://<catalog>/products/{entityId}" }`)',
    description:
      'The version is in the body (`version`) and in the `X-Entity-Version` header, the loader contract of the invalidator (docs/registry.md).',
  })
  @ApiOkResponse({ type: ProductView, headers: { 'X-Entity-Version': { description: 'the product version (same as the body field)' } } })
  async get(@Param('id', SafeIdPipe) id: string, @Res({ passthrough: true }) res: Response): Promise<Product> {
    const product = await this.store.get(id);
    if (!product) throw new NotFoundException({ statusCode: 404, code: 'PRODUCT_NOT_FOUND', message: `product "${id}" does not exist` });
    res.setHeader('x-entity-version', String(product.version));
    return product;
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change name, price and/or category; version+1 and an event when anything changed' })
  @ApiOkResponse({ type: ProductView })
  async update(@Param('id', SafeIdPipe) id: string, @Body() body: UpdateProductDto, @TraceId() traceId?: string): Promise<Product> {
    const { expectedVersion, ...patch } = body;
    return (await this.store.update(id, patch, { expectedVersion, traceId })).product;
  }

  @Post(':id/move')
  @HttpCode(200)
  @ApiOperation({ summary: 'Move the product to another category' })
  @ApiOkResponse({ type: ProductView })
  async move(@Param('id', SafeIdPipe) id: string, @Body() body: MoveProductDto, @TraceId() traceId?: string): Promise<Product> {
    return (await this.store.move(id, body.categoryId, { expectedVersion: body.expectedVersion, traceId })).product;
  }
}

@ApiTags('categories')
@Controller('categories')
export class CategoriesController {
  constructor(@Inject(CatalogStore) private readonly store: CatalogStore) {}

  @Get(':id/products')
  @ApiOperation({ summary: 'Products in the category now, sorted by id (empty for an unknown category)' })
  @ApiOkResponse({ type: CategoryListingView })
  async list(@Param('id', SafeIdPipe) id: string): Promise<CategoryListingView> {
    return { categoryId: id, products: await this.store.listByCategory(id) };
  }
}

@ApiTags('tenants')
@Controller('tenants')
export class TenantsController {
  constructor(@Inject(CatalogStore) private readonly store: CatalogStore) {}

  @Get(':tenant/products')
  @ApiOperation({ summary: "Every product of a tenant now, sorted by id (the truth of the storefront's tag-invalidated listing)" })
  @ApiOkResponse({ type: TenantListingView })
  async list(@Param('tenant', SafeIdPipe) tenant: string): Promise<TenantListingView> {
    return { tenant, products: await this.store.listByTenant(tenant) };
  }
}
