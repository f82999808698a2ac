// Step 2: drop exact duplicates (same eventId, or same entity+version) within the batch and
// against recently applied events. This only saves work: every Redis operation is idempotent
// and version-guarded, so a duplicate that slips through (after a restart) changes nothing.
import { DecodedEvent } from './decode';

/** Bounded memory of recently applied event identities (insertion-ordered Map as an LRU). */
export class RecentEvents {
  private readonly seen = new Map<string, true>();

  constructor(private readonly capacity: number) {}

  has(id: string): boolean {
    return this.seen.has(id);
  }

  remember(id: string): void {
    if (this.seen.has(id)) this.seen.delete(id);
    this.seen.set(id, true);
    if (this.seen.size > this.capacity) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
  }

  get size(): number {
    return this.seen.size;
  }
}

export function versionIdentity(e: DecodedEvent['event']): string {
  return `v|${e.tenant ?? ''}|${e.entityType}|${e.entityId}|${e.version}`;
}

export function eventIdentity(e: DecodedEvent['event']): string {
  return `e|${e.eventId}`;
}

export interface DedupeResult {
  unique: DecodedEvent[];
  duplicates: number;
}

export function dedupe(events: DecodedEvent[], recent: RecentEvents): DedupeResult {
  const inBatch = new Set<string>();
  const unique: DecodedEvent[] = [];
  for (const d of events) {
    const byId = eventIdentity(d.event);
    const byVersion = versionIdentity(d.event);
    if (inBatch.has(byId) || inBatch.has(byVersion) || recent.has(byId) || recent.has(byVersion)) continue;
    inBatch.add(byId);
    inBatch.add(byVersion);
    unique.push(d);
  }
  return { unique, duplicates: events.length - unique.length };
}

export function rememberApplied(events: DecodedEvent[], recent: RecentEvents): void {
  for (const d of events) {
    recent.remember(eventIdentity(d.event));
    recent.remember(versionIdentity(d.event));
  }
}
