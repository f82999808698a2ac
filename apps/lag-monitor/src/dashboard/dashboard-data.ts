// What GET /dashboard/data returns: the lag snapshot, the lag history since the page's last
// poll, and the invalidators' figures. Built in one place so the page and tests agree.
import type { GroupLag, LagHistoryView, PartitionLag } from '@app/lag';
import type { InvalidatorFigures } from './invalidator-figures';
import type { FamilyFigures } from './cache-figures';
import type { PurgeFigures } from './purge-figures';
import type { InvalidatorSource, ThroughputHistory } from './invalidator-scraper';

export interface MappingCount {
  count: number | null;
  /** Where the count comes from: the registry's own function, the invalidator's gauge, or nowhere. */
  source: 'registry' | 'invalidator' | null;
}

export interface DashboardData {
  /** Epoch ms of the lag snapshot. */
  now: number;
  intervalMs: number;
  historyMs: number;
  group: GroupLag;
  partitions: PartitionLag[];
  errors: string[];
  history: LagHistoryView;
  invalidator: {
    sources: InvalidatorSource[];
    figures: InvalidatorFigures;
    throughput: ThroughputHistory;
    /** invalidator_keys_total per outcome, per second over the window. */
    keysPerSecondByOutcome: Record<string, number>;
    /** invalidator_purges_total per second over the window, by outcome and per target. */
    purges: PurgeFigures;
  };
  /** Readers' cache-client metrics (CACHE_METRICS_URLS): hit rate per key family. */
  cache: {
    sources: InvalidatorSource[];
    families: FamilyFigures[];
    windowSeconds: number;
  };
  mappings: MappingCount;
}
