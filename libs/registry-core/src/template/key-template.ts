// Key, tag and loader-URL templates: parsed and checked once when a mapping is compiled, then
// rendered per event by a closure (string concatenation only; no regex is built per event).
//
// Grammar: literal text and placeholders `{field}`, field one of entityId, entityType, tenant,
// version, after.<path>, before.<path>. Keys and tags are ":"-separated segments; no segment may
// be empty, literals may not contain glob characters, braces or whitespace.
//
// Missing fields: when a referenced field is absent or null in the event (a create has no
// `before`, a delete has no `after`, an event without tenant), render() returns undefined and
// the template contributes nothing for that event. A present but unsafe value throws.
import type { EntityUpdated } from '@app/contracts';
import { RegistryError } from '../errors';
import { EMPTY_ALLOW_LIST, HostAllowList, hostProblem } from '../url/target-url';
import { FieldPath, parseFieldPath } from './event-fields';
import { KEY_SEGMENT_SEPARATOR, safeSegment } from './key-segment';

/** namespace: a key prefix (may end with ":"); loaderUrl/purgeUrl: URLs whose host no value can change. */
export type TemplateKind = 'key' | 'tag' | 'loaderUrl' | 'purgeUrl' | 'namespace';

function isUrlKind(kind: TemplateKind): boolean {
  return kind === 'loaderUrl' || kind === 'purgeUrl';
}

/**
 * URL templates (loader and purge URLs): the scheme, host and port must be literal text ending
 * with "/", "?" or "#" before the first placeholder, so a value can only ever fill path or query
 * segments (values are URL-encoded: "/", "?", "#", "@", ":" cannot pass; "." and ".." alone are
 * refused at render time).
 */
export const URL_AUTHORITY = /^https?:\/\/[^/?#{}@]+[/?#]/;

/**
 * The host of a URL template, from its literal scheme and authority (the text before the first
 * placeholder), as the WHATWG parser reads it (lower case, IPv4 in any notation normalised,
 * IPv6 without brackets); or why it has none (not a URL, userinfo).
 */
export function urlTemplateHost(source: string): { host: string } | { problem: string } {
  const brace = source.indexOf('{');
  const literal = brace < 0 ? source : source.slice(0, brace);
  let url: URL;
  try {
    url = new URL(literal);
  } catch {
    return { problem: `"${literal}" is not a valid URL` };
  }
  if (url.username !== '' || url.password !== '') return { problem: 'a URL must not carry userinfo (user:password@)' };
  const host = url.hostname.toLowerCase();
  return { host: host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host };
}

/**
 * Why the literal host of a URL template may not be called (target-url.ts rules: empty or dot
 * hosts, userinfo, localhost, internal and metadata addresses), unless `allow` lists it.
 */
export function urlTemplateHostProblem(source: string, allow: HostAllowList = EMPTY_ALLOW_LIST): string | undefined {
  const parsed = urlTemplateHost(source);
  if ('problem' in parsed) return parsed.problem;
  return hostProblem(parsed.host, allow);
}

export interface TemplateLimits {
  /** Longest template source accepted. Default 256. */
  maxTemplateLength: number;
  /** Longest substituted value. Default 128. */
  maxValueLength: number;
  /** Longest rendered key/tag/URL. Default 512. */
  maxKeyLength: number;
}

export const DEFAULT_TEMPLATE_LIMITS: TemplateLimits = { maxTemplateLength: 256, maxValueLength: 128, maxKeyLength: 512 };

export interface CompiledTemplate {
  readonly source: string;
  readonly kind: TemplateKind;
  /** Referenced fields in order of appearance, e.g. ["after.categoryId"]. */
  readonly fields: readonly string[];
  /** The rendered text, or undefined when a referenced field is absent. Throws TEMPLATE_WIDENS_KEY / TEMPLATE_VALUE_NOT_SCALAR. */
  render(event: EntityUpdated): string | undefined;
  /** For explain: the first referenced field the event lacks (why render() gave nothing). */
  firstMissingField(event: EntityUpdated): string | undefined;
}

// Literal characters of keys and tags: no glob (* ? [ ] \), no braces (cluster hash tags come
// only from the caller's convention), no whitespace, no quotes.
const KEY_LITERAL = /^[A-Za-z0-9_.:\-/@#=+%~|,]*$/;
// Loader URLs are not keys: allow the URL characters, still no whitespace, braces or quotes.
const URL_LITERAL = /^[A-Za-z0-9_.:\-/@#=+%~|,?&;!$'()*[\]]*$/;

type Part = string | FieldPath;

function syntax(template: string, message: string): RegistryError {
  return new RegistryError('TEMPLATE_SYNTAX', `template "${template}": ${message}`);
}

function parse(source: string, kind: TemplateKind): Part[] {
  const parts: Part[] = [];
  let literal = '';
  let i = 0;
  while (i < source.length) {
    const ch = source[i];
    if (ch === '{') {
      const close = source.indexOf('}', i + 1);
      const nextOpen = source.indexOf('{', i + 1);
      if (close < 0 || (nextOpen >= 0 && nextOpen < close)) throw syntax(source, `unclosed "{" at position ${i}`);
      if (literal) parts.push(literal);
      literal = '';
      parts.push(parseFieldPath(source.slice(i + 1, close), source));
      i = close + 1;
      continue;
    }
    if (ch === '}') throw syntax(source, `"}" without "{" at position ${i}`);
    literal += ch;
    i += 1;
  }
  if (literal) parts.push(literal);
  const allowed = isUrlKind(kind) ? URL_LITERAL : KEY_LITERAL;
  for (const part of parts) {
    if (typeof part === 'string' && !allowed.test(part)) {
      const bad = [...part].find((c) => !allowed.test(c));
      throw syntax(source, `literal character ${JSON.stringify(bad)} is not allowed in a ${isUrlKind(kind) ? 'URL' : kind}`);
    }
  }
  return parts;
}

/** Keys and tags starting with "~" are the cache protocol's companions (tag and namespace records; formerly tombstones, leases). */
function checkReservedPrefix(source: string, parts: Part[]): void {
  // A placeholder first: the substituted value is checked by the invalidator before apply (dead-lettered if refused).
  if (typeof parts[0] === 'string' && parts[0].startsWith('~')) {
    throw syntax(source, 'a key or tag must not start with "~" (reserved for the cache protocol\'s companion keys)');
  }
}

function checkSegments(source: string, parts: Part[], kind: TemplateKind): void {
  // Placeholders always render non-empty text, so only literal structure can make an empty segment.
  let shape = parts.map((p) => (typeof p === 'string' ? p : 'x')).join('');
  // A namespace is a key prefix: it may end with the separator ("pricing:{tenant}:").
  if (kind === 'namespace' && shape.endsWith(KEY_SEGMENT_SEPARATOR)) shape = shape.slice(0, -1);
  if (shape.split(KEY_SEGMENT_SEPARATOR).some((segment) => segment.length === 0)) {
    throw syntax(
      source,
      `empty segment (a key must not start or end with "${KEY_SEGMENT_SEPARATOR}" or contain "${KEY_SEGMENT_SEPARATOR}${KEY_SEGMENT_SEPARATOR}")`,
    );
  }
}

/** A path/query value: URL-encoded; "." and ".." alone would move the path (dot segments) and are refused. */
function encodeUrlValue(text: string, source: string, field: string): string {
  if (text === '.' || text === '..') {
    throw new RegistryError(
      'TEMPLATE_WIDENS_KEY',
      `template "${source}": ${field} = ${JSON.stringify(text)} is a dot segment, which would move the URL's path`,
      field,
    );
  }
  return encodeURIComponent(text);
}

/**
 * Parses and checks a template once. Throws RegistryError TEMPLATE_SYNTAX / TEMPLATE_UNKNOWN_FIELD
 * / TEMPLATE_UNSAFE_URL. With `allowedHosts` (the operator's LOADER_ALLOWED_HOSTS or
 * PURGE_ALLOWED_HOSTS), a URL template's literal host must also pass urlTemplateHostProblem.
 */
export function compileTemplate(
  source: string,
  kind: TemplateKind = 'key',
  limits: TemplateLimits = DEFAULT_TEMPLATE_LIMITS,
  allowedHosts?: HostAllowList,
): CompiledTemplate {
  if (typeof source !== 'string' || source.length === 0) throw new RegistryError('TEMPLATE_SYNTAX', 'template must be a non-empty string');
  if (source.length > limits.maxTemplateLength) {
    throw syntax(source.slice(0, 40) + '...', `longer than ${limits.maxTemplateLength} characters`);
  }
  const parts = parse(source, kind);
  if (!isUrlKind(kind)) checkReservedPrefix(source, parts);
  if (isUrlKind(kind)) {
    if (!/^https?:\/\/[^/]/.test(source)) throw syntax(source, 'a URL template must start with http:// or https://');
    const hasField = parts.some((p) => typeof p !== 'string');
    const literal = !hasField ? `${source}/` : typeof parts[0] === 'string' ? parts[0] : '';
    if (!URL_AUTHORITY.test(literal)) {
      throw new RegistryError(
        'TEMPLATE_UNSAFE_URL',
        `template "${source}": scheme, host and port must be literal and end with "/", "?" or "#" before the first placeholder (a value may only fill path or query segments, never change the host)`,
      );
    }
    if (allowedHosts) {
      const problem = urlTemplateHostProblem(source, allowedHosts);
      if (problem) throw new RegistryError('TEMPLATE_UNSAFE_URL', `template "${source}": ${problem}`);
    }
  } else {
    checkSegments(source, parts, kind);
  }
  const fields = parts.filter((p): p is FieldPath => typeof p !== 'string');
  const { maxValueLength, maxKeyLength } = limits;
  const encode = isUrlKind(kind) ? encodeUrlValue : (text: string) => text;
  const substitute = (field: FieldPath, value: unknown) =>
    encode(safeSegment(value, source, field.path, maxValueLength), source, field.path);
  const capLength = (text: string) => {
    if (text.length > maxKeyLength) {
      throw new RegistryError(
        'TEMPLATE_WIDENS_KEY',
        `template "${source}": rendered ${kind} is ${text.length} characters long (cap ${maxKeyLength})`,
      );
    }
    return text;
  };

  let render: (event: EntityUpdated) => string | undefined;
  if (fields.length === 0) {
    // no fields: every part is literal text
    const constant = parts.filter((p): p is string => typeof p === 'string').join('');
    render = () => constant;
  } else if (fields.length === 1 && parts.length <= 3) {
    // The common shape "prefix{field}suffix": one read, one concatenation.
    const index = parts.findIndex((p) => typeof p !== 'string');
    const prefix = index > 0 ? (parts[0] as string) : '';
    const suffix = index < parts.length - 1 ? (parts[parts.length - 1] as string) : '';
    const [field] = fields;
    render = (event) => {
      const value = field.read(event);
      if (value === undefined || value === null) return undefined;
      return capLength(prefix + substitute(field, value) + suffix);
    };
  } else {
    render = (event) => {
      let out = '';
      for (const part of parts) {
        if (typeof part === 'string') {
          out += part;
        } else {
          const value = part.read(event);
          if (value === undefined || value === null) return undefined;
          out += substitute(part, value);
        }
      }
      return capLength(out);
    };
  }

  return {
    source,
    kind,
    fields: fields.map((f) => f.path),
    render,
    firstMissingField(event) {
      const missing = fields.find((f) => {
        const value = f.read(event);
        return value === undefined || value === null;
      });
      return missing?.path;
    },
  };
}
