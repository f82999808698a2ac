// What a key stores, as the read side sees it. Format 4 (written by this version) keeps the
// key's whole protocol state in the key itself (lua/includes/keyState.lua):
//   `4|<floor>|<floorUntil>|<leaseUntil>|<token>|` (78 bytes, fixed widths), then, with a value,
//   `<version>|<hardUntil>|<writtenAtMs>|<freshForMs>|<namespaceGen>|<loadMs>|<tag epochs>\n<payload>`
// Formats 1-3 were written by earlier versions with the floor and lease in companion keys, and
// are still read (a rollout meets them until they expire):
//   1 `1|<version>|<writtenAtMs>|<freshForMs>|<namespaceGen>|<payload>`
//   2 `2|<version>|<writtenAtMs>|<freshForMs>|<namespaceGen>|<tag epochs>\n<payload>`
//   3 `3|<version>|<writtenAtMs>|<freshForMs>|<namespaceGen>|<loadMs>|<tag epochs>\n<payload>`
// <tag epochs> is `<tag state key> <epoch>` pairs joined by spaces (no key or epoch holds
// whitespace), the epoch each tag had when the value was loaded or warmed: a reader serves the
// value only while every tag still has that epoch (see leaseGet-2.lua and README "Tags").
// Decimal heads before the payload, untouched (no JSON re-escaping), so Lua reads versions
// from the first bytes (GETRANGE) and the client splits them with a few indexOf calls.
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
  /** Format 3 and 4 when measured: how long the loader took (ms), for early refresh (XFetch's delta). */
  loadMs?: number;
  /** Format 4: Redis server time (ms) when the value stops being served (its hard TTL). */
  hardUntil?: number;
}

/** Bytes of the format-4 state before a value (lua/includes/keyState.lua STATE_LEN). */
export const STATE_BYTES = 78;

// The head that identifies a decoded value as stored (format 4: version, hard TTL and write
// time; earlier formats: their whole header), kept beside the object rather than in it.
const storedHeads = new WeakMap<Envelope, string>();

/** What leaseGet-2 compares to drop exactly this stored value (the cluster's tag check). */
export function storedHeadOf(e: Envelope): string {
  return storedHeads.get(e) ?? envelopeHeader(e);
}

/** A tag's state key (tagStateKey(tag)) and the epoch recorded in a value. */
export interface TagStamp {
  stateKey: string;
  epoch: string;
}

/** The tag epochs section of a value ('' when untagged). */
export function tagStampsText(tags: readonly TagStamp[] | undefined): string {
  if (!tags || tags.length === 0) return '';
  return tags.map((t) => `${t.stateKey} ${t.epoch}`).join(' ');
}

export function encodeEnvelope(e: Envelope): string {
  return envelopeHeader(e) + e.payload;
}

/** Everything before the payload of an earlier-format value (formats 1-3; 2 and 3: through the newline). Tests and tools only. */
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

function badEnvelope(what: string, raw: string): CacheProtocolError {
  return new CacheProtocolError('ENVELOPE_INVALID', `${what}: ${JSON.stringify(raw.slice(0, 60))}`);
}

/** The value of a format-4 key (undefined when the key holds only a floor or a lease). */
function decodeStateValue(raw: string): Envelope | undefined {
  if (raw.length === STATE_BYTES) return undefined;
  const v = STATE_BYTES;
  const a = raw.indexOf('|', v);
  const b = a < 0 ? -1 : raw.indexOf('|', a + 1);
  const c = b < 0 ? -1 : raw.indexOf('|', b + 1);
  const d = c < 0 ? -1 : raw.indexOf('|', c + 1);
  const e = d < 0 ? -1 : raw.indexOf('|', d + 1);
  const f = e < 0 ? -1 : raw.indexOf('|', e + 1);
  const end = f < 0 ? -1 : raw.indexOf('\n', f + 1);
  if (end < 0) throw badEnvelope('truncated format-4 value', raw);
  const envelope: Envelope = {
    version: field(raw, v, a),
    writtenAt: field(raw, b + 1, c),
    freshForMs: field(raw, c + 1, d),
    namespaceGeneration: field(raw, d + 1, e),
    payload: raw.slice(end + 1),
    hardUntil: field(raw, a + 1, b),
  };
  if (f > e + 1) envelope.loadMs = field(raw, e + 1, f);
  if (end > f + 1) envelope.tags = tagStamps(raw.slice(f + 1, end), raw);
  storedHeads.set(envelope, raw.slice(v, c + 1));
  return envelope;
}

function tagStamps(text: string, raw: string): TagStamp[] {
  const words = text.split(' ');
  if (words.length < 2 || words.length % 2 !== 0 || words.some((w) => w === '')) throw badEnvelope('malformed tag epochs', raw);
  const tags: TagStamp[] = [];
  for (let i = 0; i < words.length; i += 2) tags.push({ stateKey: words[i], epoch: words[i + 1] });
  return tags;
}

/** The format-4 state stored with a key (floor and lease; times are Redis server milliseconds). */
export interface KeyState {
  floor: number;
  floorUntil: number;
  leaseUntil: number;
  /** '' = no lease. */
  token: string;
  entry?: Envelope;
}

/** A format-4 key's state, or undefined when `raw` is in an earlier format (a value alone). */
export function decodeKeyState(raw: string): KeyState | undefined {
  if (!raw.startsWith('4|')) return undefined;
  if (raw.length < STATE_BYTES || raw.charCodeAt(STATE_BYTES - 1) !== 124 /* '|' */) throw badEnvelope('truncated format-4 state', raw);
  return {
    floor: field(raw, 2, 18),
    floorUntil: field(raw, 19, 35),
    leaseUntil: field(raw, 36, 52),
    token: raw.slice(53, 77).replace(/\.+$/, ''),
    entry: decodeStateValue(raw),
  };
}

/**
 * The value stored in `raw` (leaseGet-2's reply on a hit): format 4's value, or a value of an
 * earlier format. Throws ENVELOPE_INVALID for anything else, or a format-4 key without a value.
 */
export function decodeEnvelope(raw: string): Envelope {
  if (raw.charCodeAt(0) === 52 /* '4' */ && raw.charCodeAt(1) === 124) {
    const entry = decodeKeyState(raw)?.entry;
    if (!entry) throw badEnvelope('a format-4 key without a value', raw);
    return entry;
  }
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
  if (end < 0) throw badEnvelope('format-2 envelope without tag epochs', raw);
  envelope.tags = tagStamps(raw.slice(tagsFrom, end), raw);
  envelope.payload = raw.slice(end + 1);
  return envelope;
}

/** Header bytes the envelope adds to a payload (for sizing and the benchmark). */
export function envelopeOverheadBytes(e: Omit<Envelope, 'payload'>): number {
  return Buffer.byteLength(envelopeHeader(e), 'utf8');
}

const pad16 = (n: number): string => String(n).padStart(16, '0');

/** A format-4 key as lua/includes/keyState.lua writes it (tests and tools; the scripts write the real ones). */
export function encodeKeyState(state: KeyState): string {
  const head = `4|${pad16(state.floor)}|${pad16(state.floorUntil)}|${pad16(state.leaseUntil)}|${state.token.padEnd(24, '.')}|`;
  const e = state.entry;
  if (!e) return head;
  return (
    `${head}${pad16(e.version)}|${pad16(e.hardUntil ?? 0)}|${e.writtenAt}|${e.freshForMs}|${e.namespaceGeneration}|` +
    `${e.loadMs ?? ''}|${tagStampsText(e.tags)}\n${e.payload}`
  );
}
