// Turns one event value into the text substituted for a placeholder, or refuses it. This is the
// one place that guarantees a value can never widen a key (Redis glob: * ? [ ] \), move it to
// another cluster slot (hash tag braces), add a segment (":") or hide in invisible characters.
import { RegistryError } from '../errors';

/** ":" is the key segment separator: a value containing it would add segments to the key. */
export const KEY_SEGMENT_SEPARATOR = ':';

// Built once at load. \s covers ASCII and Unicode whitespace (incl. U+2028/9, NBSP, U+3000);
// \p{Cc} control chars (C0, DEL, C1); \p{Cf} invisible format chars (zero-width, bidi overrides,
// BOM) that make two keys look alike; \p{Cs} lone surrogates (become U+FFFD on the wire: collisions).
const UNSAFE_VALUE_CHAR = /[\s*?[\]{}\\:\p{Cc}\p{Cf}\p{Cs}]/u;

export function describeValue(value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
}

/** A scalar as text; undefined for objects/arrays (caller throws with context). */
export function scalarText(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
      return Number.isFinite(value) ? String(value) : undefined;
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return value.toString();
    default:
      return undefined;
  }
}

/**
 * Checks a substituted value. `value` is known to be neither undefined nor null (those mean
 * "field absent": the template yields nothing).
 */
export function safeSegment(value: unknown, template: string, field: string, maxValueLength: number): string {
  const text = scalarText(value);
  if (text === undefined) {
    throw new RegistryError(
      'TEMPLATE_VALUE_NOT_SCALAR',
      `template "${template}": ${field} is ${Array.isArray(value) ? 'an array' : typeof value}, only strings, numbers and booleans can be part of a key`,
      field,
    );
  }
  if (text.length === 0) {
    throw new RegistryError(
      'TEMPLATE_WIDENS_KEY',
      `template "${template}": ${field} is empty, which would leave an empty key segment`,
      field,
    );
  }
  if (text.length > maxValueLength) {
    throw new RegistryError(
      'TEMPLATE_WIDENS_KEY',
      `template "${template}": ${field} is ${text.length} characters long (cap ${maxValueLength})`,
      field,
    );
  }
  const bad = UNSAFE_VALUE_CHAR.exec(text);
  if (bad) {
    throw new RegistryError(
      'TEMPLATE_WIDENS_KEY',
      `template "${template}": ${field} = ${describeValue(text)} contains ${JSON.stringify(bad[0])} (glob, brace, separator, whitespace and control characters are refused so a value can never widen a key)`,
      field,
    );
  }
  return text;
}
