// Turns scrapes of the invalidators' /metrics into the dashboard's figures, the way
// Prometheus would: rate() and increase() over a window (counter resets handled), a
// histogram quantile over the window's increase, each summed across instances.
import { histogramQuantile, INVALIDATOR_METRIC_NAMES as INVALIDATOR_METRICS, PromSample, sumOf } from '@app/telemetry';

export interface Scrape {
  at: number;
  samples: PromSample[];
}

export interface InvalidatorFigures {
  /** Seconds the rates and quantiles look back over. */
  windowSeconds: number;
  /** Messages read per second, all instances. Null until two scrapes of one instance exist. */
  eventsConsumedPerSecond: number | null;
  /** Events applied to Redis per second. */
  eventsAppliedPerSecond: number | null;
  /** Messages sent to the dead-letter topic since the instances started. */
  deadLettered: number | null;
  deadLetteredByReason: Record<string, number>;
  deadLetteredPerSecond: number | null;
  /** Event age when applied (occurredAt -> effect in Redis), quantiles over the window. */
  applyLatencyP50Seconds: number | null;
  applyLatencyP99Seconds: number | null;
  /** Time to apply one chunk to Redis, quantiles over the window. */
  batchApplyP50Seconds: number | null;
  batchApplyP99Seconds: number | null;
  /** Mappings loaded (the largest figure across instances). */
  mappings: number | null;
  /**
   * Throughput per source (invalidator_source_info: "events" for entity.updated, "cdc:<entity
   * type>" for a Debezium table), so CDC-driven invalidations are told apart from published ones.
   */
  bySource: SourceFigures[];
}

export interface SourceFigures {
  source: string;
  instances: number;
  consumedPerSecond: number | null;
  appliedPerSecond: number | null;
}

/** The source an instance reports (an older invalidator without the gauge reads entity.updated events). */
function sourceOf(scrapes: Scrape[]): string {
  const info = scrapes[scrapes.length - 1]?.samples.find((s) => s.name === INVALIDATOR_METRICS.sourceInfo);
  return info?.labels.source || 'events';
}

/** Sum over matching series of the value in one scrape. */
function sum(scrape: Scrape, name: string, where?: (labels: Record<string, string>) => boolean): number | null {
  return sumOf(scrape.samples, name, where);
}

/** increase() of a counter across consecutive scrapes: a drop means a restart, counted from 0. */
function increase(scrapes: Scrape[], name: string, where?: (labels: Record<string, string>) => boolean): number | null {
  let total: number | null = null;
  for (let i = 1; i < scrapes.length; i++) {
    const before = sum(scrapes[i - 1], name, where);
    const after = sum(scrapes[i], name, where);
    if (after === null) continue;
    total = (total ?? 0) + (before === null || after < before ? after : after - before);
  }
  return total;
}

function inWindow(scrapes: Scrape[], now: number, windowMs: number): Scrape[] {
  return scrapes.filter((s) => s.at >= now - windowMs);
}

function add(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : a + b;
}

function rate(perInstance: Scrape[][], name: string): number | null {
  let total: number | null = null;
  for (const scrapes of perInstance) {
    if (scrapes.length < 2) continue;
    const inc = increase(scrapes, name);
    const seconds = (scrapes[scrapes.length - 1].at - scrapes[0].at) / 1000;
    if (inc !== null && seconds > 0) total = add(total, inc / seconds);
  }
  return total;
}

function quantiles(perInstance: Scrape[][], histogram: string): [number | null, number | null] {
  const bucketName = `${histogram}_bucket`;
  const les = new Set<string>();
  for (const scrapes of perInstance)
    for (const s of scrapes[scrapes.length - 1]?.samples ?? [])
      if (s.name === bucketName && s.labels.le !== undefined) les.add(s.labels.le);
  const buckets = [...les].map((le) => {
    let count = 0;
    for (const scrapes of perInstance) count += increase(scrapes, bucketName, (l) => l.le === le) ?? 0;
    return { le: le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le), count };
  });
  return [histogramQuantile(0.5, buckets), histogramQuantile(0.99, buckets)];
}

/** Figures from each instance's scrapes (oldest first), looking back windowMs from now. */
export function computeInvalidatorFigures(scrapesPerInstance: Scrape[][], now: number, windowMs: number): InvalidatorFigures {
  const windows = scrapesPerInstance.map((scrapes) => inWindow(scrapes, now, windowMs));
  const latest = scrapesPerInstance.flatMap((scrapes) => scrapes.slice(-1));

  const byReason: Record<string, number> = {};
  let deadLettered: number | null = null;
  let mappings: number | null = null;
  for (const scrape of latest) {
    for (const s of scrape.samples) {
      if (s.name === INVALIDATOR_METRICS.deadLettered) {
        const reason = s.labels.reason ?? 'unknown';
        byReason[reason] = (byReason[reason] ?? 0) + s.value;
        deadLettered = (deadLettered ?? 0) + s.value;
      } else if (s.name === INVALIDATOR_METRICS.mappings) {
        mappings = Math.max(mappings ?? 0, s.value);
      }
    }
    // An instance that has dead-lettered nothing exports no series for the labelled counter yet.
    if (deadLettered === null && scrape.samples.some((s) => s.name === INVALIDATOR_METRICS.consumed)) deadLettered = 0;
  }

  const [applyLatencyP50Seconds, applyLatencyP99Seconds] = quantiles(windows, INVALIDATOR_METRICS.eventAge);
  const [batchApplyP50Seconds, batchApplyP99Seconds] = quantiles(windows, INVALIDATOR_METRICS.applyDuration);
  const deadLetteredRate = rate(windows, INVALIDATOR_METRICS.deadLettered);
  return {
    windowSeconds: windowMs / 1000,
    eventsConsumedPerSecond: rate(windows, INVALIDATOR_METRICS.consumed),
    eventsAppliedPerSecond: rate(windows, INVALIDATOR_METRICS.applied),
    deadLettered,
    deadLetteredByReason: byReason,
    deadLetteredPerSecond: deadLetteredRate ?? (deadLettered !== null && windows.some((w) => w.length >= 2) ? 0 : null),
    applyLatencyP50Seconds,
    applyLatencyP99Seconds,
    batchApplyP50Seconds,
    batchApplyP99Seconds,
    mappings,
    bySource: bySource(scrapesPerInstance, windows),
  };
}

function bySource(scrapesPerInstance: Scrape[][], windows: Scrape[][]): SourceFigures[] {
  const groups = new Map<string, Scrape[][]>();
  scrapesPerInstance.forEach((scrapes, i) => {
    if (scrapes.length === 0) return;
    const source = sourceOf(scrapes);
    groups.set(source, [...(groups.get(source) ?? []), windows[i]]);
  });
  return [...groups.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([source, instances]) => ({
      source,
      instances: instances.length,
      consumedPerSecond: rate(instances, INVALIDATOR_METRICS.consumed),
      appliedPerSecond: rate(instances, INVALIDATOR_METRICS.applied),
    }));
}
