// Local HTTP servers standing in for a team's loader or for an "internal" host (admin port,
// metadata service...): bound on a 127.0.0.x address of our choice, port 0, recording every
// request; the handler can be swapped while the test runs.
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { stringify } from 'yaml';
import { CacheProtocol } from '@app/cache-protocol';
import type { EntityUpdated } from '@app/contracts';
import { INVALIDATOR_METRIC_NAMES } from '@app/telemetry';
import { InvalidatorProcess, spawnInvalidator } from '../../scripts/support/invalidator-process';
import { productEvent, publish } from './events';
import { committedVsEnd, invalidatorTestEnv, InvalidatorTestEnv, processMetric } from './invalidator-env';
import { eventually, kafka, redis, uniqueName } from './stack-env';

export type StandInHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface HttpStandIn {
  /** `http://<ip>:<port>` */
  origin: string;
  ip: string;
  port: number;
  /** Paths requested so far, in order. */
  requests: string[];
  handler: StandInHandler;
  close(): Promise<void>;
}

export async function startStandIn(ip: string, handler: StandInHandler): Promise<HttpStandIn> {
  const standIn = { requests: [] as string[], handler } as HttpStandIn;
  const server = createServer((req, res) => {
    standIn.requests.push(req.url ?? '');
    standIn.handler(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, ip, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  Object.assign(standIn, {
    ip,
    port,
    origin: `http://${ip}:${port}`,
    close: async () => {
      // Held (slow) answers would keep close() waiting: cut them.
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
  return standIn;
}

/** A JSON answer with the version in X-Entity-Version and in the body. */
export function answerJson(res: ServerResponse, version: number | string, body: Record<string, unknown> = {}, status = 200): void {
  res.writeHead(status, { 'content-type': 'application/json', 'x-entity-version': String(version) });
  res.end(JSON.stringify({ ...body, version }));
}

/** A mapping whose one key is warmed from `loaderUrl` (no registry in between: MAPPINGS_SOURCE=file). */
export function loaderMapping(entityType: string, loaderUrl: string, owner = 'team-a'): Record<string, unknown> {
  return {
    id: `sec.${entityType}`,
    entityType,
    owner,
    description: `${entityType} warmed from a loader stand-in`,
    keys: [{ template: `${entityType}:{entityId}`, action: 'warm', warmFrom: { loaderUrl }, ttlSeconds: 600, tombstoneTtlSeconds: 600 }],
  };
}

export interface LoaderInvalidator {
  env: InvalidatorTestEnv;
  proc: InvalidatorProcess;
  protocol: CacheProtocol;
  /** Publishes and waits until the invalidator committed everything (the warms then run in the background). */
  publishCommitted(events: EntityUpdated[]): Promise<void>;
  /** invalidator_loader_warms_total{outcome} from the child's /metrics; no outcome = every outcome. */
  warms(outcome?: string): Promise<number>;
  close(): Promise<void>;
}

/** A real invalidator child process on its own topics, following `mappings` from a file. */
export async function startLoaderInvalidator(mappings: Record<string, unknown>[], env: Record<string, string>): Promise<LoaderInvalidator> {
  const t = await invalidatorTestEnv({ partitions: 1 });
  writeFileSync(t.mappingsFile, stringify({ mappings }));
  const proc = await spawnInvalidator({ ...t.env, ...env });
  const producer = kafka(uniqueName('e2e-loader')).producer();
  await producer.connect();
  const redisClient = redis();
  return {
    env: t,
    proc,
    protocol: new CacheProtocol(redisClient),
    publishCommitted: async (events) => {
      const before = (await committedVsEnd(t.groupId, t.topic)).end;
      await publish(producer, t.topic, events);
      await eventually(
        `the invalidator committed ${events.length} more events`,
        async () => {
          const { committed, end } = await committedVsEnd(t.groupId, t.topic);
          return end >= before + events.length && committed === end;
        },
        30_000,
        50,
      );
    },
    warms: (outcome) => processMetric(proc.port, INVALIDATOR_METRIC_NAMES.loaderWarms, outcome ? { outcome } : {}),
    close: async () => {
      await producer.disconnect().catch(() => undefined);
      await proc.terminate(5_000).catch(() => undefined);
      redisClient.disconnect();
    },
  };
}

/** An event of any entity type (the mappings above key on entityType). */
export function entityEvent(entityType: string, entityId: string, version: number): EntityUpdated {
  return { ...productEvent(entityId, version, { id: entityId }), entityType };
}
