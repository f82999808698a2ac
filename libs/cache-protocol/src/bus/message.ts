// The invalidation bus: what every cache-client instance hears so it can drop L1 entries.
// One Redis Stream (default key `~bus{cache}`), each entry one field `m` = JSON of a BusMessage.
// The format is versioned (`v`); a message this library cannot read is counted and ignored.
//
//   {"v":1,"k":"inv","s":"invalidator-7f3a","at":1764000000123,
//    "keys":[["product:42",7,"i"],["page:home",0,"w"]],"tags":["category:5"],"ns":[["catalog:",3]]}
//   {"v":1,"k":"hb","s":"invalidator-7f3a","at":1764000000456,"age":12}
//   {"v":1,"k":"reset","s":"invalidator-7f3a","at":1764000000789}
//   {"v":1,"k":"bye","s":"invalidator-7f3a","at":1764000000999}
//
// keys: [key, version, op]; op "i" = invalidated (deleted, tombstoned, purged: drop any L1 copy),
// "w" = a value of `version` was written (warm or fill: drop L1 copies older than it; version 0
// = aggregate, always drop). tags: tag names invalidated. ns: [namespace prefix, generation]
// after a bump. at: the publisher's clock (ms) when it published, or for a heartbeat the start
// of its oldest announce still in flight (everything announced before `at` is in the stream
// before this heartbeat). age (heartbeats, optional): the publisher's clock at sending minus
// `at`, a duration, so a reader can place `at` on Redis's clock (the stream id) whatever the
// publisher's clock says. reset: an announce of this publisher was lost: drop all of L1. bye:
// the publisher stopped cleanly, every announce of it is in the stream before this message, and
// it sends no more heartbeats (readers stop waiting for them). Readers older than `bye` count it
// as malformed and ignore it. sig (heartbeats and byes, optional): an Ed25519 signature
// (signing.ts); readers given the publishers' public key ignore heartbeats and byes without a
// valid one.
import { validateKey } from '../key-layout';

export const BUS_FORMAT = 1;
export const DEFAULT_BUS_STREAM_KEY = '~bus{cache}';

export type BusKeyOp = 'i' | 'w';

export interface BusChange {
  keys?: Array<[key: string, version: number, op: BusKeyOp]>;
  tags?: string[];
  namespaces?: Array<[prefix: string, generation: number]>;
}

export type BusMessage =
  | ({ kind: 'inv'; source: string; at: number } & Required<BusChange>)
  | { kind: 'hb'; source: string; at: number; age?: number; sig?: string }
  | { kind: 'reset'; source: string; at: number }
  | { kind: 'bye'; source: string; at: number; sig?: string };

export class BusMessageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BusMessageError';
  }
}

export function encodeBusMessage(m: BusMessage): string {
  if (m.kind === 'inv')
    return JSON.stringify({ v: BUS_FORMAT, k: 'inv', s: m.source, at: m.at, keys: m.keys, tags: m.tags, ns: m.namespaces });
  if (m.kind === 'hb') return JSON.stringify({ v: BUS_FORMAT, k: 'hb', s: m.source, at: m.at, age: m.age, sig: m.sig });
  if (m.kind === 'bye') return JSON.stringify({ v: BUS_FORMAT, k: 'bye', s: m.source, at: m.at, sig: m.sig });
  return JSON.stringify({ v: BUS_FORMAT, k: m.kind, s: m.source, at: m.at });
}

const isVersion = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isName = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 1024;

/** Strict: anything unexpected is a BusMessageError (the subscriber counts and skips it). */
export function decodeBusMessage(raw: unknown): BusMessage {
  if (typeof raw !== 'string') throw new BusMessageError('bus entry without field m');
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(raw) as Record<string, unknown>;
  } catch {
    throw new BusMessageError(`bus message is not JSON: ${raw.slice(0, 60)}`);
  }
  if (!o || typeof o !== 'object' || Array.isArray(o)) throw new BusMessageError('bus message is not an object');
  if (o.v !== BUS_FORMAT) throw new BusMessageError(`bus message format ${String(o.v)} unknown (this library reads ${BUS_FORMAT})`);
  if (!isName(o.s) || !isVersion(o.at)) throw new BusMessageError('bus message without source or time');
  const source = o.s;
  const at = o.at;
  if (o.sig !== undefined && !(typeof o.sig === 'string' && o.sig.length <= 256))
    throw new BusMessageError('bus message sig must be a string (base64)');
  const sig = o.sig;
  if (o.k === 'hb') {
    if (o.age !== undefined && !isVersion(o.age)) throw new BusMessageError('heartbeat age must be an integer >= 0');
    const hb: BusMessage = { kind: 'hb', source, at };
    if (o.age !== undefined) hb.age = o.age;
    if (sig !== undefined) hb.sig = sig;
    return hb;
  }
  if (o.k === 'bye') return sig !== undefined ? { kind: 'bye', source, at, sig } : { kind: 'bye', source, at };
  if (o.k === 'reset') return { kind: 'reset', source, at };
  if (o.k !== 'inv') throw new BusMessageError(`bus message kind ${String(o.k)} unknown`);
  const keys = o.keys ?? [];
  const tags = o.tags ?? [];
  const ns = o.ns ?? [];
  if (!Array.isArray(keys) || !Array.isArray(tags) || !Array.isArray(ns))
    throw new BusMessageError('bus message keys/tags/ns must be arrays');
  for (const k of keys) {
    if (!Array.isArray(k) || k.length !== 3 || !isName(k[0]) || !isVersion(k[1]) || (k[2] !== 'i' && k[2] !== 'w'))
      throw new BusMessageError(`bad key entry ${JSON.stringify(k).slice(0, 80)}`);
  }
  for (const t of tags) if (!isName(t)) throw new BusMessageError(`bad tag ${JSON.stringify(t).slice(0, 80)}`);
  for (const n of ns) {
    if (!Array.isArray(n) || n.length !== 2 || !isName(n[0]) || !isVersion(n[1]))
      throw new BusMessageError(`bad namespace entry ${JSON.stringify(n).slice(0, 80)}`);
  }
  return {
    kind: 'inv',
    source,
    at,
    keys: keys as Array<[string, number, BusKeyOp]>,
    tags: tags as string[],
    namespaces: ns as Array<[string, number]>,
  };
}

export function validateStreamKey(key: string): void {
  // The stream key lives in the reserved `~` space by default; a user-chosen one must be a sane Redis key.
  if (key.startsWith('~')) return;
  validateKey(key);
}

/** ms part of a stream id ("1764000000123-0"). */
export function streamIdMs(id: string): number {
  return Number(id.slice(0, id.indexOf('-')));
}
