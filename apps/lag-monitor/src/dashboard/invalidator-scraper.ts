// Scrapes the invalidators' /metrics every intervalMs (server-side, so the browser never
// talks to the invalidators) and keeps the scrapes of the last window per instance.
import type { Logger } from 'pino';
import { createLogger, parsePrometheusText } from '@app/telemetry';
import { computeInvalidatorFigures, InvalidatorFigures, Scrape } from './invalidator-figures';

export interface InvalidatorSource {
  url: string;
  up: boolean;
  /** Epoch ms of the last successful scrape. */
  scrapedAt: number | null;
  error?: string;
}

export interface InvalidatorScraperOptions {
  urls: string[];
  intervalMs: number;
  /** Window of the rates and quantiles. Default 15 000 ms. */
  windowMs?: number;
  /** How long the throughput series is kept. Default 600 000 ms. */
  historyMs?: number;
  clock?: () => number;
  logger?: Logger;
}

export interface ThroughputHistory {
  at: number[];
  eventsPerSecond: (number | null)[];
}

export class InvalidatorScraper {
  private readonly scrapes: Scrape[][];
  private readonly sources: InvalidatorSource[];
  private readonly windowMs: number;
  private readonly historyMs: number;
  private readonly clock: () => number;
  private readonly log: Logger;
  private throughput: { at: number; eventsPerSecond: number | null }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private inFlight: Promise<void> | undefined;

  constructor(private readonly options: InvalidatorScraperOptions) {
    this.scrapes = options.urls.map(() => []);
    this.sources = options.urls.map((url) => ({ url, up: false, scrapedAt: null }));
    this.windowMs = options.windowMs ?? 15_000;
    this.historyMs = options.historyMs ?? 600_000;
    this.clock = options.clock ?? Date.now;
    this.log = options.logger ?? createLogger('invalidator-scraper');
  }

  start(): void {
    if (this.running || this.options.urls.length === 0) return;
    this.running = true;
    const loop = async (): Promise<void> => {
      const started = this.clock();
      await this.scrapeOnce();
      if (!this.running) return;
      this.timer = setTimeout(() => void loop(), Math.max(0, this.options.intervalMs - (this.clock() - started)));
      this.timer.unref();
    };
    void loop();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    await this.inFlight;
  }

  /** One scrape of every URL now (joins the one in flight, if any). */
  scrapeOnce(): Promise<void> {
    if (!this.inFlight) this.inFlight = this.round().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  figures(): InvalidatorFigures {
    return computeInvalidatorFigures(this.scrapes, this.clock(), this.windowMs);
  }

  /** Other figures from the same scrapes (per instance, oldest first), over the same window. */
  compute<T>(fn: (scrapesPerInstance: Scrape[][], now: number, windowMs: number) => T): T {
    return fn(this.scrapes, this.clock(), this.windowMs);
  }

  sourceStates(): InvalidatorSource[] {
    return this.sources.map((s) => ({ ...s }));
  }

  throughputHistory(sinceMs?: number): ThroughputHistory {
    const points = sinceMs === undefined ? this.throughput : this.throughput.filter((p) => p.at > sinceMs);
    return { at: points.map((p) => p.at), eventsPerSecond: points.map((p) => p.eventsPerSecond) };
  }

  private async round(): Promise<void> {
    await Promise.all(this.options.urls.map((url, i) => this.scrape(url, i)));
    const now = this.clock();
    this.throughput.push({ at: now, eventsPerSecond: this.figures().eventsConsumedPerSecond });
    this.throughput = this.throughput.filter((p) => p.at >= now - this.historyMs);
  }

  private async scrape(url: string, index: number): Promise<void> {
    const source = this.sources[index];
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(Math.max(500, Math.min(this.options.intervalMs, 5_000))) });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const samples = parsePrometheusText(await response.text());
      const at = this.clock();
      // Keep one scrape older than the window so a rate always spans the whole window.
      const kept = this.scrapes[index].filter((s) => s.at >= at - this.windowMs * 2);
      kept.push({ at, samples });
      this.scrapes[index] = kept;
      if (!source.up) this.log.info({ url }, 'invalidator metrics reachable');
      source.up = true;
      source.scrapedAt = at;
      delete source.error;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (source.up || source.error === undefined)
        this.log.warn({ url, error: message }, 'cannot scrape invalidator metrics; its figures are left out until it answers');
      source.up = false;
      source.error = message;
    }
  }
}
