// Polls the group's committed offsets and the topics' end offsets every intervalMs through
// the admin API, independent of any consumer, and turns each round into a LagSnapshot.
// Rounds never overlap: the next one is scheduled when the previous one ends.
import type { Logger } from 'pino';
import { createLogger } from '@app/telemetry';
import { LagHistory, LagHistoryView } from './lag-history';
import { LagMonitorOptions, resolveLagMonitorOptions, ResolvedLagMonitorOptions } from './lag-options';
import { KafkaLagReader, LagReader, PartitionEnds } from './lag-reader';
import { GroupMember, LagSnapshot, PartitionLag, PartitionOwner, PartitionStatus, worstStatus } from './lag-types';
import { PartitionTracker } from './partition-tracker';
import { readSeedHistory } from './seed-history';

type Settled<T> = { ok: true; value: T } | { ok: false; error: string };

async function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  try {
    return { ok: true, value: await promise };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}

export interface LagMonitorDependencies {
  reader?: LagReader;
  clock?: () => number;
  logger?: Logger;
}

export class LagMonitor {
  readonly options: ResolvedLagMonitorOptions;
  private readonly reader: LagReader;
  private readonly clock: () => number;
  private readonly log: Logger;
  private readonly trackers = new Map<string, PartitionTracker>();
  private readonly lastStatus = new Map<string, PartitionStatus>();
  private readonly history: LagHistory;
  private readonly listeners = new Set<(snapshot: LagSnapshot) => void>();
  private latestSnapshot: LagSnapshot | undefined;
  private inFlight: Promise<LagSnapshot> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private lastErrors = '';
  /** Rounds in which something could not be read (exported as a counter). */
  failedRounds = 0;

  constructor(options: LagMonitorOptions, deps: LagMonitorDependencies = {}) {
    this.options = resolveLagMonitorOptions(options);
    this.reader =
      deps.reader ?? new KafkaLagReader({ brokers: this.options.brokers, clientId: this.options.clientId, ...this.options.kafka });
    this.clock = deps.clock ?? Date.now;
    this.log = deps.logger ?? createLogger('lag-monitor');
    this.history = new LagHistory(this.options.historyMs);
  }

  get groupId(): string {
    return this.options.groupId;
  }

  /** Starts polling now and every intervalMs. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.log.info(
      { groupId: this.options.groupId, topics: this.options.topics, intervalMs: this.options.intervalMs },
      'lag monitor started',
    );
    const loop = async (): Promise<void> => {
      const started = this.clock();
      await this.poll().catch((error: unknown) => this.log.error({ err: error }, 'lag poll crashed; next round retries'));
      if (!this.running) return;
      this.timer = setTimeout(() => void loop(), Math.max(0, this.options.intervalMs - (this.clock() - started)));
      // Polling alone must not keep a process alive: the HTTP server or the app decides that.
      this.timer.unref();
    };
    void loop();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    await this.inFlight?.catch(() => undefined);
    await this.reader.close();
  }

  latest(): LagSnapshot | undefined {
    return this.latestSnapshot;
  }

  historyView(sinceMs?: number): LagHistoryView {
    return this.history.view(sinceMs);
  }

  onSnapshot(listener: (snapshot: LagSnapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** One round now (joins the round in flight, if any). */
  poll(): Promise<LagSnapshot> {
    if (!this.inFlight) {
      this.inFlight = this.round().finally(() => (this.inFlight = undefined));
    }
    return this.inFlight;
  }

  private async round(): Promise<LagSnapshot> {
    const { groupId, topics } = this.options;
    const [group, ...perTopic] = await Promise.all([
      settle(this.reader.describeGroup(groupId)),
      ...topics.map((topic) => Promise.all([settle(this.reader.readEnds(topic)), settle(this.reader.readCommitted(groupId, topic))])),
    ] as const);
    const at = this.clock();
    const errors: string[] = [];
    if (!group.ok) errors.push(`group ${groupId}: ${group.error}`);
    const members: GroupMember[] | null = group.ok ? group.value.members : null;
    const owners = ownersOf(members ?? []);

    const partitions: PartitionLag[] = [];
    for (let i = 0; i < topics.length; i++) {
      const topic = topics[i];
      const [ends, committed] = perTopic[i];
      if (!ends.ok || !committed.ok) {
        const error = !ends.ok ? ends.error : (committed as { error: string }).error;
        errors.push(`topic ${topic}: ${error}`);
        for (const tracker of this.trackersOf(topic))
          partitions.push({ ...tracker.fail(at, error), owner: owners.get(key(topic, tracker.partition)) ?? null });
        continue;
      }
      await this.seedNewPartitions(topic, ends.value, committed.value, at);
      for (const e of ends.value) {
        const figures = this.tracker(topic, e.partition).observe({
          at,
          startOffset: e.startOffset,
          endOffset: e.endOffset,
          committedOffset: committed.value.get(e.partition) ?? null,
          members: members === null ? null : members.length,
        });
        partitions.push({ ...figures, owner: owners.get(key(topic, e.partition)) ?? null });
      }
    }

    const snapshot: LagSnapshot = {
      at,
      group: {
        groupId,
        state: group.ok ? group.value.state : 'Unknown',
        members,
        totalLag: partitions.reduce((sum, p) => sum + p.lag, 0),
        maxLagSeconds: partitions.reduce((max, p) => Math.max(max, p.lagSeconds), 0),
        status: partitions.length === 0 && errors.length > 0 ? 'ERR' : worstStatus(partitions.map((p) => p.status)),
      },
      partitions,
      errors,
    };
    // Nothing answered: the connection may be dead, so the next round starts from scratch.
    // (A missing topic alone is not a reason to reconnect every round.)
    const brokerTrouble = !group.ok && perTopic.every(([ends, committed]) => !ends.ok || !committed.ok);
    this.afterRound(snapshot, brokerTrouble);
    return snapshot;
  }

  private afterRound(snapshot: LagSnapshot, brokerTrouble: boolean): void {
    if (snapshot.errors.length > 0) this.failedRounds++;
    if (brokerTrouble) void this.reader.reset();
    const errorText = snapshot.errors.join('; ');
    if (errorText !== this.lastErrors) {
      if (errorText)
        this.log.warn(
          { groupId: snapshot.group.groupId, errors: snapshot.errors },
          'lag monitor cannot read everything; affected partitions are ERR, next round retries',
        );
      else this.log.info({ groupId: snapshot.group.groupId }, 'lag monitor reads everything again');
      this.lastErrors = errorText;
    }
    for (const p of snapshot.partitions) {
      const k = key(p.topic, p.partition);
      const before = this.lastStatus.get(k);
      if (before !== p.status) {
        this.lastStatus.set(k, p.status);
        if (before !== undefined || p.status !== 'OK') {
          this.log.info(
            {
              groupId: snapshot.group.groupId,
              topic: p.topic,
              partition: p.partition,
              from: before ?? null,
              to: p.status,
              lag: p.lag,
              reason: p.statusReason,
            },
            'partition status changed',
          );
        }
      }
    }
    this.latestSnapshot = snapshot;
    this.history.add(snapshot);
    for (const listener of this.listeners) listener(snapshot);
  }

  /** Gives partitions seen for the first time the history their record timestamps tell. */
  private async seedNewPartitions(topic: string, ends: PartitionEnds[], committed: Map<number, number | null>, at: number): Promise<void> {
    const fresh = ends.filter((e) => !this.tracker(topic, e.partition).seen);
    if (fresh.length === 0 || this.options.seedAgesMs.length === 0) return;
    try {
      const toSeed = fresh.map((e) => ({
        partition: e.partition,
        endOffset: e.endOffset,
        measuredFromOffset: committed.get(e.partition) ?? (this.options.uncommittedPolicy === 'earliest' ? e.startOffset : e.endOffset),
      }));
      const history = await readSeedHistory(this.reader, topic, toSeed, at, { agesMs: this.options.seedAgesMs });
      for (const [partition, points] of history) this.tracker(topic, partition).seed(points);
    } catch (error) {
      this.log.warn(
        { topic, err: error },
        'cannot read offsets by timestamp; lag seconds of older backlog is a lower bound until the monitor has watched it',
      );
    }
  }

  private tracker(topic: string, partition: number): PartitionTracker {
    const k = key(topic, partition);
    let tracker = this.trackers.get(k);
    if (!tracker) {
      tracker = new PartitionTracker(topic, partition, this.options);
      this.trackers.set(k, tracker);
    }
    return tracker;
  }

  private trackersOf(topic: string): PartitionTracker[] {
    return [...this.trackers.values()].filter((t) => t.topic === topic).sort((a, b) => a.partition - b.partition);
  }
}

const key = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

function ownersOf(members: GroupMember[]): Map<string, PartitionOwner> {
  const owners = new Map<string, PartitionOwner>();
  for (const m of members) {
    for (const a of m.assignments) {
      for (const partition of a.partitions)
        owners.set(key(a.topic, partition), { memberId: m.memberId, clientId: m.clientId, host: m.host });
    }
  }
  return owners;
}
