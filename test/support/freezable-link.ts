// A TCP proxy in front of a redis-server whose upstream->client direction can be frozen (bytes
// held) and dropped (bytes lost): a replication link that lags and then loses data, which
// loopback TCP never does on its own. With `replicationOnly`, only connections that spoke the
// replication handshake (REPLCONF / PSYNC / SYNC) are frozen: on a Redis Cluster node that
// announces the proxy's port, clients and replicas both come through it, and only the replicas'
// stream must stall.
import { createServer, connect, Server, Socket } from 'node:net';
import { freePort } from '../../scripts/stack/processes';

/** A RESP command (at a chunk's start or after a previous command) that only a replica sends. */
const REPLICATION_COMMAND = /(^|\r\n)\*\d+\r\n\$\d+\r\n(REPLCONF|PSYNC|SYNC)\r\n/i;

export class FreezableLink {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  /** Client sockets of replication connections (replicationOnly). */
  private readonly replication = new WeakSet<Socket>();
  /** Replication connections seen so far (replicationOnly). */
  replicationConnections = 0;
  private frozen = false;
  private held: { to: Socket; chunk: Buffer }[] = [];
  port = 0;

  constructor(
    private readonly upstreamPort: number,
    private readonly options: { replicationOnly?: boolean } = {},
  ) {}

  async listen(): Promise<number> {
    this.port = await freePort();
    this.server = createServer((client) => {
      const upstream = connect(this.upstreamPort, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => {
          this.sockets.delete(s);
          client.destroy();
          upstream.destroy();
        });
      }
      client.on('data', (chunk: Buffer) => {
        if (this.options.replicationOnly && !this.replication.has(client) && REPLICATION_COMMAND.test(chunk.toString('latin1'))) {
          this.replication.add(client);
          this.replicationConnections += 1;
        }
        upstream.write(chunk);
      });
      upstream.on('data', (chunk: Buffer) => (this.holds(client) ? this.held.push({ to: client, chunk }) : client.write(chunk)));
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    return this.port;
  }

  private holds(client: Socket): boolean {
    return this.frozen && (!this.options.replicationOnly || this.replication.has(client));
  }

  /** Stop forwarding upstream->client bytes (of replication connections, with replicationOnly): held, not lost, yet. */
  freeze(): void {
    this.frozen = true;
  }

  /** Forward the held bytes (in order) and everything after them again. */
  thaw(): void {
    this.frozen = false;
    for (const h of this.held) h.to.write(h.chunk);
    this.held = [];
  }

  get heldBytes(): number {
    return this.held.reduce((n, h) => n + h.chunk.length, 0);
  }

  /** Destroy every socket and the listener; the held bytes are gone. */
  async drop(): Promise<void> {
    this.held = [];
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }
}

/** One field of an INFO section's text. */
export function infoField(info: string, name: string): string | undefined {
  return new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim();
}
