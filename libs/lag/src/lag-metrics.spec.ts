import { Registry } from 'prom-client';
import { parsePrometheusText } from '@app/telemetry';
import { exportLagMetrics, LagMetricsSource } from './lag-metrics';
import type { LagSnapshot } from './lag-types';

const snapshot: LagSnapshot = {
  at: 1_700_000_000_000,
  group: {
    groupId: 'inv',
    state: 'Stable',
    members: [{ memberId: 'm', clientId: 'c', host: 'h', assignments: [] }],
    totalLag: 12,
    maxLagSeconds: 4.5,
    status: 'STALL',
  },
  partitions: [
    {
      topic: 'orders',
      partition: 0,
      committedOffset: 90,
      measuredFromOffset: 90,
      startOffset: 0,
      endOffset: 100,
      lag: 10,
      lagSeconds: 4.5,
      lagSecondsMethod: 'interpolated',
      status: 'STALL',
      statusReason: '',
      owner: null,
      readAt: 1,
    },
    {
      topic: 'orders',
      partition: 1,
      committedOffset: null,
      measuredFromOffset: 3,
      startOffset: 3,
      endOffset: 5,
      lag: 2,
      lagSeconds: 1,
      lagSecondsMethod: 'lower-bound',
      status: 'OK',
      statusReason: '',
      owner: null,
      readAt: 1,
    },
  ],
  errors: [],
};

async function scrape(registry: Registry) {
  return parsePrometheusText(await registry.metrics());
}

describe('exportLagMetrics', () => {
  it('exports the conventional kafka_consumergroup_* names from the latest snapshot', async () => {
    const registry = new Registry();
    const source: LagMetricsSource = { groupId: 'inv', latest: () => snapshot, failedRounds: 2 };
    exportLagMetrics(registry, source);
    const samples = await scrape(registry);
    const value = (name: string, labels: Record<string, string>) =>
      samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
    expect(value('kafka_consumergroup_lag', { consumergroup: 'inv', topic: 'orders', partition: '0' })).toBe(10);
    expect(value('kafka_consumergroup_lag_seconds', { partition: '0' })).toBe(4.5);
    expect(value('kafka_consumergroup_current_offset', { partition: '0' })).toBe(90);
    expect(value('kafka_consumergroup_current_offset', { partition: '1' })).toBeUndefined();
    expect(value('kafka_topic_partition_current_offset', { topic: 'orders', partition: '1' })).toBe(5);
    expect(value('kafka_topic_partition_oldest_offset', { topic: 'orders', partition: '1' })).toBe(3);
    expect(value('kafka_consumergroup_members', { consumergroup: 'inv' })).toBe(1);
    expect(value('kafka_consumergroup_partition_status', { partition: '0', status: 'STALL' })).toBe(1);
    expect(value('kafka_consumergroup_partition_status', { partition: '0', status: 'OK' })).toBe(0);
    expect(value('kafka_consumergroup_status', { consumergroup: 'inv', status: 'STALL' })).toBe(1);
    expect(value('kafka_consumergroup_lag_sum', { consumergroup: 'inv', topic: 'orders' })).toBe(12);
    expect(value('kafka_consumergroup_group_max_lag_seconds', { consumergroup: 'inv' })).toBe(4.5);
    expect(value('kafka_consumergroup_state', { consumergroup: 'inv', state: 'Stable' })).toBe(1);
    expect(value('kafka_lag_monitor_failed_rounds_total', { consumergroup: 'inv' })).toBe(2);
  });

  it('drops the series of a detached monitor, and several monitors share one registry', async () => {
    const registry = new Registry();
    const detach = exportLagMetrics(registry, { groupId: 'inv', latest: () => snapshot, failedRounds: 0 });
    exportLagMetrics(registry, {
      groupId: 'other',
      latest: () => ({ ...snapshot, group: { ...snapshot.group, groupId: 'other' } }),
      failedRounds: 0,
    });
    detach();
    const groups = new Set((await scrape(registry)).filter((s) => s.name === 'kafka_consumergroup_lag').map((s) => s.labels.consumergroup));
    expect([...groups]).toEqual(['other']);
  });

  it('does not export lag of an ERR partition as if it were current', async () => {
    const registry = new Registry();
    const failed: LagSnapshot = { ...snapshot, partitions: snapshot.partitions.map((p) => ({ ...p, status: 'ERR' as const })) };
    exportLagMetrics(registry, { groupId: 'inv', latest: () => failed, failedRounds: 1 });
    const samples = await scrape(registry);
    expect(samples.filter((s) => s.name === 'kafka_consumergroup_lag')).toEqual([]);
    expect(
      samples.filter((s) => s.name === 'kafka_consumergroup_partition_status' && s.labels.status === 'ERR' && s.value === 1),
    ).toHaveLength(2);
  });
});
