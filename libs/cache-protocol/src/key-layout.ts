// Where everything the protocol stores lives. A cache key K keeps its value, version floor and
// lease in K itself (lua/includes/keyState.lua). Tags and namespaces have companion keys that
// share their Redis Cluster slot: the tag's own hash tag when it has one (`~e:` + T keeps it the
// first tag), else `{T}` (`~e{T}`). The two forms differ right after the type letter (`:` or
// `{`), so no two names ever share a companion. `~` is reserved: no user key may start with it.
// Earlier versions kept K's floor and lease in companions of K (`~t`, `~l`) the same way; the
// read side still honours a floor left in `~t` during a rollout (legacyTombstoneKey).
import { CacheProtocolError } from './errors';

export const DEFAULT_MAX_KEY_BYTES = 512;
export const RESERVED_PREFIX = '~';

const WHITESPACE = /\s/;

/** Whitespace or an ASCII control character (U+0000..U+001F, U+007F). */
function hasBadCharacter(key: string): boolean {
  if (WHITESPACE.test(key)) return true;
  for (let i = 0; i < key.length; i++) {
    const code = key.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

function hasHashTag(key: string): boolean {
  const open = key.indexOf('{');
  if (open < 0) return false;
  return key.indexOf('}', open + 1) > open + 1;
}

/** Why `key` cannot be used (or undefined when it can). Cheap enough for the hot path. */
export function keyProblem(key: string, maxKeyBytes = DEFAULT_MAX_KEY_BYTES, what = 'key'): CacheProtocolError | undefined {
  if (typeof key !== 'string' || key.length === 0) return new CacheProtocolError('KEY_EMPTY', `${what} is empty`);
  // a UTF-16 unit is at most 3 UTF-8 bytes: only a key that could be too long is measured
  if (key.length > maxKeyBytes || (key.length * 3 > maxKeyBytes && Buffer.byteLength(key, 'utf8') > maxKeyBytes)) {
    return new CacheProtocolError(
      'KEY_TOO_LONG',
      `${what} "${key.slice(0, 40)}..." is longer than ${maxKeyBytes} bytes (option maxKeyBytes)`,
    );
  }
  if (hasBadCharacter(key))
    return new CacheProtocolError('KEY_BAD_CHARACTER', `${what} ${JSON.stringify(key)} contains whitespace or a control character`);
  if (key.startsWith(RESERVED_PREFIX))
    return new CacheProtocolError(
      'KEY_RESERVED_PREFIX',
      `${what} "${key}" starts with "${RESERVED_PREFIX}", reserved for the protocol's companion keys`,
    );
  if ((key.includes('{') || key.includes('}')) && !hasHashTag(key)) {
    return new CacheProtocolError(
      'KEY_BAD_HASH_TAG',
      `${what} "${key}" has "{" or "}" that do not form a non-empty hash tag like "{tenant}"; companions could not share its cluster slot`,
    );
  }
  return undefined;
}

/** Throws a CacheProtocolError (KEY_*) when `key` cannot be used. */
export function validateKey(key: string, maxKeyBytes = DEFAULT_MAX_KEY_BYTES, what = 'key'): void {
  const problem = keyProblem(key, maxKeyBytes, what);
  if (problem) throw problem;
}

/** The companion `type` of `key` (type: letters and digits only), in `key`'s slot. */
export function companionKey(type: string, key: string): string {
  return hasHashTag(key) ? `~${type}:${key}` : `~${type}{${key}}`;
}

/** Where an earlier version (three keys per cache key) kept K's version floor: same slot as K. */
export function legacyTombstoneKey(key: string): string {
  return companionKey('t', key);
}

/** Where an earlier version kept K's lease (only tests and tools look at it now). */
export function legacyLeaseKey(key: string): string {
  return companionKey('l', key);
}

/** Tag state hash: e = current epoch, c = epochs whose pending sets are scanned through. */
export function tagStateKey(tag: string): string {
  return companionKey('e', tag);
}

/** The set fills and warms join while the tag's epoch stays the same. */
export function tagMembersKey(tag: string): string {
  return companionKey('m', tag);
}

/** The member set of a closed epoch, scanned by invalidateTags and then deleted. */
export function tagPendingKey(tag: string, epoch: number): string {
  return companionKey(`m${epoch}`, tag);
}

/** Namespace generation counter (INCR = invalidate everything under the prefix). */
export function namespaceKey(namespace: string): string {
  return companionKey('n', namespace);
}

/** The per-entity version record of namespace N (same slot as its generation counter): who bumped N at which version. */
export function namespaceVersionsKey(namespace: string): string {
  return companionKey('nv', namespace);
}
