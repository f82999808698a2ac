// Pure pipeline logic with fakes for Redis and Kafka (the guarantees themselves are proven
// against the real servers in test/invalidator-*.e2e-spec.ts).
import { Registry } from 'prom-client';
import pino from 'pino';
import type { KeyEffect, EffectOutcome, TagEffect } from '@app/cache-protocol/effects';
import type { BatchControl, InboundMessage } from '@app/kafka-adapter';
import type { MappingResolver, Resolution } from '@app/registry-core/types';
import type { EntityUpdated } from '@app/contracts';
import { InvalidatorMetrics } from '../metrics/invalidator-metrics';
import { coalesce } from './coalesce';
import { Rejection } from './dead-letter-code';
import { decode } from './decode';
import { dedupe, RecentEvents } from './dedupe';
import { InvalidationPipeline } from './invalidation.pipeline';
import { resolveEffects } from './resolve';

const silent = pino({ level: 'silent' });

function event(overrides: Partial<EntityUpdated> = {}): EntityUpdated {
  return {
    eventId: `e-${Math.random()}`,
    entityType: 'product',
    entityId: '1',
    version: 1,
    occurredAt: new Date().toISOString(),
    after: { categoryId: 'c1', price: 10 },
    ...overrides,
  };
}

function message(offset: number, value: unknown, headers: Record<string, string> = {}): InboundMessage {
  const bytes = typeof value === 'string' ? Buffer.from(value) : Buffer.from(JSON.stringify(value));
  return { topic: 't', partition: 0, offset: String(offset), key: null, value: bytes, headers, timestamp: Date.now() };
}

/** product:{entityId} (warm from after), category:{after.categoryId} and category:{before.categoryId} (delete), tag all-products. */
const productResolver: MappingResolver = {
  mappingCount: 1,
  hasEntityType: (t) => t === 'product',
  resolve(e: EntityUpdated): Resolution {
    if (String(e.after?.categoryId ?? '').includes('*')) throw Object.assign(new Error('value widens key'), { code: 'TEMPLATE_WIDENS_KEY' });
    const keys: Resolution['keys'] = [{ key: `product:${e.entityId}`, action: 'warm', tombstoneTtlSeconds: 60, ttlSeconds: 30, value: JSON.stringify(e.after), mappingId: 'm' }];
    if (e.after?.categoryId) keys.push({ key: `category:${String(e.after.categoryId)}`, action: 'delete', tombstoneTtlSeconds: 60, mappingId: 'm' });
    if (e.before?.categoryId) keys.push({ key: `category:${String(e.before.categoryId)}`, action: 'delete', tombstoneTtlSeconds: 60, mappingId: 'm' });
    return { keys, tags: ['all-products'] };
  },
};

class FakeSink {
  applied: KeyEffect[][] = [];
  tags: TagEffect[][] = [];
  failuresLeft = 0;
  async applyKeyEffects(effects: KeyEffect[]): Promise<EffectOutcome[]> {
    if (this.failuresLeft > 0) {
      this.failuresLeft -= 1;
      throw new Error('ECONNREFUSED');
    }
    this.applied.push(effects);
    return effects.map((e) => (e.action === 'warm' ? 'warmed' : 'deleted'));
  }
  async invalidateTags(tags: TagEffect[]): Promise<{ keysInvalidated: number }> {
    this.tags.push(tags);
    return { keysInvalidated: 0 };
  }
}

class FakeControl implements BatchControl {
  committed: string[] = [];
  paused = 0;
  resumed = 0;
  active = true;
  async resolveAndCommit(offset: string) {
    this.committed.push(offset);
  }
  async heartbeat() {}
  isActive() {
    return this.active;
  }
  pausePartition() {
    this.paused += 1;
  }
  resumePartition() {
    this.resumed += 1;
  }
}

function pipeline(sink: FakeSink, deadLetters: Rejection[], options: { strict?: boolean; chunkSize?: number } = {}) {
  return new InvalidationPipeline(
    () => productResolver,
    sink,
    { send: async (r) => void deadLetters.push(...r) },
    new RecentEvents(1000),
    new InvalidatorMetrics(new Registry()),
    { maxEventBytes: 2048, strictEntityTypes: options.strict ?? false, defaultTombstoneTtlSeconds: 60, chunkSize: options.chunkSize ?? 100, retry: { initialMs: 1, maxMs: 2 } },
    silent,
  );
}

describe('decode', () => {
  it('sorts messages into events and rejections with a reason code', () => {
    const { events, rejected } = decode(
      [
        message(0, event()),
        message(1, '{not json'),
        message(2, { ...event(), version: 'three' }),
        message(3, 'x'.repeat(5000)),
        message(4, event(), { 'x-schema-version': '2' }),
        { ...message(5, ''), value: null },
      ],
      { maxEventBytes: 2048 },
    );
    expect(events.map((e) => e.message.offset)).toEqual(['0']);
    expect(rejected.map((r) => [r.offset, r.code])).toEqual([
      ['1', 'BAD_JSON'],
      ['2', 'BAD_SCHEMA'],
      ['3', 'OVERSIZED'],
      ['4', 'UNSUPPORTED_SCHEMA_VERSION'],
      ['5', 'EMPTY_VALUE'],
    ]);
    expect(rejected[1].reason).toContain('version');
  });
});

describe('dedupe + coalesce + resolve', () => {
  it('drops duplicates by eventId and by entity+version, remembers applied events', () => {
    const a = event({ eventId: 'same', version: 1 });
    const b = event({ eventId: 'same', version: 2 });
    const c = event({ eventId: 'other', version: 1 });
    const recent = new RecentEvents(10);
    const { unique, duplicates } = dedupe(
      [a, b, c].map((e, i) => ({ event: e, message: message(i, e) })),
      recent,
    );
    expect(unique.map((u) => u.message.offset)).toEqual(['0']);
    expect(duplicates).toBe(2);
  });

  it('collapses an entity to its newest version but still invalidates every old category (moved twice)', () => {
    const events = [
      event({ version: 2, before: { categoryId: 'A' }, after: { categoryId: 'B' } }),
      event({ version: 3, before: { categoryId: 'B' }, after: { categoryId: 'C' } }),
    ].map((e, i) => ({ event: e, message: message(i, e) }));
    const changes = coalesce(events);
    expect(changes).toHaveLength(1);
    expect(changes[0].version).toBe(3);
    const plan = resolveEffects(changes, productResolver, { strictEntityTypes: false, defaultTombstoneTtlSeconds: 60 });
    const byKey = Object.fromEntries(plan.keys.map((k) => [k.key, k]));
    expect(Object.keys(byKey).sort()).toEqual(['category:A', 'category:B', 'category:C', 'product:1']);
    expect(byKey['product:1']).toMatchObject({ action: 'warm', version: 3, value: JSON.stringify({ categoryId: 'C' }) });
    expect(plan.keys.every((k) => k.version === 3)).toBe(true);
    expect(plan.tags).toEqual([{ tag: 'all-products', version: 3, tombstoneTtlMs: 60_000 }]);
  });

  it('never warms from an older event: an out-of-order older event only tombstones', () => {
    const events = [event({ version: 5, after: { categoryId: 'N' } }), event({ version: 4, after: { categoryId: 'O' } })].map((e, i) => ({ event: e, message: message(i, e) }));
    const plan = resolveEffects(coalesce(events), productResolver, { strictEntityTypes: false, defaultTombstoneTtlSeconds: 60 });
    expect(plan.keys.find((k) => k.key === 'product:1')).toMatchObject({ action: 'warm', version: 5, value: JSON.stringify({ categoryId: 'N' }) });
  });
});

describe('InvalidationPipeline', () => {
  it('dead-letters bad input, applies the rest, commits the chunk end', async () => {
    const sink = new FakeSink();
    const dlq: Rejection[] = [];
    const control = new FakeControl();
    await pipeline(sink, dlq).process(
      { topic: 't', partition: 0, highWatermark: '3', messages: [message(0, event()), message(1, '{bad'), message(2, event({ entityType: 'order' }))] },
      control,
    );
    expect(dlq.map((r) => r.code)).toEqual(['BAD_JSON']);
    expect(sink.applied.flat().map((k) => k.key).sort()).toEqual(['category:c1', 'product:1']);
    expect(control.committed).toEqual(['2']);
  });

  it('strict mode dead-letters unknown entity types and unresolvable events, keeps going', async () => {
    const sink = new FakeSink();
    const dlq: Rejection[] = [];
    const control = new FakeControl();
    await pipeline(sink, dlq, { strict: true }).process(
      {
        topic: 't',
        partition: 0,
        highWatermark: '3',
        messages: [message(0, event({ entityType: 'order' })), message(1, event({ entityId: '2', after: { categoryId: 'x*' } })), message(2, event({ entityId: '3' }))],
      },
      control,
    );
    expect(dlq.map((r) => [r.offset, r.code])).toEqual([
      ['0', 'UNKNOWN_ENTITY_TYPE'],
      ['1', 'UNRESOLVABLE'],
    ]);
    expect(dlq[1].reason).toContain('TEMPLATE_WIDENS_KEY');
    expect(sink.applied.flat().map((k) => k.key)).toEqual(['product:3', 'category:c1']);
    expect(control.committed).toEqual(['2']);
  });

  it('pauses and retries while Redis fails, commits only after the apply succeeded', async () => {
    const sink = new FakeSink();
    sink.failuresLeft = 3;
    const control = new FakeControl();
    await pipeline(sink, []).process({ topic: 't', partition: 0, highWatermark: '1', messages: [message(0, event())] }, control);
    expect(sink.applied).toHaveLength(1);
    expect(control.paused).toBe(1);
    expect(control.resumed).toBe(1);
    expect(control.committed).toEqual(['0']);
  });

  it('abandons the batch uncommitted when it is no longer ours (shutdown or rebalance)', async () => {
    const sink = new FakeSink();
    sink.failuresLeft = 1_000_000;
    const control = new FakeControl();
    const run = pipeline(sink, []).process({ topic: 't', partition: 0, highWatermark: '1', messages: [message(0, event())] }, control);
    setTimeout(() => (control.active = false), 20);
    await run;
    expect(control.committed).toEqual([]);
    expect(control.resumed).toBe(1);
  });

  it('commits chunk by chunk so a long batch makes progress between heartbeats', async () => {
    const sink = new FakeSink();
    const control = new FakeControl();
    const messages = Array.from({ length: 5 }, (_, i) => message(i, event({ entityId: String(i) })));
    await pipeline(sink, [], { chunkSize: 2 }).process({ topic: 't', partition: 0, highWatermark: '5', messages }, control);
    expect(control.committed).toEqual(['1', '3', '4']);
  });
});

describe('RecentEvents', () => {
  it('remembers at least the last capacity/2 identities and never grows past capacity', () => {
    const recent = new RecentEvents(100);
    for (let i = 0; i < 1000; i += 1) recent.remember(`e${i}`);
    for (let i = 950; i < 1000; i += 1) expect(recent.has(`e${i}`)).toBe(true);
    expect(recent.has('e0')).toBe(false);
    expect(recent.size).toBeLessThanOrEqual(100);
  });
});

describe('resolveEffects across entities', () => {
  it('deletes a key shared by two entities unversioned (their versions do not compare) and never warms it', () => {
    const shared: MappingResolver = {
      mappingCount: 1,
      hasEntityType: () => true,
      resolve: (e) => ({ keys: [{ key: 'shared', action: 'warm', tombstoneTtlSeconds: 60, value: JSON.stringify(e.after), mappingId: 'm' }], tags: [] }),
    };
    const events = [event({ entityId: 'a', version: 9 }), event({ entityId: 'b', version: 2 })].map((e, i) => ({ event: e, message: message(i, e) }));
    const plan = resolveEffects(coalesce(events), shared, { strictEntityTypes: false, defaultTombstoneTtlSeconds: 60 });
    expect(plan.keys).toEqual([{ key: 'shared', version: 0, action: 'delete', tombstoneTtlMs: 60_000 }]);
  });

  it('dead-letters an event whose tag the cache protocol would refuse, instead of retrying forever', async () => {
    const sink = Object.assign(new FakeSink(), { checkTag: (tag: string) => (tag.startsWith('~') ? new Error('reserved prefix') : undefined) });
    const tagged: MappingResolver = { ...productResolver, resolve: (e) => ({ keys: [], tags: [`~${e.entityId}`] }) };
    const dlq: Rejection[] = [];
    const control = new FakeControl();
    const p = new InvalidationPipeline(() => tagged, sink, { send: async (r) => void dlq.push(...r) }, new RecentEvents(10), new InvalidatorMetrics(new Registry()),
      { maxEventBytes: 2048, strictEntityTypes: false, defaultTombstoneTtlSeconds: 60, chunkSize: 10, retry: { initialMs: 1, maxMs: 2 } }, silent);
    await p.process({ topic: 't', partition: 0, highWatermark: '1', messages: [message(0, event())] }, control);
    expect(dlq.map((r) => r.code)).toEqual(['UNRESOLVABLE']);
    expect(sink.tags).toEqual([]);
    expect(control.committed).toEqual(['0']);
  });
});
