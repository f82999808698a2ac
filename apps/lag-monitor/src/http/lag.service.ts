// Runs the lag monitor and the invalidator scraper for the life of the Nest app, exports the
// lag metrics, and assembles what the controllers serve.
import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { DashboardData, MappingCount } from '../dashboard/dashboard-data';
import { InvalidatorScraper } from '../dashboard/invalidator-scraper';
import { computeFamilyFigures, computeOutcomeRates } from '../dashboard/cache-figures';
import { computePurgeFigures } from '../dashboard/purge-figures';
import { INVALIDATOR_METRIC_NAMES } from '@app/telemetry';
import { exportLagMetrics, LagHistoryView, LagMonitor, LagSnapshot } from '@app/lag';
import { createLogger, metricsRegistry } from '@app/telemetry';
import { LAG_MODULE_OPTIONS, LagModuleOptions } from './lag-module-options';

export interface LagReport extends LagSnapshot {
  intervalMs: number;
  windowMs: number;
  stopAfterMs: number;
  history: LagHistoryView;
}

@Injectable()
export class LagService implements OnModuleInit, OnModuleDestroy {
  readonly monitor: LagMonitor;
  readonly scraper: InvalidatorScraper;
  /** The readers' /metrics (cache-client counters), scraped like the invalidators'. */
  readonly cacheScraper: InvalidatorScraper;
  readonly registry: Registry;
  private readonly log: Logger;
  private detachMetrics: (() => void) | undefined;

  constructor(@Inject(LAG_MODULE_OPTIONS) private readonly options: LagModuleOptions) {
    this.log = options.logger ?? createLogger('lag-service');
    this.monitor = new LagMonitor(options, { logger: options.logger });
    this.registry = options.registry ?? metricsRegistry();
    this.scraper = new InvalidatorScraper({
      urls: options.invalidatorMetricsUrls ?? [],
      intervalMs: this.monitor.options.intervalMs,
      windowMs: options.invalidatorWindowMs,
      historyMs: this.monitor.options.historyMs,
      logger: options.logger,
    });
    this.cacheScraper = new InvalidatorScraper({
      urls: options.cacheMetricsUrls ?? [],
      intervalMs: this.monitor.options.intervalMs,
      windowMs: options.invalidatorWindowMs,
      historyMs: this.monitor.options.historyMs,
      logger: options.logger,
    });
  }

  onModuleInit(): void {
    this.detachMetrics = exportLagMetrics(this.registry, this.monitor);
    this.monitor.start();
    this.scraper.start();
    this.cacheScraper.start();
  }

  async onModuleDestroy(): Promise<void> {
    this.detachMetrics?.();
    await Promise.all([this.monitor.stop(), this.scraper.stop(), this.cacheScraper.stop()]);
  }

  pageSettings(): { pollMs: number; title: string } {
    return { pollMs: this.options.dashboardPollMs ?? 1_000, title: this.options.title ?? `Consumer lag · ${this.monitor.options.groupId}` };
  }

  /** The latest snapshot; the first request before any round waits for one. */
  async snapshot(): Promise<LagSnapshot> {
    return this.monitor.latest() ?? this.monitor.poll();
  }

  async report(sinceMs?: number): Promise<LagReport> {
    const snapshot = await this.snapshot();
    const { intervalMs, windowMs, stopAfterMs } = this.monitor.options;
    return { ...snapshot, intervalMs, windowMs, stopAfterMs, history: this.monitor.historyView(sinceMs) };
  }

  async dashboardData(sinceMs?: number): Promise<DashboardData> {
    const snapshot = await this.snapshot();
    return {
      now: snapshot.at,
      intervalMs: this.monitor.options.intervalMs,
      historyMs: this.monitor.options.historyMs,
      group: snapshot.group,
      partitions: snapshot.partitions,
      errors: snapshot.errors,
      history: this.monitor.historyView(sinceMs),
      invalidator: {
        sources: this.scraper.sourceStates(),
        figures: this.scraper.figures(),
        throughput: this.scraper.throughputHistory(sinceMs),
        keysPerSecondByOutcome: this.scraper.compute((scrapes, now, windowMs) =>
          computeOutcomeRates(scrapes, now, windowMs, INVALIDATOR_METRIC_NAMES.keys),
        ),
        purges: this.scraper.compute((scrapes, now, windowMs) => computePurgeFigures(scrapes, now, windowMs)),
      },
      cache: {
        sources: this.cacheScraper.sourceStates(),
        families: this.cacheScraper.compute(computeFamilyFigures),
        windowSeconds: (this.options.invalidatorWindowMs ?? 15_000) / 1000,
      },
      mappings: await this.mappings(),
    };
  }

  private async mappings(): Promise<MappingCount> {
    if (this.options.mappingCount) {
      try {
        return { count: await this.options.mappingCount(), source: 'registry' };
      } catch (error) {
        this.log.warn({ err: error }, "mappingCount() failed; the dashboard shows the invalidators' figure instead");
      }
    }
    const fromInvalidator = this.scraper.figures().mappings;
    return fromInvalidator === null ? { count: null, source: null } : { count: fromInvalidator, source: 'invalidator' };
  }
}
