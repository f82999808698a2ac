// Reads the bus: XREAD BLOCK from the last id it saw, on a connection of its own (a blocking
// read holds it). It reports every message in stream order, and "suspect" whenever messages may
// have been missed: the read failed (disconnect, CLIENT KILL), the first read after that, or the
// stream was trimmed past its position while it lagged (checked after every read that returned
// entries, for any stream length). The owner (the cache client's L1) drops
// everything on suspect; it also stops trusting L1 when heartbeats stop (see L1 in cache-client).
import { setTimeout as sleep } from 'node:timers/promises';
import type Redis from 'ioredis';
import type { Cluster } from 'ioredis';
import { BusMessage, BusMessageError, DEFAULT_BUS_STREAM_KEY, decodeBusMessage, streamIdMs, validateStreamKey } from './message';

export type BusSuspectReason = 'read-failed' | 'reconnected' | 'trimmed' | 'paused';

export interface BusSubscriberHandler {
  onMessage(message: BusMessage, streamIdMs: number): void;
  onSuspect(reason: BusSuspectReason, error?: Error): void;
  onMalformed(error: BusMessageError): void;
}

export interface BusSubscriberOptions {
  streamKey?: string;
  /** XREAD BLOCK time. Default 1000. */
  blockMs?: number;
  /** Entries per XREAD. Default 512. */
  count?: number;
  /** Connection name (CLIENT SETNAME) for operators and tests. */
  connectionName?: string;
}

export class BusSubscriber {
  readonly streamKey: string;
  private position?: string;
  private running = false;
  private paused = false;
  private failed = false;
  private loop?: Promise<void>;
  private readyResolve?: () => void;
  readonly ready: Promise<void>;

  constructor(
    /** A connection for this subscriber alone (it blocks); closed by stop(). */
    private readonly connection: Redis | Cluster,
    private readonly handler: BusSubscriberHandler,
    private readonly options: BusSubscriberOptions = {},
  ) {
    this.streamKey = options.streamKey ?? DEFAULT_BUS_STREAM_KEY;
    validateStreamKey(this.streamKey);
    this.ready = new Promise((resolve) => (this.readyResolve = resolve));
    // ioredis re-sends a blocked XREAD after a reconnect, so the read itself may never fail:
    // the connection's close is what tells us messages may have been missed.
    connection.on('close', () => this.connectionLost());
  }

  private connectionLost(): void {
    if (!this.running || this.failed) return;
    this.failed = true;
    this.handler.onSuspect('read-failed', new Error('bus connection closed'));
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Tests: stop reading without noticing anything (a silent bus, as behind a stuck TCP connection). */
  pause(paused: boolean): void {
    this.paused = paused;
  }

  async stop(): Promise<void> {
    this.running = false;
    this.connection.disconnect();
    // A blocked XREAD that ioredis queued again after a reconnect may never settle: do not wait for it.
    await Promise.race([this.loop?.catch(() => undefined), sleep(100)]);
  }

  /** The last stream id read ('0-0' before the first). */
  get lastId(): string | undefined {
    return this.position;
  }

  private async run(): Promise<void> {
    const blockMs = this.options.blockMs ?? 1000;
    const count = this.options.count ?? 512;
    let backoff = 50;
    while (this.running) {
      if (this.paused) {
        await sleep(50);
        continue;
      }
      try {
        if (this.position === undefined) {
          if (this.options.connectionName)
            await this.connection.call('CLIENT', 'SETNAME', this.options.connectionName).catch(() => undefined);
          const last = (await this.connection.xrevrange(this.streamKey, '+', '-', 'COUNT', 1)) as Array<[string, string[]]>;
          this.position = last[0]?.[0] ?? '0-0';
          this.readyResolve?.();
        }
        const before = this.position;
        const reply = await this.connection.xread('COUNT', count, 'BLOCK', blockMs, 'STREAMS', this.streamKey, before);
        if (!this.running) return;
        if (this.failed) {
          this.failed = false;
          // Back after a failure: whatever came meanwhile is read below (from our position), but
          // entries may be gone (trimmed) and the owner must not trust what it kept.
          this.handler.onSuspect('reconnected');
          if (this.options.connectionName)
            await this.connection.call('CLIENT', 'SETNAME', this.options.connectionName).catch(() => undefined);
        }
        backoff = 50;
        const entries = reply?.[0]?.[1] ?? [];
        // Any read that returned something may follow a gap, whatever the stream's MAXLEN and
        // however few entries came back: checked on every one (one XRANGE ... COUNT 1).
        if (entries.length > 0 && (await this.trimmedPast(before))) this.handler.onSuspect('trimmed');
        for (const [id, fields] of entries) {
          if (this.paused) break;
          this.position = id;
          let message: BusMessage;
          try {
            message = decodeBusMessage(fieldOf(fields, 'm'));
          } catch (error) {
            if (error instanceof BusMessageError) this.handler.onMalformed(error);
            continue;
          }
          this.handler.onMessage(message, streamIdMs(id));
        }
      } catch (error) {
        if (!this.running) return;
        if (!this.failed) this.handler.onSuspect('read-failed', error as Error);
        this.failed = true;
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 1000);
      }
    }
  }

  /**
   * Entries after `position` may have been trimmed (or the stream deleted) before we read them.
   * Trimming removes the oldest entries first, so when the stream's first entry is at or before
   * our position nothing after it is gone. When it is after, our position itself was trimmed and
   * the entries right after it may have been too: counted as a gap (rarely a false alarm, which
   * costs an L1 drop). A reader that started on an empty stream (position 0-0) asks XINFO (Redis
   * 7+) whether anything was ever deleted from it; without that answer it assumes a gap.
   */
  private async trimmedPast(position: string): Promise<boolean> {
    const first = (await this.connection.xrange(this.streamKey, '-', '+', 'COUNT', 1)) as Array<[string, string[]]>;
    const firstId = first[0]?.[0];
    if (firstId === undefined || compareIds(firstId, position) <= 0) return false;
    if (position !== '0-0') return true;
    const info = (await this.connection.call('XINFO', 'STREAM', this.streamKey).catch(() => [])) as unknown[];
    const at = info.indexOf('max-deleted-entry-id');
    return at < 0 || info[at + 1] !== '0-0';
  }
}

function fieldOf(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

export function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(Number);
  const [bm, bs] = b.split('-').map(Number);
  return am !== bm ? am - bm : as - bs;
}
