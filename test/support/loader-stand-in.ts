// Local HTTP servers standing in for a team's loader or for an "internal" host (admin port,
// metadata service...): bound on a 127.0.0.x address of our choice, port 0, recording every
// request; the handler can be swapped while the test runs.
import type { ServerResponse } from 'node:http';
import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { CacheProtocol } from '@app/cache-protocol';
import type { EntityUpdated } from '@app/contracts';
import { INVALIDATOR_METRIC_NAMES } from '@app/telemetry';
import { InvalidatorProcess, spawnInvalidator } from '../../scripts/support/invalidator-process';
import { productEvent, publish } from './events';
import { committedVsEnd, invalidatorTestEnv, InvalidatorTestEnv, processMetric } from './invalidator-env';
import { RecordedRequest, startRecordingServer } from './recording-http-server';
import { eventually, kafka, redis, uniqueName } from './stack-env';

export type StandInHandler = (req: RecordedRequest, res: ServerResponse) => void;

export interface HttpStandIn {
  /** `http://<ip>:<port>` */
  origin: string;
  ip: string;
  port: number;
  /** Paths requested so far, in order. */
  readonly requests: string[];
  handler: StandInHandler;
  close(): Promise<void>;
}

/** A recording server (recording-http-server.ts) whose handler the test can swap while it runs. */
export async function startStandIn(ip: string, handler: StandInHandler): Promise<HttpStandIn> {
  const server = await startRecordingServer(ip, (req, res) => standIn.handler(req, res));
  const standIn: HttpStandIn = {
    origin: server.url,
    ip,
    port: server.port,
    get requests() {
      return server.seen.map((r) => r.path);
    },
    handler,
    close: () => server.close(),
  };
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
