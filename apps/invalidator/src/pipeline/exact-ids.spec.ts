// Integers beyond 2^53 in events: keys carry exactly the digits that were sent, warm values
// write them back as the same digits, and a version beyond the safe range is dead-lettered.
import type { InboundMessage } from '@app/kafka';
import { MappingSetResolver } from '@app/registry-core';
import { coalesce } from './coalesce';
import { decode } from './decode';
import { resolveEffects } from './resolve';

function message(offset: number, text: string): InboundMessage {
  return { topic: 't', partition: 0, offset: String(offset), key: null, value: Buffer.from(text), headers: {}, timestamp: Date.now() };
}

const resolver = MappingSetResolver.compile(
  [
    {
      id: 'm',
      entityType: 'product',
      owner: 'catalog',
      keys: [
        { template: 'product:{entityId}', action: 'warm', warmFrom: 'after', ttlSeconds: 60, tombstoneTtlSeconds: 60 },
        { template: 'category:{after.categoryId}', action: 'delete' },
      ],
      tags: ['cat:{after.categoryId}'],
      version: 1,
    },
  ],
  { mode: 'lenient' },
);

function rawEvent(version: string, after: string): string {
  return `{"eventId":"e-${Math.random()}","entityType":"product","entityId":"p1","version":${version},"occurredAt":"2026-01-01T00:00:00.000Z","after":${after}}`;
}

describe('exact identifiers', () => {
  it('an after.categoryId beyond 2^53 gives keys and tags with exactly the digits sent, and the warm value keeps them', () => {
    const { events, rejected } = decode([message(1, rawEvent('3', '{"categoryId":9007199254740993,"name":"x"}'))], {
      maxEventBytes: 10_000,
    });
    expect(rejected).toEqual([]);
    const plan = resolveEffects(coalesce(events), resolver, { strictEntityTypes: false, defaultTombstoneTtlSeconds: 60 });
    expect(plan.unresolvable).toEqual([]);
    expect(plan.keys.map((k) => k.key).sort()).toEqual(['category:9007199254740993', 'product:p1']);
    expect(plan.tags.map((t) => t.tag)).toEqual(['cat:9007199254740993']);
    const warm = plan.keys.find((k) => k.key === 'product:p1');
    expect(warm?.action).toBe('warm');
    expect(warm?.action === 'warm' && warm.value).toBe('{"categoryId":9007199254740993,"name":"x"}');
  });

  it('a version beyond 2^53 - 1 is dead-lettered as UNSAFE_INTEGER naming the field and the digits', () => {
    const { events, rejected } = decode(
      [message(1, rawEvent('9007199254740993', '{"categoryId":1}')), message(2, rawEvent('1e300', '{"categoryId":1}'))],
      { maxEventBytes: 10_000 },
    );
    expect(events).toEqual([]);
    expect(rejected.map((r) => r.code)).toEqual(['UNSAFE_INTEGER', 'UNSAFE_INTEGER']);
    expect(rejected[0].reason).toContain('version');
    expect(rejected[0].reason).toContain('9007199254740993');
  });

  it('a safe version with a long digit run still decodes as a number', () => {
    const { events, rejected } = decode([message(1, rawEvent('9007199254740991', '{"categoryId":1}'))], { maxEventBytes: 10_000 });
    expect(rejected).toEqual([]);
    expect(events[0].event.version).toBe(9007199254740991);
  });
});
