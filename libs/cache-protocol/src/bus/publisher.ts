// Announces changes on the bus (XADD ... MAXLEN ~ n). Never throws and never waits longer than
// timeoutMs: a lost announce is counted and logged, and the publisher's next message is a
// `reset` (every reader drops its whole L1) before it sends heartbeats again, so a lost announce
// costs L1 misses, never an L1 entry served past its staleness bound.
// Heartbeats vouch for everything before their `at`: the oldest announce in flight, and the
// oldest change held (hold(): an apply under way whose announce is still to come). Readers
// track each publisher's heartbeats and stop trusting L1 when any one goes silent, so a
// publisher that stops cleanly says so: leave() sends `bye` once nothing is in flight.
import type Redis from 'ioredis';
import type { Cluster } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Counter, Registry } from 'prom-client';
import { BusChange, BusMessage, DEFAULT_BUS_STREAM_KEY, encodeBusMessage, validateStreamKey } from './message';
import type { SignedKind } from './signing';

export interface BusPublisherOptions {
  /** Stream key. Default `~bus{cache}`. */
  streamKey?: string;
  /** Approximate stream length kept (XADD MAXLEN ~). Default 10000. */
  maxLen?: number;
  /** Identifies this publisher in messages (readers skip their own). Default a random id. */
  source?: string;
  /** An XADD slower than this counts as failed (and triggers a reset). Default 500. */
  timeoutMs?: number;
  /** Announces in flight beyond this are dropped (counted, reset). Default 64. */
  maxInFlight?: number;
  /** Counter cache_bus_published_total{kind,outcome}. Optional. */
  registry?: Registry;
  /** Called once per failure (the caller logs; rate-limit there). */
  onFailure?: (kind: string, error: Error) => void;
  /** Signs heartbeats and byes (busSigner): readers holding the public key trust only signed ones. */
  sign?: (message: SignedKind) => string;
}

export type PublishOutcome = 'ok' | 'failed' | 'timeout' | 'dropped';

function publishedCounter(registry: Registry): Counter<'kind' | 'outcome'> {
  const name = 'cache_bus_published_total';
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter<'kind' | 'outcome'>;
  return new Counter({
    name,
    help: 'Invalidation-bus messages published (kind: inv, hb, reset; outcome: ok, failed, timeout, dropped)',
    labelNames: ['kind', 'outcome'],
    registers: [registry],
  });
}

export class BusPublisher {
  readonly streamKey: string;
  readonly source: string;
  private readonly maxLen: number;
  private readonly timeoutMs: number;
  private readonly maxInFlight: number;
  private readonly counter?: Counter<'kind' | 'outcome'>;
  private readonly inFlight = new Map<number, number>(); // id -> start time
  private nextId = 0;
  private needsReset = false;
  private heartbeat?: NodeJS.Timeout;

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly options: BusPublisherOptions = {},
  ) {
    this.streamKey = options.streamKey ?? DEFAULT_BUS_STREAM_KEY;
    validateStreamKey(this.streamKey);
    this.source = options.source ?? `pub-${randomBytes(6).toString('hex')}`;
    this.maxLen = options.maxLen ?? 10_000;
    this.timeoutMs = options.timeoutMs ?? 500;
    this.maxInFlight = options.maxInFlight ?? 64;
    this.counter = options.registry ? publishedCounter(options.registry) : undefined;
  }

  /** Announce a change (after it was applied to Redis). Resolves to the outcome; never rejects. */
  announce(change: BusChange): Promise<PublishOutcome> {
    const keys = change.keys ?? [];
    const tags = change.tags ?? [];
    const namespaces = change.namespaces ?? [];
    if (keys.length === 0 && tags.length === 0 && namespaces.length === 0) return Promise.resolve('ok');
    if (this.inFlight.size >= this.maxInFlight) {
      this.needsReset = true;
      this.count('inv', 'dropped');
      return Promise.resolve('dropped');
    }
    return this.send({ kind: 'inv', source: this.source, at: Date.now(), keys, tags, namespaces });
  }

  /**
   * Something may be in Redis that no announce will name (an apply attempt failed after some of
   * its effects landed): the next message is a `reset` instead of a heartbeat, so readers drop
   * their L1 rather than trust it. Costs readers a cold L1, never a stale read.
   */
  requireReset(): void {
    this.needsReset = true;
  }

  /**
   * A change is being applied and will be announced: heartbeats vouch for nothing after its start
   * until the returned release is called (call it after announce(), or when the apply failed).
   */
  hold(): () => void {
    const id = this.nextId++;
    this.inFlight.set(id, Date.now());
    return () => void this.inFlight.delete(id);
  }

  /**
   * Heartbeats every intervalMs (readers stop trusting L1 when they stop). Resolves with the first
   * one's outcome: await it before applying anything, so readers know this publisher (and wait
   * for its heartbeats) before any change of it can need an announce.
   */
  startHeartbeat(intervalMs: number): Promise<PublishOutcome> {
    this.stopHeartbeat();
    this.heartbeat = setInterval(() => void this.beat(), intervalMs);
    this.heartbeat.unref();
    return this.beat();
  }

  stopHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  /** One heartbeat now (or the pending reset instead). */
  async beat(): Promise<PublishOutcome> {
    // Everything announced before `at` is in the stream before this heartbeat; `age` lets readers
    // place `at` on Redis's clock (this heartbeat's stream id) whatever this process's clock says.
    const now = Date.now();
    const oldest = Math.min(now, ...this.inFlight.values());
    return this.send({ kind: 'hb', source: this.source, at: oldest, age: now - oldest });
  }

  /**
   * Clean stop, after the last change was applied: heartbeats stop, announces in flight get up to
   * timeoutMs to land, then a `reset` if any was lost, then `bye` (readers forget this publisher
   * without dropping their L1). If the reset or the bye cannot be sent, readers notice the
   * silence instead (they drop their L1 and forget it later). Never rejects.
   */
  async leave(): Promise<PublishOutcome> {
    this.stopHeartbeat();
    const deadline = Date.now() + this.timeoutMs + 50;
    while (this.inFlight.size > 0 && Date.now() < deadline) await sleep(10);
    if (this.inFlight.size > 0) this.needsReset = true;
    if (this.needsReset) {
      const reset = await this.send({ kind: 'reset', source: this.source, at: Date.now() });
      if (reset !== 'ok') return reset;
    }
    return this.send({ kind: 'bye', source: this.source, at: Date.now() });
  }

  private async send(message: BusMessage): Promise<PublishOutcome> {
    if (this.needsReset && message.kind === 'hb') message = { kind: 'reset', source: this.source, at: message.at };
    else if (this.needsReset && message.kind === 'bye') return 'dropped'; // only after the reset went out
    if (this.options.sign && (message.kind === 'hb' || message.kind === 'bye')) message = { ...message, sig: this.options.sign(message) };
    const id = this.nextId++;
    this.inFlight.set(id, message.at);
    const wasReset = message.kind === 'reset';
    if (wasReset) this.needsReset = false;
    let timer: NodeJS.Timeout | undefined;
    try {
      const xadd = this.redis.xadd(this.streamKey, 'MAXLEN', '~', this.maxLen, '*', 'm', encodeBusMessage(message));
      const outcome = await new Promise<PublishOutcome>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), this.timeoutMs);
        xadd.then(
          () => resolve('ok'),
          (error: Error) => {
            this.options.onFailure?.(message.kind, error);
            resolve('failed');
          },
        );
      });
      if (outcome !== 'ok') {
        this.needsReset = true;
        if (outcome === 'timeout') this.options.onFailure?.(message.kind, new Error(`XADD took longer than ${this.timeoutMs} ms`));
      }
      this.count(message.kind, outcome);
      return outcome;
    } catch (error) {
      // e.g. a synchronous throw of a closed client
      this.needsReset = true;
      this.options.onFailure?.(message.kind, error as Error);
      this.count(message.kind, 'failed');
      return 'failed';
    } finally {
      clearTimeout(timer);
      this.inFlight.delete(id);
    }
  }

  private count(kind: string, outcome: PublishOutcome): void {
    this.counter?.inc({ kind, outcome });
  }
}
