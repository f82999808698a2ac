// Every error this library throws, each with a stable code (documented in the README).
// Bad input is refused at the edge, before anything reaches Redis.

export type CacheProtocolErrorCode =
  /** The key is empty. */
  | 'KEY_EMPTY'
  /** The key is longer than `maxKeyBytes` (UTF-8 bytes). */
  | 'KEY_TOO_LONG'
  /** The key has whitespace or control characters. */
  | 'KEY_BAD_CHARACTER'
  /** `{` or `}` that do not form a Redis Cluster hash tag: companions (tag, namespace records, legacy `~t`) could not share the slot. */
  | 'KEY_BAD_HASH_TAG'
  /** The key starts with `~`, reserved for the protocol's own companion keys. */
  | 'KEY_RESERVED_PREFIX'
  /** A version that is not an integer in 0..Number.MAX_SAFE_INTEGER. */
  | 'VERSION_INVALID'
  /** A TTL that is not a positive integer number of milliseconds. */
  | 'TTL_INVALID'
  /** A value larger than `maxValueBytes`: refused, never truncated. */
  | 'VALUE_TOO_LARGE'
  /** A warm effect without a value. */
  | 'VALUE_MISSING'
  /** An action other than delete, tombstone, warm. */
  | 'ACTION_INVALID'
  /** The Redis client has `keyPrefix`: companions (legacy `~t` floors, tag and namespace records) would land in other slots. */
  | 'KEY_PREFIX_UNSUPPORTED'
  /** A stored value is not an envelope of a known format (1-4). */
  | 'ENVELOPE_INVALID'
  /** A lease token that does not fit the key's 24-byte lease field ([A-Za-z0-9_-], 1-24 characters). */
  | 'TOKEN_INVALID'
  /** Redis answered something the protocol does not know (a script/library version mismatch). */
  | 'UNEXPECTED_REPLY';

export class CacheProtocolError extends Error {
  constructor(
    readonly code: CacheProtocolErrorCode,
    message: string,
    /** True when calling again may succeed (nothing about the input is wrong). */
    readonly retriable = false,
    /** applyKeyEffects / invalidateTags: index of the offending input item. */
    readonly index?: number,
  ) {
    super(message);
    this.name = 'CacheProtocolError';
  }
}
