// Is the mapping follower (MAPPINGS_SOURCE=kafka) still reading the registry's topic? If it
// crashed for good (kafkajs CRASH restart=false) or has not fetched for MAPPINGS_STALL_READY_MS
// (the topic was deleted, the broker refuses it...), the mapping set is frozen: readiness says
// why, consumption of entity.updated is held (nothing committed) until the follower reads again,
// and after MAPPINGS_STALL_LIVE_MS liveness fails too, so an orchestrator restarts the process.
import { setTimeout as sleep } from 'node:timers/promises';
import type { BatchControl } from '@app/kafka';
import type { Logger } from '@app/telemetry';
import type { FollowerHealth } from '@app/registry-core';
import { Gauge, Registry } from 'prom-client';
import { INVALIDATOR_METRIC_NAMES } from '@app/telemetry';

export interface MappingsFollowerBounds {
  /** No fetch for longer than this: not ready, consumption held. */
  readyMs: number;
  /** No fetch for longer than this: not live. */
  liveMs: number;
}

export class MappingsFollowerWatch {
  private holders = 0;

  /** `health` is undefined for a source without a follower (MAPPINGS_SOURCE=file): always fine. */
  constructor(
    private readonly health: () => FollowerHealth | undefined,
    private readonly bounds: MappingsFollowerBounds,
    private readonly log: Logger,
    registry?: Registry,
    private readonly pollMs = 500,
  ) {
    if (!registry) return;
    // prom-client calls collect() with the gauge as `this`: the watch is reached through these
    const problem = () => this.problem();
    const followerHealth = () => this.health();
    new Gauge({
      name: INVALIDATOR_METRIC_NAMES.mappingsFollowerUp,
      help: '1 while the mapping follower reads the mappings topic (fetched within MAPPINGS_STALL_READY_MS, not crashed), else 0; 1 for MAPPINGS_SOURCE=file',
      registers: [registry],
      collect() {
        this.set(problem() === undefined ? 1 : 0);
      },
    });
    new Gauge({
      name: INVALIDATOR_METRIC_NAMES.mappingsFollowerSecondsSinceFetch,
      help: 'Seconds since the mapping follower last fetched from the mappings topic (0 for MAPPINGS_SOURCE=file)',
      registers: [registry],
      collect() {
        this.set((followerHealth()?.sinceLastFetchMs ?? 0) / 1000);
      },
    });
  }

  /** Why the mapping set must be considered frozen, or undefined when the follower reads. */
  problem(): string | undefined {
    const h = this.health();
    if (!h) return undefined;
    if (h.failed) return `crashed for good: ${h.failed.message}`;
    if (h.sinceLastFetchMs > this.bounds.readyMs)
      return `no fetch for ${Math.round(h.sinceLastFetchMs / 1000)} s: ${h.lastError ?? 'the consumer stopped fetching'}`;
    return undefined;
  }

  /** For /health/ready: true, or the reason. */
  readiness(): true | string {
    return this.problem() ?? true;
  }

  /** For /health/live: the reason once the follower has not fetched for MAPPINGS_STALL_LIVE_MS, else undefined. */
  liveness(): string | undefined {
    const h = this.health();
    if (!h || h.sinceLastFetchMs <= this.bounds.liveMs) return undefined;
    return `mappings follower: ${h.failed ? `crashed for good: ${h.failed.message}` : `no fetch for ${Math.round(h.sinceLastFetchMs / 1000)} s: ${h.lastError ?? 'the consumer stopped fetching'}`}`;
  }

  /**
   * Before a batch is processed: returns true at once while the follower reads. Otherwise holds
   * the batch (partition paused, heartbeats go on, nothing resolved or committed) until it reads
   * again (true) or the batch is no longer ours (false: it will be redelivered).
   */
  async hold(control: BatchControl): Promise<boolean> {
    let problem = this.problem();
    if (problem === undefined) return true;
    if (this.holders++ === 0)
      this.log.error(
        { reason: problem },
        'mappings follower is down: consumption of entity.updated held (nothing committed) until it reads the mappings topic again',
      );
    control.pausePartition();
    try {
      while (problem !== undefined) {
        if (!control.isActive()) return false;
        await sleep(this.pollMs);
        await control.heartbeat().catch(() => undefined);
        problem = this.problem();
      }
      return control.isActive();
    } finally {
      control.resumePartition();
      if (--this.holders === 0 && problem === undefined) this.log.warn('mappings follower reads again: consumption resumed');
    }
  }
}
