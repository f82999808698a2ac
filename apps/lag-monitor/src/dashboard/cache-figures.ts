// Read-side figures from scrapes of the readers' /metrics (cache-client counters):
// per key family over the window, reads per second and the share answered from the cache
// (L1 hits + Redis hits + stale served), and the L1 share alone. Summed across instances.
import type { Scrape } from './invalidator-figures';

export const FAMILY_READS = 'cache_client_family_reads_total';
const CACHED = new Set(['l1-hit', 'hit', 'stale']);

export interface FamilyFigures {
  family: string;
  readsPerSecond: number;
  /** (l1-hit + hit + stale) / all reads in the window; null without reads. */
  hitRate: number | null;
  l1HitRate: number | null;
}

const SEP = '\u0000';

/** One scrape's family-read counters summed per family and result (one pass; keys `family\0result`). */
function familyCounters(scrape: Scrape): Map<string, number> {
  const out = new Map<string, number>();
  for (const x of scrape.samples) {
    if (x.name !== FAMILY_READS) continue;
    const pair = `${x.labels.family}${SEP}${x.labels.result}`;
    out.set(pair, (out.get(pair) ?? 0) + x.value);
  }
  return out;
}

/**
 * Per family and result: the counter's increase over each instance's window (a drop = a restart).
 * Linear in the samples: the number of families is the readers' to choose (key prefixes, their
 * maxFamilies), and this runs on every dashboard poll in the lag monitor's event loop.
 */
function increases(scrapes: Scrape[]): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  let before = familyCounters(scrapes[0]);
  for (let i = 1; i < scrapes.length; i++) {
    const current = familyCounters(scrapes[i]);
    for (const [pair, after] of current) {
      const previous = before.get(pair) ?? 0;
      const inc = after < previous ? after : after - previous;
      const [family, result] = pair.split(SEP);
      const perFamily = out.get(family) ?? new Map<string, number>();
      perFamily.set(result, (perFamily.get(result) ?? 0) + inc);
      out.set(family, perFamily);
    }
    before = current;
  }
  return out;
}

export function computeFamilyFigures(scrapesPerInstance: Scrape[][], now: number, windowMs: number): FamilyFigures[] {
  const totals = new Map<string, { reads: number; cached: number; l1: number; perSecond: number }>();
  for (const all of scrapesPerInstance) {
    const scrapes = all.filter((s) => s.at >= now - windowMs);
    if (scrapes.length < 2) continue;
    const seconds = (scrapes[scrapes.length - 1].at - scrapes[0].at) / 1000;
    for (const [family, results] of increases(scrapes)) {
      const t = totals.get(family) ?? { reads: 0, cached: 0, l1: 0, perSecond: 0 };
      for (const [result, n] of results) {
        t.reads += n;
        if (CACHED.has(result)) t.cached += n;
        if (result === 'l1-hit') t.l1 += n;
        if (seconds > 0) t.perSecond += n / seconds;
      }
      totals.set(family, t);
    }
  }
  return [...totals.entries()]
    .map(([family, t]) => ({
      family,
      readsPerSecond: t.perSecond,
      hitRate: t.reads > 0 ? t.cached / t.reads : null,
      l1HitRate: t.reads > 0 ? t.l1 / t.reads : null,
    }))
    .sort((a, b) => b.readsPerSecond - a.readsPerSecond);
}

/** invalidator_keys_total per outcome, per second over the window (all instances). */
export function computeOutcomeRates(scrapesPerInstance: Scrape[][], now: number, windowMs: number, metric: string): Record<string, number> {
  // No prototype: an outcome label is any string ('constructor', '__proto__' included).
  const out: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const all of scrapesPerInstance) {
    const scrapes = all.filter((s) => s.at >= now - windowMs);
    if (scrapes.length < 2) continue;
    const seconds = (scrapes[scrapes.length - 1].at - scrapes[0].at) / 1000;
    if (seconds <= 0) continue;
    const sumFor = (s: Scrape, outcome: string) =>
      s.samples.filter((x) => x.name === metric && x.labels.outcome === outcome).reduce((n, x) => n + x.value, 0);
    const outcomes = new Set<string>();
    for (const s of scrapes) for (const x of s.samples) if (x.name === metric && x.labels.outcome) outcomes.add(x.labels.outcome);
    for (const outcome of outcomes) {
      let inc = 0;
      for (let i = 1; i < scrapes.length; i++) {
        const before = sumFor(scrapes[i - 1], outcome);
        const after = sumFor(scrapes[i], outcome);
        inc += after < before ? after : after - before;
      }
      out[outcome] = (out[outcome] ?? 0) + inc / seconds;
    }
  }
  return out;
}
