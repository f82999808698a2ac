// Pure pipeline logic with fakes for Redis and Kafka (the guarantees themselves are proven
// against the real servers in test/invalidator-*.e2e-spec.ts).
import { Registry } from 'prom-client';
import pino from 'pino';
import type { KeyEffect, EffectOutcome, TagEffect } from '@app/cache-protocol/effects';
import type { BatchControl, InboundMessage } from '@app/kafka';
import type { MappingResolver, Resolution } from '@app/registry-core/types';
import type { EntityUpdated } from '@app/contracts';
import { InvalidatorMetrics } from '../metrics/invalidator-metrics';
import { coalesce } from './coalesce';
import { DLQ_HEADERS } from '@app/contracts';
import type { OutboundRecord } from '@app/kafka';
import { deadLetterBudget, recordBytes, REFERENCE_HEAD_BYTES } from './dead-letter-records';
import type { DeadLetterSink } from './dead-letter';
import { decode } from './decode';
import { dedupe, RecentEvents } from './dedupe';
import { chunkEnd, InvalidationPipeline } from './invalidation.pipeline';
import { PlanApplier } from '@app/cache-protocol';
import type { NamespaceBump, NamespaceBumpResult } from '@app/cache-protocol';
import { resolveEffects } from './resolve';
import { INVALIDATOR_METRIC_NAMES } from '@app/telemetry';

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
    const after = typeof e.after?.categoryId === 'string' ? e.after.categoryId : undefined;
    const before = typeof e.before?.categoryId === 'string' ? e.before.categoryId : undefined;
    if (after?.includes('*')) throw Object.assign(new Error('value widens key'), { code: 'TEMPLATE_WIDENS_KEY' });
    const keys: Resolution['keys'] = [
      {
        key: `product:${e.entityId}`,
        action: 'warm',
        tombstoneTtlSeconds: 60,
        ttlSeconds: 30,
        value: JSON.stringify(e.after),
        mappingId: 'm',
      },
    ];
    if (after) keys.push({ key: `category:${after}`, action: 'delete', tombstoneTtlSeconds: 60, mappingId: 'm' });
    if (before) keys.push({ key: `category:${before}`, action: 'delete', tombstoneTtlSeconds: 60, mappingId: 'm' });
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
  async bumpNamespaces(bumps: readonly NamespaceBump[]): Promise<NamespaceBumpResult[]> {
    return bumps.map((b) => ({ namespace: b.namespace, bumped: true, generation: 1 }));
  }
  checkKeyEffect(): Error | undefined {
    return undefined;
  }
  checkTag(_tag: string): Error | undefined {
    return undefined;
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

/** What a test sees of a dead letter: the headers the pipeline wrote. */
interface Letter {
  code: string;
  offset: string;
  reason: string;
}

function dlqSink(letters: Letter[], failuresLeft = 0): DeadLetterSink & { attempts: number } {
  const sink = {
    attempts: 0,
    maxBatchBytes: () => 1_048_588,
    async send(records: { headers: Record<string, string | Buffer> }[]) {
      sink.attempts += 1;
      if (failuresLeft > 0) {
        failuresLeft -= 1;
        throw new Error('KafkaJSNumberOfRetriesExceeded: This server does not host this topic-partition');
      }
      for (const r of records)
        letters.push({
          code: String(r.headers[DLQ_HEADERS.reasonCode]),
          offset: String(r.headers[DLQ_HEADERS.originOffset]),
          reason: String(r.headers[DLQ_HEADERS.reason]),
        });
    },
  };
  return sink;
}

/** The pipeline's options in these tests (each test overrides what it is about). */
const OPTIONS = {
  maxEventBytes: 2048,
  strictEntityTypes: false,
  defaultTombstoneTtlSeconds: 60,
  chunkSize: 100,
  chunkMaxBytes: 1_048_576,
  retry: { initialMs: 1, maxMs: 2 },
};

function pipeline(sink: FakeSink, deadLetters: Letter[], options: { strict?: boolean; chunkSize?: number; chunkMaxBytes?: number } = {}) {
  return new InvalidationPipeline(
    () => productResolver,
    new PlanApplier(sink),
    dlqSink(deadLetters),
    new RecentEvents(1000),
    new InvalidatorMetrics(new Registry()),
    {
      ...OPTIONS,
      strictEntityTypes: options.strict ?? false,
      chunkSize: options.chunkSize ?? OPTIONS.chunkSize,
      chunkMaxBytes: options.chunkMaxBytes ?? OPTIONS.chunkMaxBytes,
    },
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
  it('drops duplicates by entity+version: a redelivery and a republish under a new eventId', () => {
    const a = event({ eventId: 'same', version: 1 });
    const redelivered = event({ eventId: 'same', version: 1 });
    const republished = event({ eventId: 'other', version: 1 });
    // the same eventId with another version is another change (a broken producer): applied, the version guards keep it harmless
    const newer = event({ eventId: 'same', version: 2 });
    const recent = new RecentEvents(10);
    const { unique, duplicates } = dedupe(
      [a, redelivered, republished, newer].map((e, i) => ({ event: e, message: message(i, e) })),
      recent,
    );
    expect(unique.map((u) => u.message.offset)).toEqual(['0', '3']);
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
    const events = [event({ version: 5, after: { categoryId: 'N' } }), event({ version: 4, after: { categoryId: 'O' } })].map((e, i) => ({
      event: e,
      message: message(i, e),
    }));
    const plan = resolveEffects(coalesce(events), productResolver, { strictEntityTypes: false, defaultTombstoneTtlSeconds: 60 });
    expect(plan.keys.find((k) => k.key === 'product:1')).toMatchObject({
      action: 'warm',
      version: 5,
      value: JSON.stringify({ categoryId: 'N' }),
    });
  });
});

describe('InvalidationPipeline', () => {
  it('dead-letters bad input, applies the rest, commits the chunk end', async () => {
    const sink = new FakeSink();
    const dlq: Letter[] = [];
    const control = new FakeControl();
    await pipeline(sink, dlq).process(
      {
        topic: 't',
        partition: 0,
        highWatermark: '3',
        messages: [message(0, event()), message(1, '{bad'), message(2, event({ entityType: 'order' }))],
      },
      control,
    );
    expect(dlq.map((r) => r.code)).toEqual(['BAD_JSON']);
    expect(
      sink.applied
        .flat()
        .map((k) => k.key)
        .sort(),
    ).toEqual(['category:c1', 'product:1']);
    expect(control.committed).toEqual(['2']);
  });

  it('strict mode dead-letters unknown entity types and unresolvable events, keeps going', async () => {
    const sink = new FakeSink();
    const dlq: Letter[] = [];
    const control = new FakeControl();
    await pipeline(sink, dlq, { strict: true }).process(
      {
        topic: 't',
        partition: 0,
        highWatermark: '3',
        messages: [
          message(0, event({ entityType: 'order' })),
          message(1, event({ entityId: '2', after: { categoryId: 'x*' } })),
          message(2, event({ entityId: '3' })),
        ],
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

  it('ends a chunk at CHUNK_MAX_BYTES too, so large events make small chunks; an event larger than that is a chunk of its own', async () => {
    const sink = new FakeSink();
    const control = new FakeControl();
    const small = (i: number) => message(i, event({ entityId: String(i) }));
    const big = (i: number) => message(i, event({ entityId: String(i), after: { blob: 'x'.repeat(1500) } }));
    const messages = [small(0), small(1), big(2), small(3), small(4), small(5)];
    const size = (m: InboundMessage) => (m.value?.length ?? 0) + (m.key?.length ?? 0);
    // room for about two small events: [0, 1], [2] alone (over the limit by itself), [3, 4], [5]
    const limit = size(messages[0]) + size(messages[1]) + 10;
    expect(size(messages[2])).toBeGreaterThan(limit);
    await pipeline(sink, [], { chunkSize: 100, chunkMaxBytes: limit }).process(
      { topic: 't', partition: 0, highWatermark: '6', messages },
      control,
    );
    expect(control.committed).toEqual(['1', '2', '4', '5']);
    // nothing lost: every event's key was applied
    expect(
      sink.applied
        .flat()
        .map((e) => e.key)
        .filter((k) => k.startsWith('product:'))
        .sort(),
    ).toEqual(['product:0', 'product:1', 'product:2', 'product:3', 'product:4', 'product:5']);
  });
});

describe('chunkEnd', () => {
  const m = (bytes: number, key = 0) => ({ value: Buffer.alloc(bytes), key: key ? Buffer.alloc(key) : null }) as InboundMessage;
  it('counts keys and values, stops before the message that would go over, never returns an empty chunk', () => {
    const list = [m(40, 10), m(50), m(200), m(1)];
    expect(chunkEnd(list, 0, 100, 100)).toBe(2); // 50 + 50 fits, + 200 does not
    expect(chunkEnd(list, 2, 100, 100)).toBe(3); // 200 alone: over the limit, still one message
    expect(chunkEnd(list, 3, 100, 100)).toBe(4);
    expect(chunkEnd(list, 0, 1, 1_000)).toBe(1); // the count limit
    expect(chunkEnd(list, 0, 100, 1_000)).toBe(4);
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
      resolve: (e) => ({
        keys: [{ key: 'shared', action: 'warm', tombstoneTtlSeconds: 60, value: JSON.stringify(e.after), mappingId: 'm' }],
        tags: [],
      }),
    };
    const events = [event({ entityId: 'a', version: 9 }), event({ entityId: 'b', version: 2 })].map((e, i) => ({
      event: e,
      message: message(i, e),
    }));
    const plan = resolveEffects(coalesce(events), shared, { strictEntityTypes: false, defaultTombstoneTtlSeconds: 60 });
    expect(plan.keys).toEqual([{ key: 'shared', version: 0, action: 'delete', tombstoneTtlMs: 60_000 }]);
  });

  it('dead-letters an event whose tag the cache protocol would refuse, instead of retrying forever', async () => {
    const sink = Object.assign(new FakeSink(), {
      checkTag: (tag: string) => (tag.startsWith('~') ? new Error('reserved prefix') : undefined),
    });
    const tagged: MappingResolver = { ...productResolver, resolve: (e) => ({ keys: [], tags: [`~${e.entityId}`] }) };
    const dlq: Letter[] = [];
    const control = new FakeControl();
    const p = new InvalidationPipeline(
      () => tagged,
      new PlanApplier(sink),
      dlqSink(dlq),
      new RecentEvents(10),
      new InvalidatorMetrics(new Registry()),
      { ...OPTIONS, chunkSize: 10 },
      silent,
    );
    await p.process({ topic: 't', partition: 0, highWatermark: '1', messages: [message(0, event())] }, control);
    expect(dlq.map((r) => r.code)).toEqual(['UNRESOLVABLE']);
    expect(sink.tags).toEqual([]);
    expect(control.committed).toEqual(['0']);
  });
});

describe('metrics of a committed chunk', () => {
  it('an event whose parts two mappings refuse counts once: the chunk commits instead of failing on a negative counter', async () => {
    // Two teams' mappings refuse their parts of the same event (the checker's hostile team did this).
    const twoRefusals: MappingResolver = {
      ...productResolver,
      resolve: (e) => ({
        ...productResolver.resolve(e),
        failed: ['mallory.a', 'mallory.b'].map((mappingId) => ({
          mappingId,
          owner: 'mallory',
          code: 'FOREIGN_KEYSPACE',
          message: 'not yours',
        })),
      }),
    };
    const registry = new Registry();
    const dlq: Letter[] = [];
    const control = new FakeControl();
    const p = new InvalidationPipeline(
      () => twoRefusals,
      new PlanApplier(new FakeSink()),
      dlqSink(dlq),
      new RecentEvents(10),
      new InvalidatorMetrics(registry),
      { ...OPTIONS, chunkSize: 10 },
      silent,
    );
    await p.process(
      { topic: 't', partition: 0, highWatermark: '2', messages: [message(0, event()), message(1, event({ entityId: '2' }))] },
      control,
    );
    expect(dlq.map((l) => l.code)).toEqual(['FOREIGN_KEYSPACE', 'FOREIGN_KEYSPACE', 'FOREIGN_KEYSPACE', 'FOREIGN_KEYSPACE']);
    expect(control.committed).toEqual(['1']);
    // Both events had a part dead-lettered: neither counts as applied (and the counter never goes down).
    expect(await registry.getSingleMetricAsString(INVALIDATOR_METRIC_NAMES.applied)).toMatch(/ 0$/m);
  });
});

describe('dead letters never halt a partition', () => {
  const options = OPTIONS;
  const withSink = (sink: FakeSink, dlq: DeadLetterSink, registry = new Registry()) =>
    new InvalidationPipeline(
      () => productResolver,
      new PlanApplier(sink),
      dlq,
      new RecentEvents(10),
      new InvalidatorMetrics(registry),
      options,
      silent,
    );

  it('a DLQ outage pauses the partition, retries with backoff (heartbeating), commits only once the dead letters are in', async () => {
    const letters: Letter[] = [];
    const dlq = dlqSink(letters, 3);
    const control = new FakeControl();
    const registry = new Registry();
    await withSink(new FakeSink(), dlq, registry).process(
      { topic: 't', partition: 0, highWatermark: '2', messages: [message(0, '{bad'), message(1, event())] },
      control,
    );
    expect(dlq.attempts).toBe(4);
    expect(letters.map((l) => l.code)).toEqual(['BAD_JSON']);
    expect([control.paused, control.resumed]).toEqual([1, 1]);
    expect(control.committed).toEqual(['1']);
    expect(await registry.getSingleMetricAsString(INVALIDATOR_METRIC_NAMES.deadLetterFailures)).toMatch(/ 3$/m);
  });

  it('abandons the chunk uncommitted when the batch is taken away during a DLQ outage', async () => {
    const control = new FakeControl();
    const sink = new FakeSink();
    const run = withSink(sink, dlqSink([], 1_000_000)).process(
      { topic: 't', partition: 0, highWatermark: '2', messages: [message(0, '{bad'), message(1, event())] },
      control,
    );
    setTimeout(() => (control.active = false), 20);
    await run;
    expect(control.committed).toEqual([]);
    expect(sink.applied).toEqual([]);
    expect(control.resumed).toBe(1);
  });

  it('splits a chunk of dead letters into produce requests under the DLQ topic limit', async () => {
    const sent: number[][] = [];
    const dlq: DeadLetterSink = {
      maxBatchBytes: () => 8192,
      send: async (records) => void sent.push(records.map((r) => recordBytes(r))),
    };
    const control = new FakeControl();
    const bad = Array.from({ length: 5 }, (_, i) => message(i, `{bad ${'x'.repeat(1900)}`));
    await withSink(new FakeSink(), dlq).process({ topic: 't', partition: 0, highWatermark: '5', messages: bad }, control);
    expect(sent.flat()).toHaveLength(5);
    expect(sent.length).toBeGreaterThan(1);
    for (const request of sent) expect(request.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(deadLetterBudget(8192));
    expect(control.committed).toEqual(['4']);
  });

  it('dead-letters a record too large for the DLQ topic as a reference: origin, size, reason, first bytes', async () => {
    const sent: OutboundRecord[] = [];
    const dlq: DeadLetterSink = { maxBatchBytes: () => 4096, send: async (records) => void sent.push(...records) };
    const control = new FakeControl();
    const value = `{"blob":"${'z'.repeat(10_000)}"}`;
    await withSink(new FakeSink(), dlq).process(
      { topic: 't', partition: 0, highWatermark: '2', messages: [{ ...message(0, value), key: Buffer.from('k') }, message(1, event())] },
      control,
    );
    expect(sent).toHaveLength(1);
    const [ref] = sent;
    expect(ref.headers).toMatchObject({
      [DLQ_HEADERS.truncated]: 'true',
      [DLQ_HEADERS.originalBytes]: String(value.length),
      [DLQ_HEADERS.reasonCode]: 'OVERSIZED',
      [DLQ_HEADERS.originOffset]: '0',
    });
    expect(String(ref.key)).toBe('k');
    const envelope = JSON.parse(String(ref.value)) as { headBase64: string };
    expect(envelope).toMatchObject({ reference: true, code: 'OVERSIZED', originalBytes: value.length, headBytes: REFERENCE_HEAD_BYTES });
    expect(Buffer.from(envelope.headBase64, 'base64').toString()).toBe(value.slice(0, REFERENCE_HEAD_BYTES));
    expect(recordBytes(ref)).toBeLessThan(4096);
    expect(control.committed).toEqual(['1']);
  });

  it('re-splits when the broker refuses a request as too large (the topic limit shrank), down to a reference for a single big record', async () => {
    const tooLarge = Object.assign(new Error('The request included a message larger than the max message size the server will accept'), {
      type: 'MESSAGE_TOO_LARGE',
    });
    const sent: OutboundRecord[] = [];
    const dlq: DeadLetterSink = {
      maxBatchBytes: () => 1_048_588,
      send: async (records) => {
        if (records.length > 1 || recordBytes(records[0]) > 3000) throw tooLarge;
        sent.push(...records);
      },
    };
    const control = new FakeControl();
    const messages = [message(0, '{small'), message(1, `{big ${'q'.repeat(5000)}`), message(2, '{small2')];
    await withSink(new FakeSink(), dlq).process({ topic: 't', partition: 0, highWatermark: '3', messages }, control);
    expect(sent.map((r) => [r.headers[DLQ_HEADERS.originOffset], r.headers[DLQ_HEADERS.truncated]])).toEqual([
      ['0', undefined],
      ['1', 'true'],
      ['2', undefined],
    ]);
    expect(control.paused).toBe(0);
    expect(control.committed).toEqual(['2']);
  });
});

describe('purge failures: one letter per failed part, refused items with their own code', () => {
  it('dead-letters a refused purge item as PURGE_REFUSED and a failed one as PURGE_FAILED, and commits the chunk', async () => {
    const resolver: MappingResolver = {
      mappingCount: 2,
      hasEntityType: (t) => t === 'product',
      resolve(e: EntityUpdated): Resolution {
        return {
          keys: [{ key: `product:${e.entityId}`, action: 'tombstone', tombstoneTtlSeconds: 60, mappingId: 'shop.product' }],
          tags: [],
          purges: [
            { mappingId: 'shop.product', team: 'shop', tags: [`product:${e.entityId}`], urls: [] },
            { mappingId: 'promo.product', team: 'promo', tags: [], urls: ['http://127.0.0.1/x'] },
          ],
        };
      },
    };
    const purge = {
      enabled: true,
      // the sink's own answer: a URL it refused before sending, a tag its target did not take
      purge: async (items: readonly { team?: string }[]) => ({
        attempts: 1,
        failed: items.map((item) => ({
          item,
          error: item.team === 'promo' ? 'refused: "http://127.0.0.1/x": 127.0.0.1 is a loopback address' : 'varnish: HTTP 503',
        })),
      }),
    };
    const letters: Letter[] = [];
    const control = new FakeControl();
    const p = new InvalidationPipeline(
      () => resolver,
      new PlanApplier(new FakeSink()),
      dlqSink(letters),
      new RecentEvents(10),
      new InvalidatorMetrics(new Registry()),
      OPTIONS,
      silent,
      { purge: purge as never },
    );
    await p.process({ topic: 't', partition: 0, messages: [message(0, event({ entityId: '7' }))] } as never, control);
    expect(letters.map((l) => l.code).sort()).toEqual(['PURGE_FAILED', 'PURGE_REFUSED']);
    expect(letters.find((l) => l.code === 'PURGE_REFUSED')?.reason).toMatch(/mapping "promo.product" of team "promo": refused: /);
    expect(control.committed).toEqual(['0']);
  });
});
