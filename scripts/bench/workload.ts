// The bench workload: product events, each touching 3 keys and 1 tag (as the issue asks).
import { randomUUID } from 'node:crypto';
import type { EntityUpdated } from '@app/contracts';

export type BenchEvent = EntityUpdated & { after: { categoryId: string; price: number } };

export const CATEGORIES = 1000;

export function keysOf(e: BenchEvent): string[] {
  return [`product:${e.entityId}`, `product-page:${e.entityId}`, `category:${e.after.categoryId}:products`];
}

export function tagOf(e: BenchEvent): string {
  return `category:${e.after.categoryId}`;
}

/** The registry mapping that makes the invalidator do exactly keysOf + tagOf. */
export const BENCH_MAPPING = {
  id: 'bench.product',
  entityType: 'product',
  owner: 'bench',
  description: 'bench workload: 3 keys + 1 tag per event',
  keys: [
    { template: 'product:{entityId}', action: 'tombstone' },
    { template: 'product-page:{entityId}', action: 'tombstone' },
    { template: 'category:{after.categoryId}:products', action: 'delete' },
  ],
  tags: process.env.BENCH_NO_TAGS === '1' ? [] : ['category:{after.categoryId}'],
};

/** `count` events over `products` entities; versions increase per entity. */
export function* generateEvents(count: number, products: number, firstVersion = 1): Generator<BenchEvent> {
  const versions = new Map<number, number>();
  for (let i = 0; i < count; i += 1) {
    const id = Math.floor(Math.random() * products);
    const version = (versions.get(id) ?? firstVersion - 1) + 1;
    versions.set(id, version);
    yield {
      eventId: randomUUID(),
      entityType: 'product',
      entityId: String(id),
      version,
      occurredAt: new Date().toISOString(),
      after: { categoryId: String(id % CATEGORIES), price: i % 1000 },
    };
  }
}
