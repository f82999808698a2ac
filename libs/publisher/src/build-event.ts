// Builds an entity.updated event from a change in the source of truth: the publisher's callers
// supply what only they know (ids, version, before/after); the rest is filled the same way everywhere.
import { randomUUID } from 'node:crypto';
import type { EntityUpdated } from '@app/contracts';
import { diffChangedFields, EntityState } from './changed-fields';

export interface EntityChange {
  entityType: string;
  entityId: string;
  /**
   * The entity's version AFTER this change, as stored in the source of truth (a row version or a
   * per-entity counter). It must grow with every change of the entity: the invalidator drops events
   * whose version is not newer than what it already applied.
   */
  version: number;
  tenant?: string;
  /** State before the change; omit for a create. */
  before?: EntityState | null;
  /** State after the change; omit for a delete. */
  after?: EntityState | null;
  /** Defaults to the diff of before/after (see `ignoreFields`). */
  changedFields?: string[];
  /** Fields left out of the computed diff because every write touches them. Default: version, updatedAt. */
  ignoreFields?: readonly string[];
  /** Defaults to a random UUID. Reuse the same id when re-publishing the same change. */
  eventId?: string;
  /** When the change happened in the source of truth; defaults to now. */
  occurredAt?: Date | string;
}

export const DEFAULT_IGNORED_FIELDS: readonly string[] = ['version', 'updatedAt'];

export function buildEntityUpdated(change: EntityChange, now: () => Date = () => new Date()): EntityUpdated {
  const before = change.before ?? undefined;
  const after = change.after ?? undefined;
  const occurredAt = change.occurredAt ?? now();
  const event: EntityUpdated = {
    eventId: change.eventId ?? randomUUID(),
    entityType: change.entityType,
    entityId: change.entityId,
    version: change.version,
    occurredAt: typeof occurredAt === 'string' ? occurredAt : occurredAt.toISOString(),
    changedFields: change.changedFields ?? diffChangedFields(before, after, { ignore: change.ignoreFields ?? DEFAULT_IGNORED_FIELDS }),
  };
  // Absent rather than undefined keys: the JSON on the wire stays minimal and validation sees no `undefined`.
  if (change.tenant !== undefined) event.tenant = change.tenant;
  if (before) event.before = before;
  if (after) event.after = after;
  return event;
}
