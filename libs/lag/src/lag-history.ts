// The last minutes of lag per partition, for the dashboard chart and GET /lag. Kept in
// column form (one time axis, one array per partition) because that is what a chart draws
// and it is a fraction of the size of a list of snapshots.
import type { LagSnapshot } from './lag-types';

export interface LagHistorySeries {
  topic: string;
  partition: number;
  /** Aligned with LagHistoryView.at; null where the partition was not read. */
  lag: (number | null)[];
  lagSeconds: (number | null)[];
}

export interface LagHistoryView {
  at: number[];
  series: LagHistorySeries[];
}

interface Entry {
  at: number;
  values: Map<string, { lag: number; lagSeconds: number }>;
}

const keyOf = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

export class LagHistory {
  private entries: Entry[] = [];

  constructor(private readonly keepMs: number) {}

  add(snapshot: LagSnapshot): void {
    const values = new Map<string, { lag: number; lagSeconds: number }>();
    for (const p of snapshot.partitions) {
      // An ERR partition repeats old figures: leave a gap rather than draw them as current.
      if (p.status !== 'ERR') values.set(keyOf(p.topic, p.partition), { lag: p.lag, lagSeconds: p.lagSeconds });
    }
    this.entries.push({ at: snapshot.at, values });
    const oldest = snapshot.at - this.keepMs;
    while (this.entries.length > 0 && this.entries[0].at < oldest) this.entries.shift();
  }

  /** Entries strictly after `sinceMs` (all when undefined). */
  view(sinceMs?: number): LagHistoryView {
    const entries = sinceMs === undefined ? this.entries : this.entries.filter((e) => e.at > sinceMs);
    const keys = new Map<string, { topic: string; partition: number }>();
    for (const e of entries) {
      for (const key of e.values.keys()) {
        if (!keys.has(key)) {
          const [topic, partition] = key.split('\u0000');
          keys.set(key, { topic, partition: Number(partition) });
        }
      }
    }
    const series = [...keys.entries()]
      .map(([key, id]) => ({
        ...id,
        lag: entries.map((e) => e.values.get(key)?.lag ?? null),
        lagSeconds: entries.map((e) => e.values.get(key)?.lagSeconds ?? null),
      }))
      .sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
    return { at: entries.map((e) => e.at), series };
  }
}
