// The hot-path check of entity.updated v1: same rules as the class-validator DTO (a property
// test proves they agree), ~50x cheaper. On failure the caller asks validateEntityUpdated for
// the field-level reasons, so the slow path runs only for bad messages.
import isISO8601 from 'validator/lib/isISO8601';
import { SAFE_ID_PATTERN } from './entity-updated.event';

function isObject(v: unknown): boolean {
  return v != null && typeof v === 'object' && !Array.isArray(v);
}

function safeId(v: unknown, max: number): boolean {
  return typeof v === 'string' && v.length <= max && SAFE_ID_PATTERN.test(v);
}

export function fastValidateEntityUpdated(p: unknown): boolean {
  if (!isObject(p)) return false;
  const e = p as Record<string, unknown>;
  if (typeof e.eventId !== 'string' || e.eventId.length === 0 || e.eventId.length > 128) return false;
  if (!safeId(e.entityType, 64) || !safeId(e.entityId, 128)) return false;
  if (typeof e.version !== 'number' || !Number.isInteger(e.version) || e.version < 1) return false;
  if (e.tenant != null && !safeId(e.tenant, 64)) return false;
  if (typeof e.occurredAt !== 'string' || !isISO8601(e.occurredAt)) return false;
  if (e.before != null && !isObject(e.before)) return false;
  if (e.after != null && !isObject(e.after)) return false;
  if (e.changedFields != null) {
    const f = e.changedFields;
    if (!Array.isArray(f) || f.length > 256 || !f.every((x) => typeof x === 'string')) return false;
  }
  return true;
}
