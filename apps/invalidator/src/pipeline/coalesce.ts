// Step 3 of the pipeline (invalidation.pipeline.ts), coalesce: collapse the events of one entity into one change carrying the newest version,
// while keeping every event so the old keys and tags of a moved entity are still resolved.
import type { EntityUpdated } from '@app/contracts';
import { DecodedEvent } from './decode';

export interface EntityChange {
  entityType: string;
  entityId: string;
  tenant?: string;
  /** Highest version among `events`. */
  version: number;
  /** The event with the highest version: source of warm values. */
  newest: EntityUpdated;
  /** Every event of this entity in the batch, in offset order. */
  events: DecodedEvent[];
}

export function coalesce(events: DecodedEvent[]): EntityChange[] {
  const byEntity = new Map<string, EntityChange>();
  for (const decoded of events) {
    const { event } = decoded;
    // join(): one flat string to hash, not a rope (see eventIdentity in dedupe.ts)
    const id = [event.tenant ?? '', event.entityType, event.entityId].join('|');
    const change = byEntity.get(id);
    if (!change) {
      byEntity.set(id, {
        entityType: event.entityType,
        entityId: event.entityId,
        tenant: event.tenant,
        version: event.version,
        newest: event,
        events: [decoded],
      });
      continue;
    }
    change.events.push(decoded);
    if (event.version > change.version) {
      change.version = event.version;
      change.newest = event;
    }
  }
  return [...byEntity.values()];
}
