// What the scripts answer, as types. Lua returns small integer codes (cheap to return in
// bulk); this file alone maps them, and refuses codes it does not know.
import { Envelope, decodeEnvelope } from './envelope';
import type { EffectOutcome } from './effects';
import { CacheProtocolError } from './errors';

const EFFECT_OUTCOMES: readonly (EffectOutcome | undefined)[] = [
  undefined,
  'deleted',
  'tombstoned',
  'warmed',
  'skipped-older',
  'warm-degraded-oom',
];

/** Code of 'warm-degraded-oom' (set by the TypeScript side, never by a script). */
export const WARM_DEGRADED_OOM = 5;

export function effectOutcomeOf(code: unknown): EffectOutcome {
  const outcome = typeof code === 'number' ? EFFECT_OUTCOMES[code] : undefined;
  if (!outcome) throw new CacheProtocolError('UNEXPECTED_REPLY', `unknown effect outcome code ${String(code)}`);
  return outcome;
}

/** A lease on a key: the right to fill it, until an invalidation voids it or it expires. */
export interface Lease {
  key: string;
  token: string;
}

export type LeaseGetResult =
  /** A fresh value. With `lease` (early refresh: a value that recorded its load time), the caller refreshes it ahead of expiry. */
  | { kind: 'hit'; entry: Envelope; lease?: Lease }
  /** A value past its fresh time but within its grace: serve it. With `lease`, the caller refreshes it. */
  | { kind: 'stale'; entry: Envelope; lease?: Lease }
  /** Nothing servable; the caller holds the key's one lease and should load and fill. */
  | { kind: 'miss'; lease: Lease; tombstoneVersion: number }
  /** Nothing servable; another caller holds the lease: wait and ask again. */
  | { kind: 'wait'; tombstoneVersion: number };

export function leaseGetResultOf(reply: unknown, key: string, token: string): LeaseGetResult {
  if (!Array.isArray(reply) || reply.length !== 2 || typeof reply[1] !== 'string') {
    throw new CacheProtocolError('UNEXPECTED_REPLY', `unexpected leaseGet reply ${JSON.stringify(reply)}`);
  }
  const [code, data] = reply as [number, string];
  switch (code) {
    case 1:
      return { kind: 'hit', entry: decodeEnvelope(data) };
    case 2:
      return { kind: 'stale', entry: decodeEnvelope(data), lease: { key, token } };
    case 3:
      return { kind: 'stale', entry: decodeEnvelope(data) };
    case 4:
      return { kind: 'miss', lease: { key, token }, tombstoneVersion: Number(data) };
    case 5:
      return { kind: 'wait', tombstoneVersion: Number(data) };
    case 6:
      return { kind: 'hit', entry: decodeEnvelope(data), lease: { key, token } };
    default:
      throw new CacheProtocolError('UNEXPECTED_REPLY', `unknown leaseGet code ${String(code)}`);
  }
}

export type FillOutcome =
  /** The value landed. */
  | 'filled'
  /** The lease was voided by an invalidation, expired, or is held by someone else. */
  | 'lease-lost'
  /** A tombstone newer than the loaded version guards the key. */
  | 'older-than-tombstone'
  /** A newer value landed meanwhile (e.g. a warm rewrite). */
  | 'older-than-value'
  /** One of the value's tags was invalidated after its epoch was read. */
  | 'tag-invalidated'
  /** Redis is at maxmemory (noeviction) and refused the write; the lease was released. */
  | 'refused-oom';

const FILL_OUTCOMES: readonly (FillOutcome | undefined)[] = [undefined, 'filled', 'lease-lost', 'older-than-tombstone', 'older-than-value'];

export function fillOutcomeOf(code: unknown): FillOutcome {
  const outcome = typeof code === 'number' ? FILL_OUTCOMES[code] : undefined;
  if (!outcome) throw new CacheProtocolError('UNEXPECTED_REPLY', `unknown fill outcome code ${String(code)}`);
  return outcome;
}
