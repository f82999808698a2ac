// Debezium change events (the PostgreSQL connector's JSON, with and without schemas) -> events.
// The envelopes are shaped like what Debezium 3.6 writes for the example catalog's table
// (test/cdc runs the real connector end to end).
import type { InboundMessage } from '@app/kafka';
import { CdcSource, CdcSourceFor, decodeDebezium } from './decode-debezium';

const SOURCE: CdcSource = {
  entityType: 'product',
  idColumns: ['id'],
  versionColumn: 'version',
  tenantColumn: 'tenant',
  fields: { category_id: 'categoryId', updated_at: 'updatedAt' },
  numericColumns: ['price'],
  excludeColumns: ['secret'],
};

const row = (version: number, over: Record<string, unknown> = {}) => ({
  id: 'p-1',
  tenant: 'acme',
  name: 'Mug',
  price: version === 1 ? '9.50' : '11.00',
  category_id: version === 1 ? 'kitchen' : 'office',
  version,
  updated_at: '2026-12-06T23:19:36.630000Z',
  secret: 'never in a cache',
  ...over,
});

const src = (lsn: number | bigint = 26559320) => ({
  version: '3.6.1.Final',
  connector: 'postgresql',
  name: 'cdc.catalog',
  ts_ms: 1796599176649,
  snapshot: 'false',
  db: 'postgres',
  schema: 'public',
  table: 'catalog_products',
  txId: 728,
  lsn,
  xmin: null,
});

let offset = 0;
function message(value: unknown, raw?: string | null): InboundMessage {
  const text =
    raw !== undefined
      ? raw
      : JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `__BIG${v}__` : v)).replace(/"__BIG(\d+)__"/g, '$1');
  return {
    topic: 'cdc.catalog.public.catalog_products',
    partition: 0,
    offset: String(offset++),
    key: Buffer.from('{"id":"p-1"}'),
    value: text === null ? null : Buffer.from(text),
    headers: {},
    timestamp: 0,
  };
}

const decode = (...messages: InboundMessage[]) => decodeDebezium(messages, { maxEventBytes: 65_536, source: SOURCE });

describe('decodeDebezium', () => {
  it('an update becomes the event the outbox would carry: row version, renamed fields, decimals as numbers, excluded columns gone', () => {
    const { events, rejected, skipped } = decode(message({ before: row(1), after: row(2), source: src(), op: 'u', ts_ms: 1796599176700 }));
    expect(rejected).toEqual([]);
    expect(skipped).toEqual({});
    const e = events[0].event;
    expect(e).toMatchObject({ entityType: 'product', entityId: 'p-1', version: 2, tenant: 'acme', occurredAt: '2026-12-06T23:19:36.649Z' });
    expect(e.after).toEqual({
      id: 'p-1',
      tenant: 'acme',
      name: 'Mug',
      price: 11,
      categoryId: 'office',
      version: 2,
      updatedAt: '2026-12-06T23:19:36.630000Z',
    });
    expect(e.before).toMatchObject({ categoryId: 'kitchen', price: 9.5 });
    expect(e.changedFields?.sort()).toEqual(['categoryId', 'price', 'version']);
    expect(e.eventId).toMatch(/^cdc:26559320:[0-9a-f]{24}$/);
  });

  it('the JSON converter with schemas gives the same event as without', () => {
    const envelope = { before: row(1), after: row(2), source: src(), op: 'u', ts_ms: 1796599176700 };
    const plain = decode(message(envelope)).events[0].event;
    const wrapped = decode(
      message({ schema: { type: 'struct', fields: [], name: 'cdc.catalog.public.catalog_products.Envelope' }, payload: envelope }),
    ).events[0].event;
    expect(wrapped).toEqual(plain);
  });

  it('creates and snapshot reads carry after only; a delete carries before only, at the version after the row last had', () => {
    const { events } = decode(
      message({ before: null, after: row(1), source: src(1), op: 'c' }),
      message({ before: null, after: row(1), source: src(2), op: 'r' }),
      message({ before: row(2), after: null, source: src(3), op: 'd' }),
    );
    expect(events.map((d) => [d.event.version, d.event.before !== undefined, d.event.after !== undefined])).toEqual([
      [1, false, true],
      [1, false, true],
      [3, true, false],
    ]);
    expect(events[2].event.before).toMatchObject({ categoryId: 'office' });
  });

  it('skips what is not a row change, never dead-letters it: the tombstone after a delete, heartbeats, messages, truncates, schema changes', () => {
    const { events, rejected, skipped } = decode(
      message(null, null),
      message(null, ''),
      message({ schema: null, payload: null }),
      message({ ts_ms: 1796599176649 }),
      message({ op: 'm', source: src(), message: { prefix: 'x', content: 'eA==' } }),
      message({ op: 't', source: src() }),
      message({ source: src(), ddl: 'ALTER TABLE ...', tableChanges: [] }),
    );
    expect(events).toEqual([]);
    expect(rejected).toEqual([]);
    expect(skipped).toEqual({ tombstone: 3, heartbeat: 1, message: 1, truncate: 1, schema_change: 1 });
  });

  it('a delete without the old row (REPLICA IDENTITY DEFAULT) is dead-lettered naming the fix, not applied half-way', () => {
    const keyOnly = { id: 'p-1', tenant: null, name: null, price: null, category_id: null, version: null, updated_at: null };
    const { events, rejected } = decode(
      message({ before: keyOnly, after: null, source: src(), op: 'd' }),
      message({ before: null, after: null, source: src(), op: 'd' }),
    );
    expect(events).toEqual([]);
    expect(rejected.map((r) => r.code)).toEqual(['CDC_MISSING_COLUMNS', 'CDC_MISSING_COLUMNS']);
    expect(rejected[0].reason).toMatch(/REPLICA IDENTITY FULL/);
  });

  it('without a version column the WAL position is the version; one beyond 2^53 is refused, never rounded', () => {
    const lsnSource = { ...SOURCE, versionColumn: undefined };
    const ok = decodeDebezium([message({ before: null, after: row(1), source: src(123456789), op: 'c' })], {
      maxEventBytes: 65_536,
      source: lsnSource,
    });
    expect(ok.events[0].event.version).toBe(123456789);
    const big = decodeDebezium([message({ before: null, after: row(1), source: src(9007199254740993n), op: 'c' })], {
      maxEventBytes: 65_536,
      source: lsnSource,
    });
    expect(big.rejected.map((r) => r.code)).toEqual(['UNSAFE_INTEGER']);
  });

  describe('hostile rows and misrouted topics', () => {
    it('an id or tenant that is unsafe in a Redis key (glob, colon, brace, space) is dead-lettered', () => {
      const { events, rejected } = decode(
        message({ before: null, after: row(1, { id: 'p*' }), source: src(), op: 'c' }),
        message({ before: null, after: row(1, { id: 'a:b' }), source: src(), op: 'c' }),
        message({ before: null, after: row(1, { tenant: '{acme}' }), source: src(), op: 'c' }),
        message({ before: null, after: row(1, { id: 'p 1' }), source: src(), op: 'c' }),
      );
      expect(events).toEqual([]);
      expect(rejected.map((r) => r.code)).toEqual(['BAD_SCHEMA', 'BAD_SCHEMA', 'BAD_SCHEMA', 'BAD_SCHEMA']);
    });

    it('a version column that is not an integer, zero or negative is dead-lettered', () => {
      const { events, rejected } = decode(
        message({ before: null, after: row(1, { version: '7' }), source: src(), op: 'c' }),
        message({ before: null, after: row(1, { version: 0 }), source: src(), op: 'c' }),
        message({ before: null, after: row(1, { version: -3 }), source: src(), op: 'c' }),
      );
      expect(events).toEqual([]);
      expect(rejected.map((r) => r.code)).toEqual(['CDC_MISSING_COLUMNS', 'CDC_MISSING_COLUMNS', 'CDC_MISSING_COLUMNS']);
    });

    it('an entity.updated event or garbage on the CDC topic is dead-lettered with a reason, not skipped', () => {
      const { events, rejected, skipped } = decode(
        message({ eventId: 'e1', entityType: 'product', entityId: 'p-1', version: 2, occurredAt: new Date().toISOString() }),
        message(null, '{not json'),
        message(null, '[1,2]'),
        message({ op: 'x', source: src() }),
      );
      expect(events).toEqual([]);
      expect(skipped).toEqual({});
      expect(rejected.map((r) => r.code)).toEqual(['BAD_SCHEMA', 'BAD_JSON', 'BAD_SCHEMA', 'BAD_SCHEMA']);
      expect(rejected[0].reason).toMatch(/not a Debezium change event/);
    });

    it('a column named __proto__ never becomes the prototype of the event or of anything else', () => {
      const text = JSON.stringify({ before: null, after: row(1), source: src(), op: 'c' }).replace(
        '"name":"Mug"',
        '"__proto__":{"polluted":true},"name":"Mug"',
      );
      const { events } = decode(message(null, text));
      const after = events[0].event.after!;
      expect(Object.getPrototypeOf(after)).toBe(Object.prototype);
      expect((after as { polluted?: unknown }).polluted).toBeUndefined();
      expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
    });

    it('an oversized change event is dead-lettered', () => {
      const { rejected } = decodeDebezium([message({ before: null, after: row(1, { name: 'x'.repeat(2_000) }), source: src(), op: 'c' })], {
        maxEventBytes: 1_024,
        source: SOURCE,
      });
      expect(rejected.map((r) => r.code)).toEqual(['OVERSIZED']);
    });
  });
});

describe('decodeDebezium: found by the red team', () => {
  const LSN_SOURCE: CdcSource = { ...SOURCE, versionColumn: undefined, tenantColumn: undefined };
  const codes = (r: { rejected: { code: string }[] }) => r.rejected.map((x) => x.code);

  it('never throws, whatever the record: absurd times, an lsn that is an object, a value nested 100k deep', () => {
    let deep = '"x"';
    for (let i = 0; i < 100_000; i += 1) deep = `[${deep}]`;
    const deepText = JSON.stringify({ before: row(1), after: row(2), source: src(), op: 'u' }).replace('"name":"Mug"', `"name":${deep}`);
    const messages = [
      message({ before: null, after: row(1), source: { ...src(), ts_ms: 8.64e15 + 1 }, op: 'c' }),
      message({ before: null, after: row(1), source: { ...src(), ts_ms: undefined }, op: 'c', ts_ms: 1e300 }),
      message({ before: null, after: row(1), source: { ...src(), lsn: { toString: 1 } }, op: 'c' }),
      message(null, deepText),
    ];
    let result: ReturnType<typeof decodeDebezium> | undefined;
    expect(() => (result = decodeDebezium(messages, { maxEventBytes: 1_000_000, source: SOURCE }))).not.toThrow();
    // Absurd times fall back to now; the others are dead-lettered, never thrown.
    expect(result!.events.length + result!.rejected.length).toBe(4);
  });

  it('an update without its old row (REPLICA IDENTITY switched back to DEFAULT) is dead-lettered, not applied without the old category', () => {
    expect(codes(decode(message({ before: null, after: row(2), source: src(), op: 'u' })))).toEqual(['CDC_MISSING_COLUMNS']);
  });

  it('an update that does not raise the version column is dead-lettered naming the fix (it would be deduped or skipped as older)', () => {
    const same = decode(message({ before: row(5), after: row(5, { price: '1.00' }), source: src(), op: 'u' }));
    const down = decode(message({ before: row(9), after: row(3), source: src(), op: 'u' }));
    expect([...codes(same), ...codes(down)]).toEqual(['CDC_VERSION_NOT_INCREASED', 'CDC_VERSION_NOT_INCREASED']);
    expect(same.rejected[0].reason).toMatch(/version/);
  });

  it('composite ids cannot collide: a part holding the separator is dead-lettered', () => {
    const composite: CdcSource = { ...SOURCE, idColumns: ['a', 'b'] };
    const r = decodeDebezium([message({ before: null, after: row(1, { a: 'x.y', b: 'z' }), source: src(), op: 'c' })], {
      maxEventBytes: 65_536,
      source: composite,
    });
    expect(codes(r)).toEqual(['BAD_SCHEMA']);
  });

  it('a key-only old row is dead-lettered also without version and tenant columns (LSN versioning)', () => {
    const keyOnly = { id: 'p-1', tenant: null, name: null, price: null, category_id: null, version: null };
    const defaults = { id: 'p-1', tenant: '', name: '', price: '0', category_id: '', version: 0 };
    const r = decodeDebezium(
      [
        message({ before: keyOnly, after: null, source: src(), op: 'd' }),
        message({ before: defaults, after: null, source: src(), op: 'd' }),
      ],
      { maxEventBytes: 65_536, source: LSN_SOURCE },
    );
    expect(codes(r)).toEqual(['CDC_MISSING_COLUMNS', 'CDC_MISSING_COLUMNS']);
  });

  it('an update that moves a row to another identity (tenant or a non-key id column) also invalidates the old identity', () => {
    const r = decode(message({ before: row(1), after: row(2, { tenant: 'globex' }), source: src(), op: 'u' }));
    expect(r.events.map((d) => [d.event.tenant, d.event.entityId, d.event.version, d.event.after !== undefined])).toEqual([
      ['globex', 'p-1', 2, true],
      ['acme', 'p-1', 2, false],
    ]);
  });

  it('a rename onto an existing column is dead-lettered; an excluded name is excluded also as a rename target', () => {
    const clash: CdcSource = { ...SOURCE, fields: { category_id: 'name' } };
    const r = decodeDebezium([message({ before: null, after: row(1), source: src(), op: 'c' })], { maxEventBytes: 65_536, source: clash });
    expect(codes(r)).toEqual(['BAD_SCHEMA']);
    const hidden: CdcSource = { ...SOURCE, fields: { cost_cents: 'cost' }, excludeColumns: ['cost'] };
    const ok = decodeDebezium([message({ before: null, after: row(1, { cost_cents: 120 }), source: src(), op: 'c' })], {
      maxEventBytes: 65_536,
      source: hidden,
    });
    expect(ok.events[0].event.after).not.toHaveProperty('cost');
  });

  it('a decimal beyond what a number holds exactly stays a string (never Infinity or a rounded figure)', () => {
    const r = decode(message({ before: null, after: row(1, { price: `1${'0'.repeat(400)}` }), source: src(), op: 'c' }));
    expect(r.events[0].event.after!.price).toBe(`1${'0'.repeat(400)}`);
    const big = decode(message({ before: null, after: row(1, { price: '9007199254740993' }), source: src(), op: 'c' }));
    expect(big.events[0].event.after!.price).toBe('9007199254740993');
  });
});

describe("decodeDebezium: each record decoded with its own topic's declaration (registry sources)", () => {
  const CATALOG = 'cdc.catalog.public.catalog_products';
  const OTHER = 'cdc.promo.public.campaigns';
  const at = (topic: string, m: InboundMessage): InboundMessage => ({ ...m, topic });
  const create = (topic: string, over: Record<string, unknown> = {}) =>
    at(topic, message({ before: null, after: row(1, over), source: src(), op: 'c' }));
  const bySource =
    (sources: Record<string, CdcSource>): CdcSourceFor =>
    (topic) =>
      sources[topic]
        ? { source: sources[topic] }
        : { code: 'CDC_NO_SOURCE', message: `topic "${topic}" has no source declaration in the registry` };

  it("takes entity type and columns from the declaration of the record's topic", () => {
    const campaign: CdcSource = { ...SOURCE, entityType: 'campaign', versionColumn: undefined, tenantColumn: undefined, fields: {} };
    const r = decodeDebezium([create(CATALOG), create(OTHER)], {
      maxEventBytes: 65_536,
      source: bySource({ [CATALOG]: SOURCE, [OTHER]: campaign }),
    });
    expect(r.rejected).toEqual([]);
    expect(r.events.map((e) => [e.message.topic, e.event.entityType, e.event.version, e.event.tenant])).toEqual([
      [CATALOG, 'product', 1, 'acme'],
      [OTHER, 'campaign', 26559320, undefined],
    ]);
  });

  it('a topic without a declaration: its row changes are dead-lettered CDC_NO_SOURCE naming the topic, never dropped; its tombstones and heartbeats are still skipped', () => {
    const r = decodeDebezium([create(OTHER), at(OTHER, message(null, null)), at(OTHER, message({ ts_ms: 1 })), create(CATALOG)], {
      maxEventBytes: 65_536,
      source: bySource({ [CATALOG]: SOURCE }),
    });
    expect(r.rejected.map((x) => [x.code, x.offset])).toEqual([['CDC_NO_SOURCE', expect.any(String)]]);
    expect(r.rejected[0].reason).toContain(OTHER);
    expect(r.skipped).toEqual({ tombstone: 1, heartbeat: 1 });
    expect(r.events.map((e) => e.event.entityType)).toEqual(['product']);
  });

  it("a refused declaration (another team's topic) dead-letters with its own code and reason", () => {
    const r = decodeDebezium([create(CATALOG)], {
      maxEventBytes: 65_536,
      source: () => ({ code: 'FOREIGN_KEYSPACE', message: 'source "x" (owner "promo"): topic "x" is owned by team "catalog"' }),
    });
    expect(r.rejected.map((x) => [x.code, x.reason])).toEqual([['FOREIGN_KEYSPACE', expect.stringContaining('owned by team "catalog"')]]);
  });

  describe('hostile team', () => {
    it('a huge declaration (hundreds of renames, exclusions, numeric columns) costs no more per record than none, and never throws', () => {
      const names = Array.from({ length: 256 }, (_v, i) => `c${i}`);
      const wide: CdcSource = {
        ...SOURCE,
        fields: Object.fromEntries(names.map((n) => [n, `f_${n}`])),
        numericColumns: names,
        excludeColumns: names.slice(128),
      };
      const plain: CdcSource = { ...SOURCE, fields: {}, numericColumns: [], excludeColumns: [] };
      const over = Object.fromEntries(names.map((n) => [n, '1.5']));
      const batch = Array.from({ length: 100 }, (_v, i) =>
        message({ before: row(i + 1, over), after: row(i + 2, over), source: src(), op: 'u' }),
      );
      const timed = (source: CdcSource) => {
        const started = process.hrtime.bigint();
        const result = decodeDebezium(batch, { maxEventBytes: 1_000_000, source });
        return { result, ms: Number(process.hrtime.bigint() - started) / 1e6 };
      };
      timed(plain); // warm-up
      const baseline = timed(plain);
      const r = timed(wide);
      expect(r.result.rejected).toEqual([]);
      expect(r.result.events).toHaveLength(100);
      expect(r.result.events[0].event.after).toMatchObject({ f_c0: 1.5 });
      expect(r.result.events[0].event.after).not.toHaveProperty('f_c200');
      // The row's width sets the cost (parsing it); the declaration's lists are looked up as sets.
      expect(r.ms).toBeLessThan(baseline.ms * 3 + 100);
    });

    it("a lookup that throws (a bug, never a team's input) fails only that record, as its dead letter", () => {
      const r = decodeDebezium([create(CATALOG)], {
        maxEventBytes: 65_536,
        source: () => {
          throw new Error('boom');
        },
      });
      expect(r.rejected.map((x) => x.code)).toEqual(['BAD_SCHEMA']);
    });
  });
});
