// Dedupe forgets nothing it did not apply: only events whose effects reached
// Redis are remembered, and an event's identity is its entity plus its version.
import { Registry } from 'prom-client';
import pino from 'pino';
import type { EffectOutcome, KeyEffect, TagEffect } from '@app/cache-protocol/effects';
import type { BatchControl, InboundMessage, OutboundRecord } from '@app/kafka';
import type { MappingResolver } from '@app/registry-core/types';
import type { EntityUpdated } from '@app/contracts';
import { InvalidatorMetrics } from '../metrics/invalidator-metrics';
import { dedupe, RecentEvents } from './dedupe';
import { InvalidationPipeline, OtherSinks } from './invalidation.pipeline';
import { PlanApplier } from '@app/cache-protocol';
import type { PurgeSink } from '../sinks/purge';

function event(overrides: Partial<EntityUpdated> = {}): EntityUpdated {
  return {
    eventId: 'ev-1',
    entityType: 'product',
    entityId: '1',
    version: 1,
    occurredAt: new Date().toISOString(),
    after: { categoryId: 'c' },
    ...overrides,
  };
}

let nextOffset = 0;
function message(value: EntityUpdated): InboundMessage {
  return {
    topic: 't',
    partition: 0,
    offset: String(nextOffset++),
    key: null,
    value: Buffer.from(JSON.stringify(value)),
    headers: {},
    timestamp: Date.now(),
  };
}

function resolverFor(types: string[], failing: (e: EntityUpdated) => boolean = () => false): MappingResolver {
  return {
    mappingCount: types.length,
    hasEntityType: (t) => types.includes(t),
    resolve(e) {
      if (failing(e)) throw Object.assign(new Error('value widens key'), { code: 'TEMPLATE_WIDENS_KEY' });
      return { keys: [{ key: `${e.entityType}:${e.entityId}`, action: 'delete', tombstoneTtlSeconds: 60, mappingId: 'm' }], tags: [] };
    },
  };
}

class Sink {
  keys: string[] = [];
  async applyKeyEffects(effects: KeyEffect[]): Promise<EffectOutcome[]> {
    this.keys.push(...effects.map((e) => e.key));
    return effects.map(() => 'deleted');
  }
  async invalidateTags(_tags: TagEffect[]) {
    return { keysInvalidated: 0 };
  }
  async bumpNamespaces() {
    return [];
  }
  checkKeyEffect() {
    return undefined;
  }
  checkTag() {
    return undefined;
  }
}

const control: BatchControl = {
  resolveAndCommit: async () => undefined,
  heartbeat: async () => undefined,
  isActive: () => true,
  pausePartition: () => undefined,
  resumePartition: () => undefined,
};

function setup(resolver: { current: MappingResolver }, sinks: OtherSinks = {}) {
  const sink = new Sink();
  const dlq: OutboundRecord[] = [];
  const p = new InvalidationPipeline(
    () => resolver.current,
    new PlanApplier(sink),
    { send: async (records) => void dlq.push(...records), maxBatchBytes: () => 1_048_588 },
    new RecentEvents(1000),
    new InvalidatorMetrics(new Registry()),
    {
      maxEventBytes: 4096,
      strictEntityTypes: true,
      defaultTombstoneTtlSeconds: 60,
      chunkSize: 100,
      chunkMaxBytes: 1_048_576,
      retry: { initialMs: 1, maxMs: 2 },
    },
    pino({ level: 'silent' }),
    sinks,
  );
  const run = (...events: EntityUpdated[]) =>
    p.process({ topic: 't', partition: 0, highWatermark: '0', messages: events.map(message) }, control);
  return { sink, dlq, run };
}

describe('dedupe identity', () => {
  it('does not drop an event of another entity, type or tenant that reuses an eventId', () => {
    const recent = new RecentEvents(100);
    const events = [
      event({ eventId: 'same' }),
      event({ eventId: 'same', entityId: '2' }),
      event({ eventId: 'same', entityType: 'order' }),
      event({ eventId: 'same', tenant: 'other-team' }),
      event({ eventId: 'same' }), // the real duplicate
    ].map((e) => ({ event: e, message: message(e) }));
    const { unique, duplicates } = dedupe(events, recent);
    expect(unique).toHaveLength(4);
    expect(duplicates).toBe(1);
  });
});

describe('dedupe remembers only what reached Redis', () => {
  it('an event dead-lettered as UNKNOWN_ENTITY_TYPE is applied when it comes back after its mapping was registered (a DLQ replay)', async () => {
    const resolver = { current: resolverFor(['product']) };
    const { sink, dlq, run } = setup(resolver);
    const widget = event({ eventId: 'w-1', entityType: 'widget', entityId: '9' });
    await run(widget);
    expect(dlq.map((r) => r.headers['x-dlq-reason-code'])).toEqual(['UNKNOWN_ENTITY_TYPE']);
    expect(sink.keys).toEqual([]);

    resolver.current = resolverFor(['product', 'widget']);
    await run(widget);
    expect(sink.keys).toEqual(['widget:9']);
  });

  it('an UNRESOLVABLE event is applied when replayed after the mapping was fixed', async () => {
    const resolver = { current: resolverFor(['product'], () => true) };
    const { sink, dlq, run } = setup(resolver);
    const e = event({ eventId: 'p-1', entityId: '5' });
    await run(e);
    expect(dlq.map((r) => r.headers['x-dlq-reason-code'])).toEqual(['UNRESOLVABLE']);

    resolver.current = resolverFor(['product']);
    await run(e);
    expect(sink.keys).toEqual(['product:5']);
  });

  it('an applied event is still remembered: its redelivery is skipped', async () => {
    const resolver = { current: resolverFor(['product']) };
    const { sink, run } = setup(resolver);
    const e = event({ eventId: 'p-2', entityId: '6' });
    await run(e);
    await run(e);
    expect(sink.keys).toEqual(['product:6']);
  });

  it("an event with one mapping's part dead-lettered is not remembered: its replay runs (the applied part again, harmlessly)", async () => {
    const partial: MappingResolver = {
      mappingCount: 2,
      hasEntityType: () => true,
      resolve: (e) => ({
        keys: [{ key: `product:${e.entityId}`, action: 'delete', tombstoneTtlSeconds: 60, mappingId: 'catalog.product' }],
        tags: [],
        failed: [
          { mappingId: 'promo.product', owner: 'promo', code: 'TEMPLATE_WIDENS_KEY', message: 'title has a space', field: 'after.title' },
        ],
      }),
    };
    const { sink, dlq, run } = setup({ current: partial });
    const e = event({ eventId: 'p-3', entityId: '7' });
    await run(e);
    expect(sink.keys).toEqual(['product:7']);
    expect(dlq.map((r) => [r.headers['x-dlq-reason-code'], r.headers['x-dlq-mapping'], r.headers['x-dlq-team']])).toEqual([
      ['UNRESOLVABLE', 'promo.product', 'promo'],
    ]);
    expect(String(dlq[0].headers['x-dlq-reason'])).toBe(
      'TEMPLATE_WIDENS_KEY: mapping "promo.product" of team "promo" (after.title): title has a space',
    );
    await run(e);
    expect(sink.keys).toEqual(['product:7', 'product:7']);
  });

  it('an event whose purge failed (PURGE_FAILED, naming mapping and team) is not remembered: its replay runs', async () => {
    const purging: MappingResolver = {
      mappingCount: 1,
      hasEntityType: () => true,
      resolve: (e) => ({
        keys: [{ key: `product:${e.entityId}`, action: 'delete', tombstoneTtlSeconds: 60, mappingId: 'm' }],
        tags: [],
        purges: [{ mappingId: 'catalog.pages', team: 'catalog', tags: ['product:p'], urls: [] }],
      }),
    };
    const purge = {
      enabled: true,
      purge: async <T>(items: readonly T[]) => ({ failed: items.map((item) => ({ item, error: 'varnish: HTTP 503' })), attempts: 1 }),
    } as unknown as PurgeSink;
    const { sink, dlq, run } = setup({ current: purging }, { purge });
    const e = event({ eventId: 'p-4', entityId: '8' });
    await run(e);
    expect(dlq.map((r) => [r.headers['x-dlq-reason-code'], r.headers['x-dlq-mapping'], r.headers['x-dlq-team']])).toEqual([
      ['PURGE_FAILED', 'catalog.pages', 'catalog'],
    ]);
    await run(e);
    expect(sink.keys).toEqual(['product:8', 'product:8']);
  });
});
