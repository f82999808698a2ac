// The lag figures as Prometheus metrics, under the names kafka_exporter and
// kafka-lag-exporter users already alert on. Values are taken from each monitor's latest
// snapshot at scrape time, so a partition that disappears stops being exported and all
// series of one scrape come from the same round.
import { Counter, Gauge, Registry } from 'prom-client';
import { PARTITION_STATUSES } from './lag-types';
import type { LagSnapshot } from './lag-types';

/** What the metrics need from a monitor (LagMonitor satisfies it). */
export interface LagMetricsSource {
  readonly groupId: string;
  latest(): LagSnapshot | undefined;
  readonly failedRounds: number;
}

const PARTITION_LABELS = ['consumergroup', 'topic', 'partition'] as const;

class LagMetrics {
  private readonly sources = new Set<LagMetricsSource>();

  constructor(registry: Registry) {
    const registers = [registry];
    const snapshots = (): LagSnapshot[] => [...this.sources].flatMap((s) => s.latest() ?? []);
    const perPartition = (name: string, help: string, value: (p: LagSnapshot['partitions'][number]) => number | null): void => {
      new Gauge({
        name,
        help,
        labelNames: PARTITION_LABELS,
        registers,
        collect(this: Gauge<(typeof PARTITION_LABELS)[number]>) {
          this.reset();
          for (const s of snapshots()) {
            for (const p of s.partitions) {
              const v = p.status === 'ERR' ? null : value(p);
              if (v !== null) this.set({ consumergroup: s.group.groupId, topic: p.topic, partition: String(p.partition) }, v);
            }
          }
        },
      });
    };

    perPartition('kafka_consumergroup_lag', 'Messages the group has not consumed yet: log end offset minus committed offset', (p) => p.lag);
    perPartition(
      'kafka_consumergroup_lag_seconds',
      'Age of the oldest unconsumed message in seconds (interpolated from end-offset history; 0 when lag is 0)',
      (p) => p.lagSeconds,
    );
    perPartition(
      'kafka_consumergroup_current_offset',
      "The group's committed offset (absent while the group never committed the partition)",
      (p) => p.committedOffset,
    );

    new Gauge({
      name: 'kafka_topic_partition_current_offset',
      help: 'Log end offset (high watermark) of the partition',
      labelNames: ['topic', 'partition'],
      registers,
      collect(this: Gauge<'topic' | 'partition'>) {
        this.reset();
        for (const s of snapshots())
          for (const p of s.partitions) if (p.status !== 'ERR') this.set({ topic: p.topic, partition: String(p.partition) }, p.endOffset);
      },
    });
    new Gauge({
      name: 'kafka_topic_partition_oldest_offset',
      help: 'Log start offset (oldest offset still stored) of the partition',
      labelNames: ['topic', 'partition'],
      registers,
      collect(this: Gauge<'topic' | 'partition'>) {
        this.reset();
        for (const s of snapshots())
          for (const p of s.partitions) if (p.status !== 'ERR') this.set({ topic: p.topic, partition: String(p.partition) }, p.startOffset);
      },
    });
    new Gauge({
      name: 'kafka_consumergroup_partition_status',
      help: 'Burrow-style status of the partition: 1 for the current status label (OK, WARN, STALL, STOP, ERR), 0 for the others',
      labelNames: [...PARTITION_LABELS, 'status'],
      registers,
      collect(this: Gauge<(typeof PARTITION_LABELS)[number] | 'status'>) {
        this.reset();
        for (const s of snapshots()) {
          for (const p of s.partitions) {
            for (const status of PARTITION_STATUSES) {
              this.set(
                { consumergroup: s.group.groupId, topic: p.topic, partition: String(p.partition), status },
                p.status === status ? 1 : 0,
              );
            }
          }
        }
      },
    });
    new Gauge({
      name: 'kafka_consumergroup_status',
      help: 'Worst partition status of the group: 1 for the current status label, 0 for the others',
      labelNames: ['consumergroup', 'status'],
      registers,
      collect(this: Gauge<'consumergroup' | 'status'>) {
        this.reset();
        for (const s of snapshots())
          for (const status of PARTITION_STATUSES) this.set({ consumergroup: s.group.groupId, status }, s.group.status === status ? 1 : 0);
      },
    });
    new Gauge({
      name: 'kafka_consumergroup_lag_sum',
      help: 'Sum of kafka_consumergroup_lag over the partitions of a topic',
      labelNames: ['consumergroup', 'topic'],
      registers,
      collect(this: Gauge<'consumergroup' | 'topic'>) {
        this.reset();
        for (const s of snapshots()) {
          const sums = new Map<string, number>();
          for (const p of s.partitions) if (p.status !== 'ERR') sums.set(p.topic, (sums.get(p.topic) ?? 0) + p.lag);
          for (const [topic, sum] of sums) this.set({ consumergroup: s.group.groupId, topic }, sum);
        }
      },
    });
    new Gauge({
      name: 'kafka_consumergroup_group_max_lag_seconds',
      help: 'Largest kafka_consumergroup_lag_seconds of the group',
      labelNames: ['consumergroup'],
      registers,
      collect(this: Gauge<'consumergroup'>) {
        this.reset();
        for (const s of snapshots()) this.set({ consumergroup: s.group.groupId }, s.group.maxLagSeconds);
      },
    });
    new Gauge({
      name: 'kafka_consumergroup_members',
      help: 'Members of the consumer group (0: no consumer is running)',
      labelNames: ['consumergroup'],
      registers,
      collect(this: Gauge<'consumergroup'>) {
        this.reset();
        for (const s of snapshots()) if (s.group.members !== null) this.set({ consumergroup: s.group.groupId }, s.group.members.length);
      },
    });
    new Gauge({
      name: 'kafka_consumergroup_state',
      help: 'Kafka group state: 1 for the current state label (Stable, Empty, PreparingRebalance, CompletingRebalance, Dead, Unknown)',
      labelNames: ['consumergroup', 'state'],
      registers,
      collect(this: Gauge<'consumergroup' | 'state'>) {
        this.reset();
        for (const s of snapshots()) this.set({ consumergroup: s.group.groupId, state: s.group.state }, 1);
      },
    });
    new Gauge({
      name: 'kafka_lag_monitor_last_read_timestamp_seconds',
      help: "Unix time of the lag monitor's latest round (stale when it stops moving)",
      labelNames: ['consumergroup'],
      registers,
      collect(this: Gauge<'consumergroup'>) {
        this.reset();
        for (const s of snapshots()) this.set({ consumergroup: s.group.groupId }, s.at / 1000);
      },
    });
    const sources = this.sources;
    new Counter({
      name: 'kafka_lag_monitor_failed_rounds_total',
      help: 'Lag monitor rounds in which something could not be read (partitions affected are ERR)',
      labelNames: ['consumergroup'],
      registers,
      collect(this: Counter<'consumergroup'>) {
        this.reset();
        for (const s of sources) this.inc({ consumergroup: s.groupId }, s.failedRounds);
      },
    });
  }

  attach(source: LagMetricsSource): () => void {
    this.sources.add(source);
    return () => this.sources.delete(source);
  }
}

const perRegistry = new WeakMap<Registry, LagMetrics>();

/**
 * Exports a monitor's figures on `registry` (normally metricsRegistry()); returns the
 * function that stops exporting them. Several monitors may share one registry.
 */
export function exportLagMetrics(registry: Registry, source: LagMetricsSource): () => void {
  let metrics = perRegistry.get(registry);
  if (!metrics) {
    metrics = new LagMetrics(registry);
    perRegistry.set(registry, metrics);
  }
  return metrics.attach(source);
}
