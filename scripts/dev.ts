// npm run dev: the whole thing on one machine. Starts the stack (Kafka + Redis + PostgreSQL + Kafka
// Connect with Debezium on the catalog's products table), the registry
// (seeded with examples/mappings/catalog.yaml), the invalidator, a second invalidator for the
// table's row changes (EVENT_FORMAT=debezium), the example catalog and
// storefront, the lag monitor (dashboard) and a small traffic generator; Varnish (xkey) in front of
// the storefront, purged by the invalidator (PURGE_TARGETS, mappings of
// examples/mappings/storefront-pages.yaml) when it is installed; prints the URLs and a live
// counter line; Ctrl-C stops everything it started. DEV_DURATION_SECONDS=N stops by itself;
// DEV_STACK_NAME names the stack (default "dev").
import { ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { addresses, down, StackAddresses, startStackConnect, startStackVarnish, up } from './stack/stack';
import { registerConnector, tableConnectorConfig } from './stack/connect';
import { createTopics } from './stack/kafka';
import { PRODUCTS_CDC_DECLARATION, PRODUCTS_TABLE } from '../examples/catalog/src/store/catalog-schema';
import type { VarnishInfo } from './stack/varnish';
import { loadMappingsYamlFile } from '@app/registry-core';
import { freePort } from './stack/processes';
import { startTraffic, TrafficSummary } from './traffic';
import { INVALIDATOR_METRIC_NAMES, parsePrometheusText, sumOf } from '@app/telemetry';

const ROOT = join(__dirname, '..');
const STACK = process.env.DEV_STACK_NAME ?? 'dev';
const DEV_TOKEN = 'dev-admin-token';

interface Service {
  name: string;
  url: string;
  child: ChildProcess;
}

const services: Service[] = [];
let traffic: ReturnType<typeof startTraffic> | undefined;
let stopping = false;

function startService(name: string, entry: string, port: number, env: Record<string, string>): Service {
  const logDir = join(ROOT, '.stack', 'logs');
  mkdirSync(logDir, { recursive: true });
  // Addresses come from the stack this script started, never from the caller's environment.
  const inherited = { ...process.env };
  for (const name of ['KAFKA_BROKERS', 'REDIS_URL', 'REDIS_CLUSTER_NODES', 'DATABASE_URL']) delete inherited[name];
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', join(ROOT, entry)], {
    cwd: ROOT,
    env: { ...inherited, TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'), LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const prefix = `[${name}] `;
  const forward = (d: Buffer) => {
    for (const line of d.toString().split('\n')) if (line.trim()) process.stderr.write(prefix + line + '\n');
  };
  child.stdout?.on('data', forward);
  child.stderr?.on('data', forward);
  child.once('exit', (code) => {
    if (!stopping) console.error(`${prefix}exited with ${code}; stopping everything`);
    if (!stopping) void shutdown(1);
  });
  const service = { name, url: `http://127.0.0.1:${port}`, child };
  services.push(service);
  return service;
}

async function waitHealthy(service: Service, path: string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (service.child.exitCode !== null) throw new Error(`${service.name} exited with ${service.child.exitCode}`);
    try {
      const res = await fetch(service.url + path);
      if (res.ok) return;
    } catch {
      /* not listening yet */
    }
    await sleep(300);
  }
  throw new Error(`${service.name} not healthy at ${service.url}${path} after ${timeoutMs} ms`);
}

async function counters(invalidatorUrl: string): Promise<Record<string, number>> {
  const samples = parsePrometheusText(await (await fetch(`${invalidatorUrl}/metrics`)).text());
  const sum = (name: string) => sumOf(samples, name) ?? 0;
  return {
    applied: sum(INVALIDATOR_METRIC_NAMES.applied),
    deadLettered: sum(INVALIDATOR_METRIC_NAMES.deadLettered),
    keys: sum(INVALIDATOR_METRIC_NAMES.keys),
    purges: sumOf(samples, INVALIDATOR_METRIC_NAMES.purges, (l) => l.outcome === 'purged') ?? 0,
  };
}

/** Debezium's replication slot, publication and topic prefix for the catalog's products table. */
const CDC_SLOT = 'dev_catalog_products';

/** The catalog team's registry token (REGISTRY_TOKENS below): the team declares its own table. */
const CATALOG_TOKEN = 'dev-catalog-token';

/**
 * Change data capture of the catalog's products table: REPLICA IDENTITY FULL and a publication
 * (what the table's owner does once), the catalog team's source declaration of the change topic
 * in the registry, one Kafka Connect worker with Debezium's connector on it. Returns the topic the
 * row changes go to.
 */
async function startCdc(a: StackAddresses, registryUrl: string): Promise<string> {
  const pg = new Client({ connectionString: a.postgresUrl });
  await pg.connect();
  try {
    await pg.query(`ALTER TABLE ${PRODUCTS_TABLE} REPLICA IDENTITY FULL`);
    const exists = await pg.query('SELECT 1 FROM pg_publication WHERE pubname = $1', [CDC_SLOT]);
    if (exists.rowCount === 0) await pg.query(`CREATE PUBLICATION ${CDC_SLOT} FOR TABLE ${PRODUCTS_TABLE}`);
  } finally {
    await pg.end();
  }
  const topic = `${CDC_SLOT}.public.${PRODUCTS_TABLE}`;
  await createTopics(a.kafkaBrokers.split(','), [{ topic, numPartitions: 3 }]);
  // Which table is which entity type: the catalog team says so in the registry (no CDC_* settings on the invalidator).
  const declared = await fetch(`${registryUrl}/sources/${encodeURIComponent(topic)}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${CATALOG_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(PRODUCTS_CDC_DECLARATION),
  });
  if (!declared.ok) throw new Error(`registry refused the catalog's source declaration: ${declared.status} ${await declared.text()}`);
  const connect = await startStackConnect(STACK);
  const config = tableConnectorConfig({
    port: Number(new URL(a.postgresUrl).port),
    database: 'postgres',
    table: PRODUCTS_TABLE,
    slot: CDC_SLOT,
    publication: CDC_SLOT,
  });
  await registerConnector(connect, 'catalog-products-cdc', config);
  return topic;
}

async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.error('\nstopping: traffic, services, dashboard, stack');
  await traffic?.stop().catch(() => undefined);
  await Promise.all(
    services.map(
      (s) =>
        new Promise<void>((resolve) => {
          if (s.child.exitCode !== null) return resolve();
          const timer = setTimeout(() => s.child.kill('SIGKILL'), 20_000);
          s.child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          s.child.kill('SIGTERM');
        }),
    ),
  );
  await down(STACK);
  console.error('stopped');
  process.exit(code);
}

async function main(): Promise<void> {
  process.once('SIGINT', () => void shutdown(0));
  process.once('SIGTERM', () => void shutdown(0));
  console.error('[dev] starting Kafka + Redis (first run downloads the Kafka jars from Maven Central)');
  // PostgreSQL: the example catalog's products and outbox table.
  const state = await up({ name: STACK, ownerPid: process.pid, cluster: false, postgres: true });
  const a = addresses(state);
  const [registryPort, invalidatorPort, catalogPort, storefrontPort, lagMonitorPort, cdcInvalidatorPort, cdcLagMonitorPort] =
    await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort(), freePort(), freePort()]);
  const common = { KAFKA_BROKERS: a.kafkaBrokers };

  const registry = startService('registry', 'apps/registry/src/main.ts', registryPort, {
    ...common,
    HTTP_PORT: String(registryPort),
    REGISTRY_TOKENS: `${DEV_TOKEN}=*,${CATALOG_TOKEN}=catalog`,
    REGISTRY_SEED_FILE: join(ROOT, 'examples/mappings/catalog.yaml'),
    // The sample shop declares no keyspaces: the old bootstrap rule (any team may write any key).
    KEYSPACES_REQUIRED: 'false',
  });
  await waitHealthy(registry, '/health/ready');
  // The storefront's pages in Varnish, purged by surrogate key (examples/mappings/storefront-pages.yaml).
  for (const mapping of loadMappingsYamlFile(join(ROOT, 'examples/mappings/storefront-pages.yaml'))) {
    const { id, ...body } = mapping as typeof mapping & { id: string };
    const res = await fetch(`${registry.url}/mappings/${encodeURIComponent(id)}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${DEV_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`registry refused mapping ${id}: ${res.status} ${await res.text()}`);
  }
  let varnish: VarnishInfo | undefined;
  try {
    varnish = await startStackVarnish(STACK, `127.0.0.1:${storefrontPort}`);
  } catch (error) {
    console.error(`[dev] no Varnish in front of the storefront (${(error as Error).message}); purges off`);
  }
  const invalidator = startService('invalidator', 'apps/invalidator/src/main.ts', invalidatorPort, {
    ...common,
    REDIS_URL: a.redisUrl,
    HTTP_PORT: String(invalidatorPort),
    MAPPINGS_SOURCE: 'kafka',
    KEYSPACES_REQUIRED: 'false',
    ...(varnish ? { PURGE_TARGETS: `varnish:http://127.0.0.1:${varnish.port}` } : {}),
  });
  const catalog = startService('catalog', 'examples/catalog/src/main.ts', catalogPort, {
    ...common,
    HTTP_PORT: String(catalogPort),
    DATABASE_URL: a.postgresUrl, // the stack's own server (its `postgres` database): gone with the stack
  });
  // The same products also through change data capture: a second invalidator (its own group)
  // applies catalog_products' row changes as Debezium reads them from the WAL. Both paths carry
  // the row version, so whichever arrives second is a no-op; the dashboard shows each source.
  let cdcInvalidator: Service | undefined;
  let cdcLagMonitor: Service | undefined;
  try {
    await waitHealthy(catalog, '/health'); // the catalog creates its tables at start
    const cdcTopic = await startCdc(a, registry.url);
    cdcInvalidator = startService('invalidator-cdc', 'apps/invalidator/src/main.ts', cdcInvalidatorPort, {
      ...common,
      REDIS_URL: a.redisUrl,
      HTTP_PORT: String(cdcInvalidatorPort),
      MAPPINGS_SOURCE: 'kafka',
      KEYSPACES_REQUIRED: 'false',
      KAFKA_GROUP_ID: 'cache-invalidator-cdc',
      KAFKA_TOPIC: cdcTopic,
      // the table's declaration comes from the registry, followed live (MAPPINGS_SOURCE=kafka)
      EVENT_FORMAT: 'debezium',
      ...(varnish ? { PURGE_TARGETS: `varnish:http://127.0.0.1:${varnish.port}` } : {}),
    });
    // One lag monitor per consumer group (its metrics carry the group label): the CDC group's lag on Debezium's topic.
    cdcLagMonitor = startService('lag-monitor-cdc', 'apps/lag-monitor/src/main.ts', cdcLagMonitorPort, {
      ...common,
      HTTP_PORT: String(cdcLagMonitorPort),
      LAG_GROUP_ID: 'cache-invalidator-cdc',
      LAG_TOPICS: cdcTopic,
      INVALIDATOR_METRICS_URLS: `${cdcInvalidator.url}/metrics`,
    });
  } catch (error) {
    console.error(`[dev] no change data capture (${(error as Error).message.split('\n')[0]}); the event path alone`);
  }
  const storefront = startService('storefront', 'examples/storefront/src/main.ts', storefrontPort, {
    REDIS_URL: a.redisUrl,
    CATALOG_URL: catalog.url,
    HTTP_PORT: String(storefrontPort),
  });
  // The operators' app: lag of the invalidators' group, and their /metrics for the dashboard's figures.
  const lagMonitor = startService('lag-monitor', 'apps/lag-monitor/src/main.ts', lagMonitorPort, {
    ...common,
    HTTP_PORT: String(lagMonitorPort),
    INVALIDATOR_METRICS_URLS: [invalidator, ...(cdcInvalidator ? [cdcInvalidator] : [])].map((i) => `${i.url}/metrics`).join(','),
    // the read service's cache-client metrics: the dashboard's hit rate per key family (with the L1 share)
    CACHE_METRICS_URLS: `${storefront.url}/metrics`,
  });
  await Promise.all([
    waitHealthy(invalidator, '/health/ready'),
    ...(cdcInvalidator ? [waitHealthy(cdcInvalidator, '/health/ready')] : []),
    waitHealthy(catalog, '/health'),
    waitHealthy(storefront, '/health'),
    waitHealthy(lagMonitor, '/health/live'),
    ...(cdcLagMonitor ? [waitHealthy(cdcLagMonitor, '/health/live')] : []),
  ]);

  let last: TrafficSummary | undefined;
  traffic = startTraffic({
    catalogUrl: catalog.url,
    storefrontUrl: storefront.url,
    writesPerSecond: 5,
    readsPerSecond: 50,
    onSummary: (s) => (last = s),
  });

  console.log(`
  Dashboard (lag, throughput, DLQ, purges)    ${lagMonitor.url}/dashboard
  Lag JSON / Prometheus                       ${lagMonitor.url}/lag   ${lagMonitor.url}/metrics
  Invalidator health / metrics                ${invalidator.url}/health/ready   ${invalidator.url}/metrics
  CDC invalidator (Debezium, catalog_products) ${cdcInvalidator ? `${cdcInvalidator.url}/health/ready   ${cdcInvalidator.url}/metrics` : 'not running'}
  CDC group's lag dashboard                   ${cdcLagMonitor ? `${cdcLagMonitor.url}/dashboard` : 'not running'}
  Registry API + OpenAPI                      ${registry.url}/mappings   ${registry.url}/docs   (token: ${DEV_TOKEN})
  Example catalog (write service) + OpenAPI   ${catalog.url}/products   ${catalog.url}/docs
  Example storefront (read service)           ${storefront.url}/products/<id>
  Storefront through Varnish (xkey purges)    ${varnish ? `http://127.0.0.1:${varnish.port}/products/<id>   (X-Cache HIT/MISS, Age)` : 'not running (install varnish + varnish-modules)'}
  Kafka / Redis / PostgreSQL                  ${a.kafkaBrokers}   ${a.redisUrl}   ${a.postgresUrl}
  Ctrl-C stops everything.
`);
  const duration = Number(process.env.DEV_DURATION_SECONDS ?? 0);
  if (duration > 0) setTimeout(() => void shutdown(0), duration * 1000).unref();
  setInterval(() => {
    counters(invalidator.url)
      .then((c) => {
        const t = last;
        const traffic = t
          ? `writes ${t.writes} reads ${t.reads} stale reads ${t.staleReads} errors ${t.writeErrors + t.readErrors}`
          : 'traffic starting';
        process.stdout.write(
          `[live] events applied ${c.applied}  keys ${c.keys}  dead-lettered ${c.deadLettered}  purges ${c.purges}  |  ${traffic}\n`,
        );
      })
      .catch(() => undefined);
  }, 2000).unref();
}

main().catch(async (error: unknown) => {
  console.error('[dev] failed:', error instanceof Error ? error.message : error);
  await shutdown(1);
});
