// The in-process L1 in front of Redis. Bounded (entries and bytes, LRU), and never serves an
// entry longer than maxStalenessMs after it was last confirmed: by a Redis read (the time the
// read was sent) or by the bus (heartbeats of EVERY publisher heard: each vouches that its
// announcements before it have been applied here). Bus messages drop the entries they name; a
// suspect bus drops everything.
// All L1 times are on Redis's clock, not this process's: an offset learned from Redis TIME
// (clockSample: a lower and an upper bound, from the times the command was sent and answered)
// and raised by what stream ids show, so a skewed local clock never stretches the bound. Until
// the first sample nothing is stored or served.
// Publishers: one that was heard and goes silent makes the minimum over all of them stale, so L1
// entries are served only within maxStalenessMs of their own read; after forgetAfterMs of silence
// it is forgotten and everything is dropped (its last changes may never have been announced),
// after which the others vouch again. A publisher that says `bye` is forgotten at once, no drop.
// Reads racing an invalidation: a read captures `begin()` before asking Redis, and its result is
// not stored when an announcement touching its key, tags or namespace (or a drop of everything)
// was applied after that point.
import { LRUCache } from 'lru-cache';
import { tagStateKey } from '@app/cache-protocol';
import type { BusMessage, SignedKind } from '@app/cache-protocol/bus';

export interface L1Options {
  /** Most entries kept. Default 10000 (when maxBytes is not set either). */
  maxEntries?: number;
  /** Most bytes kept (key + payload as UTF-16 + ~100 bytes per entry). Default none. */
  maxBytes?: number;
  /** An entry is served at most this long after Redis or the bus last confirmed it. Required. */
  maxStalenessMs: number;
  /** This process's clock. Default Date.now. */
  now?: () => number;
  /** A bus publisher silent this long is forgotten and L1 dropped (see above). Default 30000. */
  forgetSilentPublisherMs?: number;
  /**
   * Checks a heartbeat's or bye's signature (busVerifier with the invalidators' public key). Set:
   * heartbeats and byes without a valid signature are ignored (they vouch for nothing and forget
   * no publisher). Unset: every heartbeat and bye is trusted.
   */
  verifyPublisher?: (message: SignedKind) => boolean;
}

export interface L1Entry {
  payload: string;
  version: number;
  /** Tag state keys (~e{tag}) with the epochs recorded in the envelope. */
  tags: Array<{ stateKey: string; epoch: string }>;
  namespace?: string;
  generation: number;
  /** Redis time (ms) of the Redis read that produced it (sent; see L1.redisTimeOf). */
  confirmedAt: number;
  /** Redis time (ms) when the value stops being fresh (writtenAt + freshFor). */
  freshUntil: number;
}

interface Stored extends L1Entry {
  bytes: number;
}

export type L1DropReason =
  'bus-key' | 'bus-tag' | 'bus-namespace' | 'suspect' | 'reset' | 'publisher-gone' | 'publisher-flood' | 'expired' | 'local';

/** What a bus publisher's heartbeats vouch for (Redis time): `confirmedAt`; last heard `heardAt`. */
interface Publisher {
  confirmedAt: number;
  heardAt: number;
}

export interface L1Events {
  dropped(reason: L1DropReason, n: number): void;
  evicted(n: number): void;
}

const MARKS = 50_000;
/**
 * Publishers (sources heard on the bus) one reader tracks. A deployment has a few invalidator
 * instances; any process that can XADD to the bus can invent sources, so past this many the bus
 * is suspect: it vouches for nothing (L1 serves only within maxStalenessMs of an entry's own
 * read) until silent sources are forgotten and the count is back under the cap.
 */
export const MAX_TRACKED_PUBLISHERS = 256;

export class L1 {
  private readonly lru: LRUCache<string, Stored>;
  private readonly byTag = new Map<string, Set<string>>();
  private readonly marks: LRUCache<string, number>;
  private readonly nsFloors = new Map<string, number>();
  private seq = 0;
  private markFloor = 0;
  private dropAllSeq = 0;
  private readonly publishers = new Map<string, Publisher>();
  /** Minima over `publishers` (recomputed when one changes). */
  private busConfirmedAt = Number.NEGATIVE_INFINITY;
  private oldestHeardAt = Number.POSITIVE_INFINITY;
  /** More sources than MAX_TRACKED_PUBLISHERS were heard: the bus vouches for nothing until forgotten ones make room. */
  private flooded = false;
  /** Heartbeats and byes ignored for a missing or invalid signature (diagnostics). */
  ignoredUnsigned = 0;
  private readonly verifyPublisher?: (message: SignedKind) => boolean;
  /** Sum of the stored entries' estimated bytes (lru-cache only counts sizes when maxSize is set). */
  private heldBytes = 0;
  /** Redis clock minus local clock: bounds (undefined until the first TIME sample). */
  private offsetLow?: number;
  private offsetHigh?: number;
  readonly maxStalenessMs: number;
  private readonly forgetAfterMs: number;
  private readonly now: () => number;

  constructor(
    options: L1Options,
    private readonly events: L1Events,
  ) {
    if (!(Number.isSafeInteger(options.maxStalenessMs) && options.maxStalenessMs > 0))
      throw new RangeError('l1.maxStalenessMs must be a positive integer (ms)');
    const forget = options.forgetSilentPublisherMs;
    if (forget !== undefined && !(Number.isSafeInteger(forget) && forget > 0))
      throw new RangeError('bus.forgetSilentPublisherMs must be a positive integer (ms)');
    for (const name of ['maxEntries', 'maxBytes'] as const) {
      const v = options[name];
      if (v !== undefined && !(Number.isSafeInteger(v) && v > 0)) throw new RangeError(`l1.${name} must be a positive integer`);
    }
    this.maxStalenessMs = options.maxStalenessMs;
    this.now = options.now ?? Date.now;
    this.forgetAfterMs = options.forgetSilentPublisherMs ?? 30_000;
    this.verifyPublisher = options.verifyPublisher;
    const max = options.maxEntries ?? (options.maxBytes ? undefined : 10_000);
    const dispose = (entry: Stored, key: string, reason: LRUCache.DisposeReason): void => {
      this.heldBytes -= entry.bytes;
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

  /** Estimated bytes held (counted on every store and removal, also without maxBytes). */
  get bytes(): number {
    return this.heldBytes;
  }

  /**
   * One Redis TIME sample: sent at local `sentAt`, answered `redisMs`, answer received at local
   * `receivedAt`. Redis read its clock in between, so the offset lies in [redisMs - receivedAt,
   * redisMs - sentAt] whatever the round trip took.
   */
  clockSample(sentAt: number, redisMs: number, receivedAt: number): void {
    if (!(receivedAt >= sentAt) || !Number.isFinite(redisMs)) return;
    this.offsetLow = redisMs - receivedAt;
    this.offsetHigh = redisMs - sentAt;
  }

  /** True once a TIME sample was taken (before that nothing is stored or served). */
  get clockKnown(): boolean {
    return this.offsetHigh !== undefined;
  }

  /** Redis time no later than when local time `local` happened (for "confirmed at"), or undefined before the first sample. */
  redisTimeOf(local: number): number | undefined {
    return this.offsetLow === undefined ? undefined : local + this.offsetLow;
  }

  /** Redis time no earlier than now (for "is it still fresh"), or undefined before the first sample. */
  private redisNow(now: number): number | undefined {
    return this.offsetHigh === undefined ? undefined : now + this.offsetHigh;
  }

  /** A servable entry, or undefined (absent, no longer fresh, or not confirmed within maxStalenessMs). */
  get(key: string, now = this.now()): L1Entry | undefined {
    const entry = this.lru.get(key);
    if (!entry) return undefined;
    const rnow = this.redisNow(now);
    if (rnow === undefined) return undefined;
    if (rnow >= entry.freshUntil || (entry.namespace !== undefined && entry.generation < (this.nsFloors.get(entry.namespace) ?? 0))) {
      this.lru.delete(key);
      this.events.dropped('expired', 1);
      return undefined;
    }
    if (rnow - this.oldestHeardAt > this.forgetAfterMs) this.forgetSilent(rnow);
    if (!this.lru.has(key)) return undefined;
    if (rnow - Math.max(entry.confirmedAt, this.busConfirmedAt) > this.maxStalenessMs) return undefined;
    return entry;
  }

  /** Call before reading Redis; pass the result to set(). */
  begin(): number {
    return this.seq;
  }

  /** Stores what a Redis read (begun at `since`) returned, unless an announcement since then touched it. */
  set(key: string, entry: L1Entry, since: number): boolean {
    if (!this.clockKnown) return false;
    if (since < this.dropAllSeq || since < this.markFloor) return false;
    if ((this.marks.peek(`k${key}`) ?? -1) > since) return false;
    for (const t of entry.tags) if ((this.marks.peek(`t${t.stateKey}`) ?? -1) > since) return false;
    if (entry.namespace !== undefined && entry.generation < (this.nsFloors.get(entry.namespace) ?? 0)) return false;
    const bytes =
      2 * (key.length + entry.payload.length) + 100 + entry.tags.reduce((n, t) => n + 2 * (t.stateKey.length + t.epoch.length) + 16, 0);
    this.lru.set(key, { ...entry, bytes });
    if (!this.lru.has(key)) return false; // larger than maxBytes
    this.heldBytes += bytes;
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
    const now = this.now();
    // The entry was written at streamIdMs (Redis time) before we got it: the offset is at least that.
    if (this.offsetHigh !== undefined && this.offsetLow !== undefined) {
      const seen = streamIdMs - now;
      if (seen > this.offsetLow) this.offsetLow = seen;
      if (seen > this.offsetHigh) this.offsetHigh = seen;
    }
    if ((message.kind === 'hb' || message.kind === 'bye') && this.verifyPublisher && !this.verifyPublisher(message)) {
      this.ignoredUnsigned += 1;
      return;
    }
    if (message.kind === 'hb' || message.kind === 'reset') {
      if (message.kind === 'reset') this.dropAll('reset');
      // `at` on Redis's clock: the stream id minus the heartbeat's age (the publisher's clock may
      // be off), and never later than `at` itself or than now.
      const at = Math.min(
        message.at,
        message.kind === 'hb' && message.age !== undefined ? streamIdMs - message.age : streamIdMs,
        this.redisNow(now) ?? Number.NEGATIVE_INFINITY,
      );
      const known = this.publishers.get(message.source);
      if (!known && this.publishers.size >= MAX_TRACKED_PUBLISHERS) {
        if (!this.flooded) {
          this.flooded = true;
          this.recomputeBus();
          this.dropAll('publisher-flood');
        }
        return;
      }
      this.publishers.set(message.source, {
        confirmedAt: Math.max(known?.confirmedAt ?? Number.NEGATIVE_INFINITY, at),
        heardAt: Math.max(known?.heardAt ?? 0, streamIdMs),
      });
      this.recomputeBus();
      return;
    }
    if (message.kind === 'bye') {
      // Every announce of it is before this message (applied already): nothing to drop.
      if (this.publishers.delete(message.source)) this.recomputeBus();
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

  /**
   * Everything may be stale (the bus was cut, lagged past trimming, or a publisher lost an
   * announce or went away). The publishers stay known: each must vouch again by a heartbeat
   * after this point (their old confirmations are older than every entry stored from now on).
   */
  dropAll(reason: L1DropReason): void {
    this.seq += 1;
    this.dropAllSeq = this.seq;
    const n = this.lru.size;
    this.lru.clear();
    this.byTag.clear();
    if (n > 0) this.events.dropped(reason, n);
  }

  /** Publishers heard, with their confirmations (diagnostics, tests). */
  publishersHeard(): Array<{ source: string; confirmedAt: number; heardAt: number }> {
    return [...this.publishers].map(([source, p]) => ({ source, ...p }));
  }

  /** Forgets publishers silent longer than forgetAfterMs; their last changes may be unannounced: drop all. */
  private forgetSilent(rnow: number): void {
    let forgot = false;
    for (const [source, p] of this.publishers) {
      if (rnow - p.heardAt > this.forgetAfterMs) {
        this.publishers.delete(source);
        forgot = true;
      }
    }
    if (forgot && this.flooded && this.publishers.size < MAX_TRACKED_PUBLISHERS) this.flooded = false;
    this.recomputeBus();
    if (forgot) this.dropAll('publisher-gone');
  }

  private recomputeBus(): void {
    let confirmed = Number.POSITIVE_INFINITY;
    let heard = Number.POSITIVE_INFINITY;
    for (const p of this.publishers.values()) {
      confirmed = Math.min(confirmed, p.confirmedAt);
      heard = Math.min(heard, p.heardAt);
    }
    this.busConfirmedAt = this.publishers.size === 0 || this.flooded ? Number.NEGATIVE_INFINITY : confirmed;
    this.oldestHeardAt = heard;
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
