// The in-process L1 in front of Redis. Bounded (entries and bytes, LRU), and never serves an
// entry longer than maxStalenessMs after it was last confirmed: by a Redis read (the time the
// read was sent) or by the bus (a heartbeat: every announcement published before it has been
// applied here). Bus messages drop the entries they name; a suspect bus drops everything.
// Reads racing an invalidation: a read captures `begin()` before asking Redis, and its result is
// not stored when an announcement touching its key, tags or namespace (or a drop of everything)
// was applied after that point.
import { LRUCache } from 'lru-cache';
import { tagStateKey } from '@app/cache-protocol';
import type { BusMessage } from '@app/cache-protocol/bus';

export interface L1Options {
  /** Most entries kept. Default 10000 (when maxBytes is not set either). */
  maxEntries?: number;
  /** Most bytes kept (key + payload as UTF-16 + ~100 bytes per entry). Default none. */
  maxBytes?: number;
  /** An entry is served at most this long after Redis or the bus last confirmed it. Required. */
  maxStalenessMs: number;
}

export interface L1Entry {
  payload: string;
  version: number;
  /** Tag state keys (~e{tag}) with the epochs recorded in the envelope. */
  tags: Array<{ stateKey: string; epoch: string }>;
  namespace?: string;
  generation: number;
  /** Local time (ms) of the Redis read that produced it (sent). */
  confirmedAt: number;
  /** Local time (ms) when the value stops being fresh (Redis' writtenAt + freshFor). */
  freshUntil: number;
}

interface Stored extends L1Entry {
  bytes: number;
}

export type L1DropReason = 'bus-key' | 'bus-tag' | 'bus-namespace' | 'suspect' | 'reset' | 'expired' | 'local';

export interface L1Events {
  dropped(reason: L1DropReason, n: number): void;
  evicted(n: number): void;
}

const MARKS = 50_000;

export class L1 {
  private readonly lru: LRUCache<string, Stored>;
  private readonly byTag = new Map<string, Set<string>>();
  private readonly marks: LRUCache<string, number>;
  private readonly nsFloors = new Map<string, number>();
  private seq = 0;
  private markFloor = 0;
  private dropAllSeq = 0;
  private busConfirmedAt = Number.NEGATIVE_INFINITY;
  readonly maxStalenessMs: number;

  constructor(
    options: L1Options,
    private readonly events: L1Events,
  ) {
    if (!(Number.isSafeInteger(options.maxStalenessMs) && options.maxStalenessMs > 0)) throw new RangeError('l1.maxStalenessMs must be a positive integer (ms)');
    for (const name of ['maxEntries', 'maxBytes'] as const) {
      const v = options[name];
      if (v !== undefined && !(Number.isSafeInteger(v) && v > 0)) throw new RangeError(`l1.${name} must be a positive integer`);
    }
    this.maxStalenessMs = options.maxStalenessMs;
    const max = options.maxEntries ?? (options.maxBytes ? undefined : 10_000);
    const dispose = (entry: Stored, key: string, reason: LRUCache.DisposeReason): void => {
      this.unindex(key, entry);
      if (reason === 'evict') this.events.evicted(1);
    };
    this.lru = options.maxBytes
      ? new LRUCache<string, Stored>({ ...(max ? { max } : {}), maxSize: options.maxBytes, sizeCalculation: (e) => e.bytes, dispose })
      : new LRUCache<string, Stored>({ max: max ?? 10_000, dispose });
    this.marks = new LRUCache<string, number>({
      max: MARKS,
      dispose: (seq, _key, reason) => {
        if (reason === 'evict') this.markFloor = Math.max(this.markFloor, seq);
      },
    });
  }

  get size(): number {
    return this.lru.size;
  }

  get bytes(): number {
    return this.lru.calculatedSize ?? 0;
  }

  /** A servable entry, or undefined (absent, no longer fresh, or not confirmed within maxStalenessMs). */
  get(key: string, now = Date.now()): L1Entry | undefined {
    const entry = this.lru.get(key);
    if (!entry) return undefined;
    if (now >= entry.freshUntil || (entry.namespace !== undefined && entry.generation < (this.nsFloors.get(entry.namespace) ?? 0))) {
      this.lru.delete(key);
      this.events.dropped('expired', 1);
      return undefined;
    }
    if (now - Math.max(entry.confirmedAt, this.busConfirmedAt) > this.maxStalenessMs) return undefined;
    return entry;
  }

  /** Call before reading Redis; pass the result to set(). */
  begin(): number {
    return this.seq;
  }

  /** Stores what a Redis read (begun at `since`) returned, unless an announcement since then touched it. */
  set(key: string, entry: L1Entry, since: number): boolean {
    if (since < this.dropAllSeq || since < this.markFloor) return false;
    if ((this.marks.peek(`k${key}`) ?? -1) > since) return false;
    for (const t of entry.tags) if ((this.marks.peek(`t${t.stateKey}`) ?? -1) > since) return false;
    if (entry.namespace !== undefined && entry.generation < (this.nsFloors.get(entry.namespace) ?? 0)) return false;
    const bytes = 2 * (key.length + entry.payload.length) + 100 + entry.tags.reduce((n, t) => n + 2 * (t.stateKey.length + t.epoch.length) + 16, 0);
    this.lru.set(key, { ...entry, bytes });
    if (!this.lru.has(key)) return false; // larger than maxBytes
    for (const t of entry.tags) {
      let keys = this.byTag.get(t.stateKey);
      if (!keys) this.byTag.set(t.stateKey, (keys = new Set()));
      keys.add(key);
    }
    return true;
  }

  /** This process changed `key` (its own fill or invalidation). */
  forget(key: string): void {
    this.mark(`k${key}`);
    if (this.lru.delete(key)) this.events.dropped('local', 1);
  }

  /** Apply one bus message (in stream order). */
  apply(message: BusMessage, streamIdMs: number): void {
    const now = Date.now();
    if (message.kind === 'hb') {
      this.busConfirmedAt = Math.max(this.busConfirmedAt, Math.min(message.at, streamIdMs, now));
      return;
    }
    if (message.kind === 'reset') {
      this.dropAll('reset');
      return;
    }
    let n = 0;
    for (const [key, version, op] of message.keys) {
      this.mark(`k${key}`);
      const entry = this.lru.peek(key);
      if (entry && (op === 'i' || version === 0 || entry.version < version)) {
        this.lru.delete(key);
        n += 1;
      }
    }
    if (n > 0) this.events.dropped('bus-key', n);
    for (const tag of message.tags) {
      const stateKey = tagStateKey(tag);
      this.mark(`t${stateKey}`);
      const keys = this.byTag.get(stateKey);
      if (!keys) continue;
      const victims = [...keys];
      victims.forEach((k) => this.lru.delete(k));
      this.events.dropped('bus-tag', victims.length);
    }
    for (const [prefix, generation] of message.namespaces) this.bumpNamespace(prefix, generation);
  }

  /** A namespace's generation is now at least `generation`: entries of older ones are dropped. */
  bumpNamespace(prefix: string, generation: number): void {
    if (generation <= (this.nsFloors.get(prefix) ?? 0)) return;
    this.seq += 1;
    this.nsFloors.set(prefix, generation);
    let n = 0;
    for (const [key, entry] of this.lru.entries()) {
      if (entry.namespace === prefix && entry.generation < generation) {
        this.lru.delete(key);
        n += 1;
      }
    }
    this.events.dropped('bus-namespace', n);
  }

  /** Everything may be stale (the bus was cut, lagged past trimming, or a publisher lost an announce). */
  dropAll(reason: L1DropReason): void {
    this.seq += 1;
    this.dropAllSeq = this.seq;
    this.busConfirmedAt = Number.NEGATIVE_INFINITY;
    const n = this.lru.size;
    this.lru.clear();
    this.byTag.clear();
    if (n > 0) this.events.dropped(reason, n);
  }

  private mark(name: string): void {
    this.seq += 1;
    this.marks.set(name, this.seq);
  }

  private unindex(key: string, entry: Stored): void {
    for (const t of entry.tags) {
      const keys = this.byTag.get(t.stateKey);
      if (!keys) continue;
      keys.delete(key);
      if (keys.size === 0) this.byTag.delete(t.stateKey);
    }
  }
}
