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

/**
 * An entity: tenant, type and id. What coalesce groups events by, and what a namespace bump
 * compares versions of, so one tenant's product 1 at v5 never makes another tenant's product 1
 * at v3 look like an older replay. Always contains "|" (which no tenant, entity type or id may
 * hold), so namespace records of the former format ("product:1") never match a new identity:
 * they only linger until their TTL. join(): one flat string to hash, not a rope (see
 * eventIdentity in dedupe.ts).
 */
export function entityIdentity(e: Pick<EntityUpdated, 'tenant' | 'entityType' | 'entityId'>): string {
  return [e.tenant ?? '', e.entityType, e.entityId].join('|');
}

export function coalesce(events: DecodedEvent[]): EntityChange[] {
  const byEntity = new Map<string, EntityChange>();
  for (const decoded of events) {
    const { event } = decoded;
    const id = entityIdentity(event);
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
