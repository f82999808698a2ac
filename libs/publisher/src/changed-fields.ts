// changedFields: which top-level fields a change touched. Consumers use it to skip work
// (e.g. a stock change need not invalidate a price listing), so it must never miss a field.
import { isDeepStrictEqual } from 'node:util';

export type EntityState = Record<string, unknown>;

export interface DiffOptions {
  /** Bookkeeping fields that change on every write (version, updatedAt) and say nothing about the change. */
  ignore?: readonly string[];
}

/**
 * Top-level fields whose values differ between `before` and `after` (deep comparison), sorted.
 * A field present on one side only counts as changed; a missing side (create or delete) means every
 * field of the other side changed. A field set to `undefined` is the same as an absent one, as in JSON.
 */
export function diffChangedFields(
  before: EntityState | null | undefined,
  after: EntityState | null | undefined,
  options: DiffOptions = {},
): string[] {
  const ignore = new Set(options.ignore ?? []);
  const fields = new Set<string>([...Object.keys(before ?? {}), ...Object.keys(after ?? {})]);
  const changed: string[] = [];
  for (const field of fields) {
    if (ignore.has(field)) continue;
    if (!isDeepStrictEqual(before?.[field], after?.[field])) changed.push(field);
  }
  return changed.sort();
}
