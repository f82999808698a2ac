// The other sinks' configuration (issue 16), read from the environment; every problem names its
// variable. Metrics: invalidator_loader_warms_total{outcome}, invalidator_purges_total{target,outcome},
// invalidator_namespace_bumps_total{outcome}.
import { Counter, Registry } from 'prom-client';
import type { Logger } from '@app/telemetry';
import { LOADER_WARM_OUTCOMES, LoaderWarmer, WarmWriter } from './loader-warm';
import { purgeAdapters, PurgeSink } from './purge';

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min) throw new Error(`${name} must be an integer >= ${min} (got "${raw}")`);
  return Number(raw);
}

export interface OtherSinksSetup {
  loader: LoaderWarmer;
  purge: PurgeSink;
  namespaceBumps: Counter<'outcome'>;
}

export function otherSinksFromEnv(writer: WarmWriter, registry: Registry, log: Logger, env: NodeJS.ProcessEnv = process.env): OtherSinksSetup {
  const registers = [registry];
  const loaderWarms = new Counter({ name: 'invalidator_loader_warms_total', help: 'Keys warmed from their loader URL after the commit, by outcome (warmed, skipped-older, failed, circuit-open, timeout)', labelNames: ['outcome'], registers });
  for (const o of LOADER_WARM_OUTCOMES) loaderWarms.inc({ outcome: o }, 0);
  const purges = new Counter({ name: 'invalidator_purges_total', help: 'HTTP cache purge requests by target and outcome (purged: events, retried: attempts, failed: events dead-lettered PURGE_FAILED)', labelNames: ['target', 'outcome'], registers });
  const namespaceBumps = new Counter({ name: 'invalidator_namespace_bumps_total', help: 'Namespace bumps by outcome (bumped, skipped: duplicate or older replay)', labelNames: ['outcome'], registers });
  const loader = new LoaderWarmer(
    writer,
    {
      timeoutMs: int(env, 'LOADER_TIMEOUT_MS', 2_000, 1),
      retries: int(env, 'LOADER_RETRIES', 2),
      backoffMs: int(env, 'LOADER_BACKOFF_MS', 100, 1),
      concurrencyPerMapping: int(env, 'LOADER_CONCURRENCY_PER_MAPPING', 8, 1),
      maxPending: int(env, 'LOADER_MAX_PENDING', 10_000, 1),
      breakerFailures: int(env, 'LOADER_BREAKER_FAILURES', 5, 1),
      breakerOpenMs: int(env, 'LOADER_BREAKER_OPEN_MS', 10_000, 1),
    },
    (outcome, warm, detail) => {
      loaderWarms.inc({ outcome });
      if (outcome !== 'warmed' && outcome !== 'skipped-older') log.debug({ key: warm.key, url: warm.loaderUrl, outcome, detail }, 'loader warm did not land: the key stays invalidated');
    },
  );
  let adapters;
  try {
    adapters = purgeAdapters({ targets: env.PURGE_TARGETS ?? '', fastlyToken: env.PURGE_FASTLY_TOKEN, cloudflareToken: env.PURGE_CLOUDFLARE_TOKEN, softPurge: env.PURGE_SOFT === undefined ? undefined : env.PURGE_SOFT === 'true' });
  } catch (error) {
    throw new Error((error as Error).message);
  }
  const purge = new PurgeSink(
    adapters,
    { deadlineMs: int(env, 'PURGE_DEADLINE_MS', 5_000, 1), timeoutMs: int(env, 'PURGE_TIMEOUT_MS', 2_000, 1), backoffMs: int(env, 'PURGE_BACKOFF_MS', 100, 1) },
    (target, outcome, n) => purges.inc({ target, outcome }, n),
  );
  return { loader, purge, namespaceBumps };
}
