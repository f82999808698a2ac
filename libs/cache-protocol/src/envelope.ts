// The value envelope, format 1: `1|<version>|<writtenAtMs>|<freshForMs>|<namespaceGen>|<payload>`.
// A decimal header of ~25-35 bytes before the payload, untouched (no JSON re-escaping), so
// Lua can read the version from the first bytes (GETRANGE) and the client splits it with
// five indexOf calls. Written by the Lua scripts (with Redis' clock); read here.
import { CacheProtocolError } from './errors';

export interface Envelope {
  /** Entity version; 0 = unversioned (aggregate keys, guarded by leases only). */
  version: number;
  /** Redis server time (ms) when the value was written. */
  writtenAt: number;
  /** The value is fresh for this long after writtenAt, then stale-but-servable until its TTL. 0 = never stale. */
  freshForMs: number;
  /** Namespace generation the value was loaded under (see bumpNamespace). */
  namespaceGeneration: number;
  /** The cached value as the caller serialised it. */
  payload: string;
}

export const ENVELOPE_FORMAT = '1';

export function encodeEnvelope(e: Envelope): string {
  return `1|${e.version}|${e.writtenAt}|${e.freshForMs}|${e.namespaceGeneration}|${e.payload}`;
}

function field(raw: string, from: number, to: number): number {
  const n = Number(raw.slice(from, to));
  if (to <= from || !Number.isSafeInteger(n) || n < 0) throw new CacheProtocolError('ENVELOPE_INVALID', `not a cache envelope: ${JSON.stringify(raw.slice(0, 60))}`);
  return n;
}

export function decodeEnvelope(raw: string): Envelope {
  if (raw.charCodeAt(0) !== 49 /* '1' */ || raw.charCodeAt(1) !== 124 /* '|' */) {
    throw new CacheProtocolError('ENVELOPE_INVALID', `not a cache envelope (format 1): ${JSON.stringify(raw.slice(0, 60))}`);
  }
  const a = raw.indexOf('|', 2);
  const b = a < 0 ? -1 : raw.indexOf('|', a + 1);
  const c = b < 0 ? -1 : raw.indexOf('|', b + 1);
  const d = c < 0 ? -1 : raw.indexOf('|', c + 1);
  if (d < 0) throw new CacheProtocolError('ENVELOPE_INVALID', `truncated cache envelope: ${JSON.stringify(raw.slice(0, 60))}`);
  return {
    version: field(raw, 2, a),
    writtenAt: field(raw, a + 1, b),
    freshForMs: field(raw, b + 1, c),
    namespaceGeneration: field(raw, c + 1, d),
    payload: raw.slice(d + 1),
  };
}

/** Header bytes the envelope adds to a payload (for sizing and the benchmark). */
export function envelopeOverheadBytes(e: Omit<Envelope, 'payload'>): number {
  return encodeEnvelope({ ...e, payload: '' }).length;
}
