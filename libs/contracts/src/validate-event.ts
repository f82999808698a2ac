// Validation shared by the publisher (refuse before send) and the invalidator (dead-letter on receipt).
import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
import { EntityUpdatedEvent } from './entity-updated.event';

export interface EventViolation {
  /** Dotted path of the wrong field, e.g. "version". */
  field: string;
  message: string;
}

/** class-validator errors -> one { field, message } per constraint, nested fields dotted ("after.price"). */
export function fieldViolations(errors: ValidationError[], prefix = ''): EventViolation[] {
  return errors.flatMap((e) => {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...fieldViolations(e.children ?? [], field)];
  });
}

/** Returns the violations of `payload` against entity.updated v1 (empty when valid). */
export function validateEntityUpdated(payload: unknown): EventViolation[] {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    return [{ field: '(root)', message: 'payload must be a JSON object' }];
  }
  const p = payload as Record<string, unknown>;
  // class-transformer's @Type would coerce "3" to 3; a string version is a publisher bug, refuse it.
  if (p.version !== undefined && typeof p.version !== 'number') {
    return [{ field: 'version', message: 'version must be an integer number' }];
  }
  const instance = plainToInstance(EntityUpdatedEvent, p);
  return fieldViolations(validateSync(instance, { forbidUnknownValues: false }));
}
