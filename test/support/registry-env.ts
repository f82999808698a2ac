// The registry API in-process (createRegistryApp) on its own topics of the shared Kafka, with
// one token per team and an admin token; requests through supertest.
import { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { createRegistryApp, registryStarted } from '../../apps/registry/src/registry.app';
import { stackEnv, uniqueName } from './stack-env';

export interface TestRegistry {
  app: INestApplication;
  /** KAFKA_MAPPINGS_TOPIC: an invalidator with MAPPINGS_SOURCE=kafka follows it. */
  mappingsTopic: string;
  http(): ReturnType<typeof request>;
  /** Authorization header of a team's token ("*" = the admin token). */
  as(team: string): { authorization: string };
  close(): Promise<void>;
}

export async function startTestRegistry(teams: string[], extra: Record<string, string> = {}): Promise<TestRegistry> {
  const mappingsTopic = uniqueName('registry-mappings');
  const tokens = [...teams.map((t) => `${t}-token=${t}`), 'admin-token=*:ops'].join(',');
  const app = await createRegistryApp({
    KAFKA_BROKERS: stackEnv.kafkaBrokers.join(','),
    REGISTRY_TOKENS: tokens,
    LOG_LEVEL: 'silent',
    KAFKA_MAPPINGS_TOPIC: mappingsTopic,
    KAFKA_AUDIT_TOPIC: uniqueName('registry-audit'),
    ...extra,
  });
  await registryStarted(app);
  return {
    app,
    mappingsTopic,
    http: () => request(app.getHttpServer()),
    as: (team) => ({ authorization: `Bearer ${team === '*' ? 'admin' : team}-token` }),
    close: () => app.close(),
  };
}
