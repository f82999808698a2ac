import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CatalogStore } from './catalog-store';
import { CatalogStoreError } from './catalog-store.errors';

describe('CatalogStore (file-backed source of truth with a transactional outbox)', () => {
  let dir: string;
  let file: string;
  const open = (compactEvery?: number) => CatalogStore.open({ file, compactEvery });
  const mug = { id: 'mug', tenant: 'acme', name: 'Mug', price: 9.5, categoryId: 'kitchen' };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'catalog-store-'));
    file = join(dir, 'nested', 'catalog.jsonl');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('announces every change with version+1, before/after and the changed fields, in commit order', async () => {
    const store = open();
    store.create(mug, 'req-1');
    const priced = store.update('mug', { price: 11 });
    const moved = store.move('mug', 'gifts');
    expect(priced.product.version).toBe(2);
    expect(moved.product).toMatchObject({ version: 3, categoryId: 'gifts', price: 11 });

    const events = (await store.outbox.unsent(10)).map((r) => r.event);
    expect(events.map((e) => [e.version, e.changedFields])).toEqual([
      [1, ['categoryId', 'id', 'name', 'price', 'tenant']],
      [2, ['price']],
      [3, ['categoryId']],
    ]);
    expect(events[2]).toMatchObject({
      entityType: 'product',
      entityId: 'mug',
      tenant: 'acme',
      before: { categoryId: 'kitchen', version: 2 },
      after: { categoryId: 'gifts', version: 3 },
    });
    expect(events[0].before).toBeUndefined();
    expect((await store.outbox.unsent(1))[0].traceId).toBe('req-1');
    store.close();
  });

  it('keeps category listings in step with moves', () => {
    const store = open();
    store.create(mug);
    store.create({ ...mug, id: 'cup' });
    store.move('mug', 'gifts');
    expect(store.listByCategory('kitchen').map((p) => p.id)).toEqual(['cup']);
    expect(store.listByCategory('gifts').map((p) => p.id)).toEqual(['mug']);
    expect(store.listByCategory('nowhere')).toEqual([]);
    store.close();
  });

  it('makes no version and no event for a patch that changes nothing', () => {
    const store = open();
    store.create(mug);
    expect(store.update('mug', { price: 9.5, name: undefined })).toMatchObject({ changed: false, product: { version: 1 } });
    expect(store.outbox.pendingCount).toBe(1);
    store.close();
  });

  it('refuses unknown products, duplicates and stale expectedVersion with stable codes', () => {
    const store = open();
    store.create(mug);
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return (error as CatalogStoreError).code;
      }
      return 'no error';
    };
    expect(code(() => store.update('nope', { price: 1 }))).toBe('PRODUCT_NOT_FOUND');
    expect(code(() => store.create(mug))).toBe('PRODUCT_EXISTS');
    expect(code(() => store.update('mug', { price: 1 }, { expectedVersion: 7 }))).toBe('VERSION_CONFLICT');
    expect(store.get('mug')?.price).toBe(9.5);
    store.close();
  });

  it('refuses a change whose event would be refused, and writes nothing', () => {
    const store = open();
    const before = readFileSync(file, 'utf8');
    expect(() => store.create({ ...mug, id: 'a*b' })).toThrow(expect.objectContaining({ code: 'EVENT_INVALID' }));
    expect(readFileSync(file, 'utf8')).toBe(before);
    expect(store.get('a*b')).toBeUndefined();
    store.close();
  });

  it('after a restart has the same products, continues their versions and still holds the unsent events', async () => {
    const first = open();
    first.create(mug);
    first.update('mug', { price: 12 });
    const [sent] = await first.outbox.unsent(1);
    await first.outbox.markSent([sent.id]);
    first.close();

    const second = open();
    expect(second.get('mug')).toMatchObject({ version: 2, price: 12 });
    expect((await second.outbox.unsent(10)).map((r) => r.event.version)).toEqual([2]);
    expect(second.update('mug', { price: 13 }).product.version).toBe(3);
    second.close();
  });

  it('cuts off a torn last line (crash mid-append) and keeps appending on a fresh line', () => {
    const first = open();
    first.create(mug);
    first.close();
    appendFileSync(file, '{"t":"change","product":{"id":"half');
    const second = open();
    expect(second.productCount).toBe(1);
    second.create({ ...mug, id: 'cup' });
    second.close();
    expect(open().get('cup')).toBeDefined();
  });

  it('stops with JOURNAL_CORRUPT on a damaged line in the middle, naming the line', () => {
    const first = open();
    first.create(mug);
    first.close();
    writeFileSync(file, 'garbage\n' + readFileSync(file, 'utf8'));
    expect(() => open()).toThrow(expect.objectContaining({ code: 'JOURNAL_CORRUPT', message: expect.stringContaining(':1 ') }));
  });

  it('compacts the journal into a snapshot without losing products, versions or unsent events', async () => {
    const store = open(5);
    store.create(mug);
    for (let i = 1; i <= 15; i++) store.update('mug', { price: 10 + i });
    await store.outbox.markSent((await store.outbox.unsent(100)).map((r) => r.id)); // the relay caught up
    for (let i = 16; i <= 20; i++) store.update('mug', { price: 10 + i });
    store.close();
    // 21 changes and a sent marker, but at most: 1 product + 5 unsent events + 5 appends since the last compaction.
    expect(readFileSync(file, 'utf8').trim().split('\n').length).toBeLessThanOrEqual(11);

    const reopened = open(5);
    expect(reopened.get('mug')).toMatchObject({ version: 21, price: 30 });
    expect((await reopened.outbox.unsent(100)).map((r) => r.event.version)).toEqual([17, 18, 19, 20, 21]);
    reopened.close();
  });
});
