// The mapping follower watch: readiness reason, liveness bound, and holding batches (nothing
// committed) while the follower does not read.
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { Registry } from 'prom-client';
import type { BatchControl } from '@app/kafka';
import type { FollowerHealth } from '@app/registry-core';
import { MappingsFollowerWatch } from './mappings-follower-watch';

const silent = pino({ level: 'silent' });
const bounds = { readyMs: 3_000, liveMs: 10_000 };

function control(active = () => true): BatchControl & { paused: number; resumed: number; heartbeats: number } {
  return {
    paused: 0,
    resumed: 0,
    heartbeats: 0,
    async resolveAndCommit() {
      throw new Error('must not commit');
    },
    async heartbeat() {
      this.heartbeats += 1;
    },
    isActive: active,
    pausePartition() {
      this.paused += 1;
    },
    resumePartition() {
      this.resumed += 1;
    },
  };
}

describe('MappingsFollowerWatch', () => {
  it('is always fine without a follower (MAPPINGS_SOURCE=file)', async () => {
    const watch = new MappingsFollowerWatch(() => undefined, bounds, silent);
    expect(watch.readiness()).toBe(true);
    expect(watch.liveness()).toBeUndefined();
    expect(await watch.hold(control())).toBe(true);
  });

  it('names the reason: no fetch past the ready bound, crashed for good; liveness only past the live bound', () => {
    let health: FollowerHealth = { sinceLastFetchMs: 500 };
    const watch = new MappingsFollowerWatch(() => health, bounds, silent);
    expect(watch.readiness()).toBe(true);
    health = { sinceLastFetchMs: 35_000, lastError: 'This server does not host this topic-partition' };
    expect(watch.readiness()).toBe('no fetch for 35 s: This server does not host this topic-partition');
    expect(watch.liveness()).toMatch(/^mappings follower: no fetch for 35 s/);
    health = { sinceLastFetchMs: 5_000 };
    expect(watch.readiness()).toBe('no fetch for 5 s: the consumer stopped fetching');
    expect(watch.liveness()).toBeUndefined();
    health = { sinceLastFetchMs: 100, failed: new Error('boom') };
    expect(watch.readiness()).toBe('crashed for good: boom');
  });

  it('holds a batch (paused, heartbeating, nothing committed) until the follower reads again', async () => {
    let health: FollowerHealth = { sinceLastFetchMs: 60_000 };
    const watch = new MappingsFollowerWatch(() => health, bounds, silent, undefined, 5);
    const ctl = control();
    const held = watch.hold(ctl);
    await sleep(30);
    expect(ctl.paused).toBe(1);
    expect(ctl.heartbeats).toBeGreaterThan(0);
    health = { sinceLastFetchMs: 10 };
    expect(await held).toBe(true);
    expect(ctl.resumed).toBe(1);
  });

  it('gives the batch up (false) when it is no longer ours', async () => {
    let active = true;
    const watch = new MappingsFollowerWatch(() => ({ sinceLastFetchMs: 60_000 }), bounds, silent, undefined, 5);
    const held = watch.hold(control(() => active));
    active = false;
    expect(await held).toBe(false);
  });

  it('exports the follower state as gauges', async () => {
    const registry = new Registry();
    new MappingsFollowerWatch(() => ({ sinceLastFetchMs: 42_000 }), bounds, silent, registry);
    const text = await registry.metrics();
    expect(text).toMatch(/invalidator_mappings_follower_up 0/);
    expect(text).toMatch(/invalidator_mappings_follower_seconds_since_fetch 42/);
  });
});
