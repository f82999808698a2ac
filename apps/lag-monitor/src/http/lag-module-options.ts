// Options of LagModule.forRoot and startLagServer.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { LagMonitorOptions } from '@app/lag';

export const LAG_MODULE_OPTIONS = Symbol('LAG_MODULE_OPTIONS');

export interface LagModuleOptions extends LagMonitorOptions {
  /** The invalidators' /metrics URLs, scraped for throughput, dead letters, latency and mappings. */
  invalidatorMetricsUrls?: string[];
  /** Readers' /metrics URLs (cache-client counters), scraped for the hit rate per key family. */
  cacheMetricsUrls?: string[];
  /** The registry's own mapping count; when absent the invalidators' invalidator_mappings is shown. */
  mappingCount?: () => number | Promise<number>;
  /** Serve GET /metrics from `registry`. Default true; false when the host app already serves it. */
  serveMetrics?: boolean;
  /** Where the lag metrics are registered. Default metricsRegistry(). */
  registry?: Registry;
  /** How often the dashboard page polls. Default 1000 ms. */
  dashboardPollMs?: number;
  /** Window of the throughput rate and latency quantiles. Default 15 000 ms. */
  invalidatorWindowMs?: number;
  /** Page title. Default "Consumer lag · <groupId>". */
  title?: string;
  /** Where the monitor and scraper log. Default: pino loggers named lag-monitor and invalidator-scraper. */
  logger?: Logger;
}
