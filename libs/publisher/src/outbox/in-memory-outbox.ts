// An in-process outbox table for stores that apply a change in memory and persist it with one
// atomic write of their own (an append-only file, a snapshot, an embedded KV store). The store
// writes the business change and its outbox record together, then calls `add` with the record;
// the `persistSent`/`persistFailed` hooks let it record the relay's progress the same way, and
// `add` + `markSent` rebuild the table when the store replays its log after a restart.
import type { Outbox, OutboxRecord } from './outbox';

export interface InMemoryOutboxHooks {
  /** Called before records leave the table as sent (e.g. append a "sent" marker to the log). */
  persistSent?: (ids: readonly string[]) => Promise<void> | void;
  /** Called before a record leaves the table as failed. */
  persistFailed?: (id: string, reason: string) => Promise<void> | void;
}

export interface FailedOutboxRecord {
  record: OutboxRecord;
  reason: string;
}

export class InMemoryOutbox implements Outbox {
  /** Insertion-ordered: Map iteration order is the order records were added. */
  private readonly pending = new Map<string, OutboxRecord>();
  private readonly failedRecords: FailedOutboxRecord[] = [];

  constructor(private readonly hooks: InMemoryOutboxHooks = {}) {}

  /** Synchronous, so a store can add the record in the same tick as it applies the change. Re-adding a pending id is a no-op. */
  add(record: OutboxRecord): void {
    if (!this.pending.has(record.id)) this.pending.set(record.id, record);
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /** Pending records in order (for a store's snapshot). */
  pendingRecords(): OutboxRecord[] {
    return [...this.pending.values()];
  }

  get failed(): readonly FailedOutboxRecord[] {
    return this.failedRecords;
  }

  unsent(limit: number): Promise<readonly OutboxRecord[]> {
    const out: OutboxRecord[] = [];
    for (const record of this.pending.values()) {
      if (out.length >= limit) break;
      out.push(record);
    }
    return Promise.resolve(out);
  }

  async markSent(ids: readonly string[]): Promise<void> {
    const known = ids.filter((id) => this.pending.has(id));
    if (known.length === 0) return;
    await this.hooks.persistSent?.(known);
    known.forEach((id) => this.pending.delete(id));
  }

  async markFailed(id: string, reason: string): Promise<void> {
    const record = this.pending.get(id);
    if (!record) return;
    await this.hooks.persistFailed?.(id, reason);
    this.pending.delete(id);
    this.failedRecords.push({ record, reason });
  }

  /** Replay: a "sent" marker read back from the store's log (no hooks called). */
  restoreSent(ids: readonly string[]): void {
    ids.forEach((id) => this.pending.delete(id));
  }

  /** Replay: a "failed" marker read back from the store's log (no hooks called). */
  restoreFailed(id: string, reason: string): void {
    const record = this.pending.get(id);
    if (!record) return;
    this.pending.delete(id);
    this.failedRecords.push({ record, reason });
  }
}
