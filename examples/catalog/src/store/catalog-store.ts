// The catalog's source of truth. Every change is one synchronous critical section: read the
// current product, compute version+1, build and validate the event, append product+event as one
// journal line, then apply it in memory and hand the event to the outbox. Node runs it without
// interleaving, so versions per product only ever go up by one and the log order is the event order.
import { randomUUID } from 'node:crypto';
import { EntityUpdated, fastValidateEntityUpdated, validateEntityUpdated } from '@app/contracts';
import { buildEntityUpdated, createOutboxRecord, InMemoryOutbox } from '@app/publisher';
import { CatalogJournal, JournalEntry } from './catalog-journal';
import { CatalogStoreError } from './catalog-store.errors';
import { NewProduct, Product, PRODUCT_ENTITY_TYPE, ProductPatch } from './product';

export interface CatalogStoreOptions {
  file: string;
  fsync?: boolean;
  /** Rewrite the journal as a snapshot after this many appends. Default 10000. */
  compactEvery?: number;
  now?: () => Date;
}

export interface ChangeResult {
  product: Product;
  /** False when the patch changed nothing: no new version, no event. */
  changed: boolean;
  event?: EntityUpdated;
}

export class CatalogStore {
  /** The transactional outbox the relay drains; its rows are written with the changes they announce. */
  readonly outbox: InMemoryOutbox;
  private readonly products = new Map<string, Product>();
  private readonly byCategory = new Map<string, Set<string>>();
  private readonly journal: CatalogJournal;
  private readonly compactEvery: number;
  private readonly now: () => Date;
  private readonly changeListeners: (() => void)[] = [];
  private closed = false;

  private constructor(options: CatalogStoreOptions) {
    this.compactEvery = options.compactEvery ?? 10_000;
    this.now = options.now ?? (() => new Date());
    this.outbox = new InMemoryOutbox({
      persistSent: (ids) => this.appendMarker({ t: 'sent', ids: [...ids] }),
      persistFailed: (id, reason) => this.appendMarker({ t: 'failed', id, reason }),
    });
    const opened = CatalogJournal.open(options.file, { fsync: options.fsync ?? false });
    this.journal = opened.journal;
    opened.entries.forEach((entry) => this.replay(entry));
    // Start from a compact file: one line per product and per unsent event.
    if (opened.entries.length > this.products.size + this.outbox.pendingCount + this.outbox.failed.length) this.compact();
  }

  static open(options: CatalogStoreOptions): CatalogStore {
    return new CatalogStore(options);
  }

  /** Called after every committed change (the relay's notify). */
  onChange(listener: () => void): void {
    this.changeListeners.push(listener);
  }

  get(id: string): Product | undefined {
    return this.products.get(id);
  }

  listByCategory(categoryId: string): Product[] {
    const ids = [...(this.byCategory.get(categoryId) ?? [])].sort();
    return ids.map((id) => this.products.get(id)!);
  }

  /** Every product of a tenant, sorted by id (a scan: fine for an example shop). */
  listByTenant(tenant: string): Product[] {
    return [...this.products.values()].filter((p) => p.tenant === tenant).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  get productCount(): number {
    return this.products.size;
  }

  create(input: NewProduct, traceId?: string): ChangeResult {
    const id = input.id ?? `p-${randomUUID().slice(0, 12)}`;
    if (this.products.has(id))
      throw new CatalogStoreError(
        'PRODUCT_EXISTS',
        `product "${id}" already exists (version ${this.products.get(id)!.version}); update it instead`,
      );
    const product: Product = {
      id,
      tenant: input.tenant,
      name: input.name,
      price: input.price,
      categoryId: input.categoryId,
      version: 1,
      updatedAt: this.now().toISOString(),
    };
    return this.commit(undefined, product, traceId);
  }

  /** Applies `patch`; with `expectedVersion`, refuses (VERSION_CONFLICT) if someone changed the product since. */
  update(id: string, patch: ProductPatch, options: { expectedVersion?: number; traceId?: string } = {}): ChangeResult {
    const current = this.products.get(id);
    if (!current) throw new CatalogStoreError('PRODUCT_NOT_FOUND', `product "${id}" does not exist`);
    if (options.expectedVersion !== undefined && options.expectedVersion !== current.version) {
      throw new CatalogStoreError(
        'VERSION_CONFLICT',
        `product "${id}" is at version ${current.version}, not the expected ${options.expectedVersion}; re-read and retry`,
      );
    }
    const next = { ...current, ...definedOnly(patch) };
    if (next.name === current.name && next.price === current.price && next.categoryId === current.categoryId)
      return { product: current, changed: false };
    return this.commit(current, { ...next, version: current.version + 1, updatedAt: this.now().toISOString() }, options.traceId);
  }

  move(id: string, categoryId: string, options: { expectedVersion?: number; traceId?: string } = {}): ChangeResult {
    return this.update(id, { categoryId }, options);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.journal.close();
  }

  private commit(before: Product | undefined, after: Product, traceId?: string): ChangeResult {
    if (this.closed) throw new CatalogStoreError('STORE_CLOSED', 'the catalog store is closed');
    const event = buildEntityUpdated(
      {
        entityType: PRODUCT_ENTITY_TYPE,
        entityId: after.id,
        version: after.version,
        tenant: after.tenant,
        before: before ? { ...before } : undefined,
        after: { ...after },
        occurredAt: after.updatedAt,
      },
      this.now,
    );
    // Refuse at the edge: an event the publisher would refuse must not become a change nobody hears about.
    if (!fastValidateEntityUpdated(event)) {
      const reasons = validateEntityUpdated(event).map((v) => `${v.field}: ${v.message}`);
      throw new CatalogStoreError('EVENT_INVALID', `the change of product "${after.id}" cannot be announced: ${reasons.join('; ')}`);
    }
    const record = createOutboxRecord(event, traceId);
    this.journal.append({ t: 'change', product: after, outbox: record }); // the commit point
    this.applyProduct(after);
    this.outbox.add(record);
    if (this.journal.appendsSinceRewrite >= this.compactEvery) this.compact();
    this.changeListeners.forEach((listener) => listener());
    return { product: after, changed: true, event };
  }

  private appendMarker(entry: JournalEntry): void {
    if (this.closed) throw new CatalogStoreError('STORE_CLOSED', 'the catalog store is closed');
    this.journal.append(entry);
  }

  private replay(entry: JournalEntry): void {
    switch (entry.t) {
      case 'change':
        this.applyProduct(entry.product);
        this.outbox.add(entry.outbox);
        break;
      case 'product':
        this.applyProduct(entry.product);
        break;
      case 'outbox':
        this.outbox.add(entry.record);
        break;
      case 'sent':
        this.outbox.restoreSent(entry.ids);
        break;
      case 'failed':
        this.outbox.restoreFailed(entry.id, entry.reason);
        break;
      default:
        throw new CatalogStoreError('JOURNAL_CORRUPT', `unknown journal entry ${JSON.stringify(entry).slice(0, 120)}`);
    }
  }

  private applyProduct(product: Product): void {
    const previous = this.products.get(product.id);
    if (previous && previous.categoryId !== product.categoryId) this.byCategory.get(previous.categoryId)?.delete(product.id);
    this.products.set(product.id, product);
    let members = this.byCategory.get(product.categoryId);
    if (!members) this.byCategory.set(product.categoryId, (members = new Set()));
    members.add(product.id);
  }

  /** Snapshot: products, then unsent and failed outbox records in their original order. */
  private compact(): void {
    const entries: JournalEntry[] = [...this.products.values()].map((product) => ({ t: 'product', product }));
    for (const { record, reason } of this.outbox.failed) entries.push({ t: 'outbox', record }, { t: 'failed', id: record.id, reason });
    for (const record of this.outbox.pendingRecords()) entries.push({ t: 'outbox', record });
    this.journal.rewrite(entries);
  }
}

function definedOnly<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<T>;
}
