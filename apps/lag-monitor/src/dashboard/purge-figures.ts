// HTTP cache purges from scrapes of the invalidators' /metrics:
// invalidator_purges_total{target,outcome} per second over the window, by outcome and per
// target, summed across instances (a counter that went down is a restart, counted from 0).
// Outcomes (apps/invalidator/src/sinks/purge.ts): purged = items purged, retried = failed
// attempts, failed = items dead-lettered PURGE_FAILED, refused = items refused before any request
// (a URL outside the allowed hosts, a tag that is not one whole key).
import { INVALIDATOR_METRIC_NAMES } from '@app/telemetry';
import type { Scrape } from './invalidator-figures';

export const PURGE_OUTCOMES = ['purged', 'retried', 'failed', 'refused'] as const;

export interface TargetPurges {
  /** The target label, e.g. `varnish:http://127.0.0.1:6081`. */
  target: string;
  perSecondByOutcome: Record<string, number>;
}

export interface PurgeFigures {
  /**
   * Purges per second by outcome, all instances and targets. Once an instance has two scrapes
   * in the window, purged, retried, failed and refused are always there (0 while the counter is absent:
   * no PURGE_TARGETS, or nothing purged yet); {} before that.
   */
  perSecondByOutcome: Record<string, number>;
  /** The same per target (only targets whose counter exists), sorted by target. */
  byTarget: TargetPurges[];
}

const SEP = '\u0000';

export function computePurgeFigures(
  scrapesPerInstance: Scrape[][],
  now: number,
  windowMs: number,
  metric: string = INVALIDATOR_METRIC_NAMES.purges,
): PurgeFigures {
  // Records without a prototype: target and outcome labels are any string ('constructor' included).
  const byOutcome: Record<string, number> = Object.create(null) as Record<string, number>;
  const perTarget = new Map<string, Record<string, number>>();
  let measured = false;
  for (const all of scrapesPerInstance) {
    const scrapes = all.filter((s) => s.at >= now - windowMs);
    if (scrapes.length < 2) continue;
    const seconds = (scrapes[scrapes.length - 1].at - scrapes[0].at) / 1000;
    if (seconds <= 0) continue;
    measured = true;
    const series = new Set<string>();
    for (const s of scrapes)
      for (const x of s.samples) if (x.name === metric && x.labels.outcome) series.add(`${x.labels.target ?? ''}${SEP}${x.labels.outcome}`);
    const valueOf = (s: Scrape, target: string, outcome: string) =>
      s.samples
        .filter((x) => x.name === metric && (x.labels.target ?? '') === target && x.labels.outcome === outcome)
        .reduce((n, x) => n + x.value, 0);
    for (const key of series) {
      const [target, outcome] = key.split(SEP);
      let inc = 0;
      for (let i = 1; i < scrapes.length; i++) {
        const before = valueOf(scrapes[i - 1], target, outcome);
        const after = valueOf(scrapes[i], target, outcome);
        inc += after < before ? after : after - before;
      }
      const perSecond = inc / seconds;
      byOutcome[outcome] = (byOutcome[outcome] ?? 0) + perSecond;
      const t = perTarget.get(target) ?? (Object.create(null) as Record<string, number>);
      t[outcome] = (t[outcome] ?? 0) + perSecond;
      perTarget.set(target, t);
    }
  }
  if (measured) for (const o of PURGE_OUTCOMES) byOutcome[o] ??= 0;
  return {
    perSecondByOutcome: byOutcome,
    byTarget: [...perTarget.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([target, perSecondByOutcome]) => ({ target, perSecondByOutcome })),
  };
}
