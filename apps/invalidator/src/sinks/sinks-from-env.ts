// The other sinks, built from the invalidator's typed config (LOADER_* and PURGE_* are
// validated by loadInvalidatorConfig with the rest: a bad value stops startup naming the variable).
// Metrics: invalidator_loader_warms_total{outcome}, invalidator_purges_total{target,outcome},
// invalidator_namespace_bumps_total{outcome} (names in INVALIDATOR_METRIC_NAMES).
import { Counter, Registry } from 'prom-client';
import { INVALIDATOR_METRIC_NAMES, Logger } from '@app/telemetry';
import { allowedHosts, InvalidatorConfig, loaderMaxPendingPerTeam, purgeTargetsConfig } from '../config/invalidator.config';
import { LOADER_WARM_OUTCOMES, LoaderCache, LoaderWarmer } from './loader-warm';
import { purgeAdapters, PurgeSink } from './purge';

export interface OtherSinksSetup {
  loader: LoaderWarmer;
  purge: PurgeSink;
  namespaceBumps: Counter<'outcome'>;
}

type SinksConfig = Pick<
  InvalidatorConfig,
  | 'LOADER_TIMEOUT_MS'
  | 'LOADER_RETRIES'
  | 'LOADER_BACKOFF_MS'
  | 'LOADER_CONCURRENCY_PER_MAPPING'
  | 'LOADER_MAX_PENDING'
  | 'LOADER_MAX_PENDING_PER_TEAM'
  | 'LOADER_MAX_BODY_BYTES'
  | 'LOADER_ALLOWED_HOSTS'
  | 'PURGE_ALLOWED_HOSTS'
  | 'LOADER_BREAKER_FAILURES'
  | 'LOADER_BREAKER_OPEN_MS'
  | 'PURGE_TARGETS'
  | 'PURGE_FASTLY_TOKEN'
  | 'PURGE_CLOUDFLARE_TOKEN'
  | 'PURGE_SOFT'
  | 'PURGE_DEADLINE_MS'
  | 'PURGE_TIMEOUT_MS'
  | 'PURGE_BACKOFF_MS'
  | 'PURGE_BREAKER_FAILURES'
  | 'PURGE_BREAKER_OPEN_MS'
>;

export function otherSinksFromConfig(config: SinksConfig, cache: LoaderCache, registry: Registry, log: Logger): OtherSinksSetup {
  // LOADER_ALLOWED_HOSTS and PURGE_ALLOWED_HOSTS, parsed once for both sinks
  const hosts = allowedHosts(config);
  const registers = [registry];
  const counter = <L extends string>(name: string, help: string, labelNames: L[]): Counter<L> =>
    (registry.getSingleMetric(name) as Counter<L> | undefined) ?? new Counter({ name, help, labelNames, registers });
  const loaderWarms = counter(
    INVALIDATOR_METRIC_NAMES.loaderWarms,
    `Keys loaded from their loader URL after the commit and filled through a lease, by outcome (${LOADER_WARM_OUTCOMES.join(', ')})`,
    ['outcome'],
  );
  for (const o of LOADER_WARM_OUTCOMES) loaderWarms.inc({ outcome: o }, 0);
  const purges = counter(
    INVALIDATOR_METRIC_NAMES.purges,
    'HTTP cache purges by target and outcome (purged: items, retried: failed requests sent again, failed: items dead-lettered PURGE_FAILED, refused: items never sent, also dead-lettered PURGE_FAILED)',
    ['target', 'outcome'],
  );
  const namespaceBumps = counter(
    INVALIDATOR_METRIC_NAMES.namespaceBumps,
    'Namespace bumps by outcome (bumped, skipped: duplicate or older replay)',
    ['outcome'],
  );
  let lastRefusedWarn = 0;
  const loader = new LoaderWarmer(
    cache,
    {
      timeoutMs: config.LOADER_TIMEOUT_MS,
      retries: config.LOADER_RETRIES,
      backoffMs: config.LOADER_BACKOFF_MS,
      concurrencyPerMapping: config.LOADER_CONCURRENCY_PER_MAPPING,
      maxPending: config.LOADER_MAX_PENDING,
      maxPendingPerShare: loaderMaxPendingPerTeam(config),
      maxBodyBytes: config.LOADER_MAX_BODY_BYTES,
      allowList: hosts.loader,
      breakerFailures: config.LOADER_BREAKER_FAILURES,
      breakerOpenMs: config.LOADER_BREAKER_OPEN_MS,
    },
    (outcome, warm, detail) => {
      loaderWarms.inc({ outcome });
      // A refused URL is a mapping pointing at an internal host: worth a warning (at most every 10 s).
      if (outcome === 'refused' && Date.now() - lastRefusedWarn >= 10_000) {
        lastRefusedWarn = Date.now();
        log.warn(
          { key: warm.key, url: warm.loaderUrl, team: warm.team, mappingId: warm.mappingId, detail },
          'loader URL refused: internal host not in LOADER_ALLOWED_HOSTS; the key stays invalidated',
        );
        return;
      }
      if (outcome !== 'warmed' && outcome !== 'skipped-older' && outcome !== 'skipped-cached')
        log.debug(
          { key: warm.key, url: warm.loaderUrl, team: warm.team, outcome, detail },
          'loader warm did not land: the key stays invalidated',
        );
    },
  );
  const purge = new PurgeSink(
    purgeAdapters(purgeTargetsConfig(config as InvalidatorConfig)),
    {
      deadlineMs: config.PURGE_DEADLINE_MS,
      timeoutMs: config.PURGE_TIMEOUT_MS,
      backoffMs: config.PURGE_BACKOFF_MS,
      allowedHosts: hosts.purge,
      breakerFailures: config.PURGE_BREAKER_FAILURES,
      breakerOpenMs: config.PURGE_BREAKER_OPEN_MS,
    },
    (target, outcome, n) => purges.inc({ target, outcome }, n),
  );
  return { loader, purge, namespaceBumps };
}
