import 'reflect-metadata';
import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { createLogger } from '@app/telemetry';
import { ProductNotFoundError } from '../catalog-truth.client';
import type { Product } from '../../../support/product';
import { resolveStorefrontConfig, STOREFRONT_CONFIG } from '../config/storefront.config';
import { ReadObserver, StorefrontService } from '../storefront.service';
import { bodyEtag, cacheControl, ifNoneMatchMatches, pageResponse, surrogateKeys, versionEtag } from './http-cache';
import { StorefrontErrorFilter } from './http-support';
import { StorefrontController } from './storefront.controller';

const policy = { maxAgeSeconds: 5, sharedMaxAgeSeconds: 300, staleWhileRevalidateSeconds: 30 };

describe('storefront HTTP caching headers', () => {
  it('Cache-Control has max-age, s-maxage and stale-while-revalidate', () => {
    expect(cacheControl(policy)).toBe('public, max-age=5, s-maxage=300, stale-while-revalidate=30');
  });

  it('ETags: the version for an entity, a body hash for an aggregate', () => {
    expect(versionEtag(7)).toBe('W/"v7"');
    expect(bodyEtag('{"a":1}')).toBe(bodyEtag('{"a":1}'));
    expect(bodyEtag('{"a":1}')).not.toBe(bodyEtag('{"a":2}'));
  });

  it('If-None-Match: weak comparison, lists and *', () => {
    expect(ifNoneMatchMatches('W/"v7"', 'W/"v7"')).toBe(true);
    expect(ifNoneMatchMatches('"v7"', 'W/"v7"')).toBe(true);
    expect(ifNoneMatchMatches('W/"v6", W/"v7"', 'W/"v7"')).toBe(true);
    expect(ifNoneMatchMatches('*', 'W/"v7"')).toBe(true);
    expect(ifNoneMatchMatches('W/"v6"', 'W/"v7"')).toBe(false);
    expect(ifNoneMatchMatches(undefined, 'W/"v7"')).toBe(false);
  });

  it('surrogate keys are space separated, unique and capped', () => {
    expect(surrogateKeys(['product:1', 'product:2', 'product:1'])).toBe('product:1 product:2');
    expect(surrogateKeys(Array.from({ length: 100 }, (_, i) => `p:${i}`)).split(' ')).toHaveLength(64);
  });

  it('a matching If-None-Match answers 304 without a body but with the validators', () => {
    const page = { body: { id: '42', version: 7 }, version: 7, surrogateKeys: ['product:42'], cache: 'hit' as const };
    const ok = pageResponse(page, policy, undefined);
    expect(ok.status).toBe(200);
    expect(ok.headers).toMatchObject({ etag: 'W/"v7"', xkey: 'product:42', 'surrogate-key': 'product:42', 'x-storefront-cache': 'hit' });
    const notModified = pageResponse(page, policy, 'W/"v7"');
    expect(notModified).toMatchObject({ status: 304, headers: { etag: 'W/"v7"', 'cache-control': cacheControl(policy) } });
    expect(notModified.json).toBeUndefined();
  });
});

describe('storefront controller: headers over HTTP (fake read service)', () => {
  let app: INestApplication;
  const products = new Map<string, Product>();
  const cached = new Set<string>();
  const fake = {
    async product(id: string, observer?: ReadObserver): Promise<Product> {
      const p = products.get(id);
      if (!p) throw new ProductNotFoundError(id);
      if (!cached.has(id) && observer) observer.loaded = true;
      cached.add(id);
      return p;
    },
    async categoryListing(categoryId: string) {
      return { categoryId, products: [...products.values()].filter((p) => p.categoryId === categoryId) };
    },
    async tenantProducts(tenant: string) {
      return { tenant, products: [...products.values()].filter((p) => p.tenant === tenant) };
    },
  };

  beforeAll(async () => {
    products.set('42', {
      id: '42',
      tenant: 'acme',
      name: 'Mug',
      price: 10,
      categoryId: 'kitchen',
      version: 7,
      updatedAt: '2024-01-01T00:00:00.000Z',
    });
    const moduleRef = await Test.createTestingModule({
      controllers: [StorefrontController],
      providers: [
        { provide: StorefrontService, useValue: fake },
        {
          provide: STOREFRONT_CONFIG,
          useValue: resolveStorefrontConfig({ CATALOG_URL: 'http://127.0.0.1:1', HTTP_SHARED_MAX_AGE_SECONDS: 600 }, true),
        },
      ],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    app.useGlobalFilters(new StorefrontErrorFilter(createLogger('test', 'silent')));
    await app.init();
  });
  afterAll(() => app.close());

  it('a product page: ETag from the version, surrogate keys, Cache-Control, hit/miss; 304 on If-None-Match', async () => {
    const first = await request(app.getHttpServer()).get('/products/42').expect(200);
    expect(first.body).toMatchObject({ id: '42', price: 10, version: 7 });
    expect(first.headers).toMatchObject({
      etag: 'W/"v7"',
      xkey: 'product:42',
      'surrogate-key': 'product:42',
      'cache-control': 'public, max-age=5, s-maxage=600, stale-while-revalidate=30',
      'x-storefront-cache': 'miss',
    });
    expect(first.headers['content-type']).toMatch(/^application\/json/);
    const second = await request(app.getHttpServer()).get('/products/42').expect(200);
    expect(second.headers['x-storefront-cache']).toBe('hit');
    const notModified = await request(app.getHttpServer()).get('/products/42').set('if-none-match', 'W/"v7"').expect(304);
    expect(notModified.text).toBe('');
    expect(notModified.headers.etag).toBe('W/"v7"');
    await request(app.getHttpServer()).get('/products/42').set('if-none-match', 'W/"v6"').expect(200);
  });

  it('listings: a body-hash ETag and the tags of the listing and its products', async () => {
    const res = await request(app.getHttpServer()).get('/categories/kitchen/products').expect(200);
    expect(res.headers.xkey).toBe('category:kitchen:products product:42');
    expect(res.headers.etag).toMatch(/^W\/"h/);
    await request(app.getHttpServer()).get('/categories/kitchen/products').set('if-none-match', res.headers.etag).expect(304);
    const tenant = await request(app.getHttpServer()).get('/tenants/acme/products').expect(200);
    expect(tenant.headers['surrogate-key']).toBe('tenant:acme:products');
  });

  it('errors are not cacheable', async () => {
    const res = await request(app.getHttpServer()).get('/products/nope').expect(404);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers.xkey).toBeUndefined();
  });
});
