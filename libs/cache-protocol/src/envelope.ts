// The value envelope, format 1: `1|<version>|<writtenAtMs>|<freshForMs>|<namespaceGen>|<payload>`;
// format 2 for a value reached through tags: `2|<version>|<writtenAtMs>|<freshForMs>|<namespaceGen>|<tag epochs>\n<payload>`
// where <tag epochs> is `<tag state key> <epoch>` pairs joined by spaces (no key or epoch holds
// whitespace), the epoch each tag had when the value was loaded or warmed: a reader serves the
// value only while every tag still has that epoch (see leaseGet-3.lua and README "Tags").
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
  /** Format 2 and 3: the tags' state keys and the epochs they had when the value was written. */
  tags?: TagStamp[];
  /** Format 3 only: how long the loader took (ms), for early refresh (XFetch's delta). */
  loadMs?: number;
}

/** A tag's state key (tagStateKey(tag)) and the epoch recorded in a value. */
export interface TagStamp {
  stateKey: string;
  epoch: string;
}

/** The tag epochs section of a format-2 envelope ('' when there are none: format 1). */
export function tagStampsText(tags: readonly TagStamp[] | undefined): string {
  if (!tags || tags.length === 0) return '';
  return tags.map((t) => `${t.stateKey} ${t.epoch}`).join(' ');
}

export function encodeEnvelope(e: Envelope): string {
  return envelopeHeader(e) + e.payload;
}

/** Everything before the payload (format 2: through the newline). */
export function envelopeHeader(e: Omit<Envelope, 'payload'>): string {
  const tags = tagStampsText(e.tags);
  if (e.loadMs !== undefined) return `3|${e.version}|${e.writtenAt}|${e.freshForMs}|${e.namespaceGeneration}|${e.loadMs}|${tags}\n`;
  if (tags === '') return `1|${e.version}|${e.writtenAt}|${e.freshForMs}|${e.namespaceGeneration}|`;
  return `2|${e.version}|${e.writtenAt}|${e.freshForMs}|${e.namespaceGeneration}|${tags}\n`;
}

function field(raw: string, from: number, to: number): number {
  const n = Number(raw.slice(from, to));
  if (to <= from || !Number.isSafeInteger(n) || n < 0)
    throw new CacheProtocolError('ENVELOPE_INVALID', `not a cache envelope: ${JSON.stringify(raw.slice(0, 60))}`);
  return n;
}

export function decodeEnvelope(raw: string): Envelope {
  const format = raw.charCodeAt(0);
  if ((format !== 49 /* '1' */ && format !== 50 /* '2' */ && format !== 51) /* '3' */ || raw.charCodeAt(1) !== 124 /* '|' */) {
    throw new CacheProtocolError('ENVELOPE_INVALID', `not a cache envelope (format 1, 2 or 3): ${JSON.stringify(raw.slice(0, 60))}`);
  }
  const a = raw.indexOf('|', 2);
  const b = a < 0 ? -1 : raw.indexOf('|', a + 1);
  const c = b < 0 ? -1 : raw.indexOf('|', b + 1);
  const d = c < 0 ? -1 : raw.indexOf('|', c + 1);
  if (d < 0) throw new CacheProtocolError('ENVELOPE_INVALID', `truncated cache envelope: ${JSON.stringify(raw.slice(0, 60))}`);
  const envelope: Envelope = {
    version: field(raw, 2, a),
    writtenAt: field(raw, a + 1, b),
    freshForMs: field(raw, b + 1, c),
    namespaceGeneration: field(raw, c + 1, d),
    payload: raw.slice(d + 1),
  };
  if (format === 49) return envelope;
  let tagsFrom = d + 1;
  if (format === 51) {
    const e = raw.indexOf('|', d + 1);
    if (e < 0) throw new CacheProtocolError('ENVELOPE_INVALID', `truncated format-3 envelope: ${JSON.stringify(raw.slice(0, 60))}`);
    envelope.loadMs = field(raw, d + 1, e);
    tagsFrom = e + 1;
  }
  const end = raw.indexOf('\n', tagsFrom);
  if (format === 51 && end === tagsFrom) {
    envelope.payload = raw.slice(end + 1);
    return envelope;
  }
  const words = end < 0 ? [] : raw.slice(tagsFrom, end).split(' ');
  if (words.length < 2 || words.length % 2 !== 0 || words.some((w) => w === '')) {
    throw new CacheProtocolError('ENVELOPE_INVALID', `format-2 envelope without tag epochs: ${JSON.stringify(raw.slice(0, 60))}`);
  }
  const tags: TagStamp[] = [];
  for (let i = 0; i < words.length; i += 2) tags.push({ stateKey: words[i], epoch: words[i + 1] });
  envelope.tags = tags;
  envelope.payload = raw.slice(end + 1);
  return envelope;
}

/** Header bytes the envelope adds to a payload (for sizing and the benchmark). */
export function envelopeOverheadBytes(e: Omit<Envelope, 'payload'>): number {
  return Buffer.byteLength(envelopeHeader(e), 'utf8');
}
