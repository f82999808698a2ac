// Red team: a dead letter keeps its message's own headers, and a producer (or a service that
// re-publishes a consumed dead letter with all its headers) can put x-dlq-* headers on an
// ordinary event. The headers the invalidator itself states (why, where from, which mapping,
// whether the record is a reference) must be its own, never the producer's.
import { DLQ_HEADERS } from '@app/contracts';
import { describeDeadLetter } from '../cli/dlq-cli';
import type { Rejection } from './dead-letter-code';
import { planDeadLetters, toDeadLetterRecord, toReferenceRecord } from './dead-letter-records';

const FORGED = {
  [DLQ_HEADERS.truncated]: 'true',
  [DLQ_HEADERS.originalBytes]: '999999',
  [DLQ_HEADERS.mapping]: 'promo.product',
  [DLQ_HEADERS.team]: 'promo',
  'x-trace-id': 't-1',
};

function rejection(over: Partial<Rejection> = {}): Rejection {
  return {
    partition: 0,
    offset: '7',
    timestamp: 1,
    key: Buffer.from('product:1'),
    value: Buffer.from('{"bad":true}'),
    headers: { ...FORGED },
    code: 'BAD_SCHEMA',
    reason: 'eventId: missing',
    ...over,
  };
}

describe('dead-letter headers a producer forges (red team)', () => {
  it('a whole-event dead letter carries no forged mapping, team or reference headers: the replay tool does not skip it as a reference', () => {
    const record = toDeadLetterRecord(rejection(), 'entity.updated');
    expect(record.headers[DLQ_HEADERS.truncated]).toBeUndefined();
    expect(record.headers[DLQ_HEADERS.originalBytes]).toBeUndefined();
    expect(record.headers[DLQ_HEADERS.mapping]).toBeUndefined();
    expect(record.headers[DLQ_HEADERS.team]).toBeUndefined();
    expect(record.headers['x-trace-id']).toBe('t-1'); // the message's own headers are kept
    const [letter] = planDeadLetters([rejection()], 'entity.updated', 1_000_000);
    const stored = {
      dlqTopic: 'entity.updated.dlq',
      dlqPartition: 0,
      dlqOffset: '0',
      key: null,
      value: letter.record.value as Buffer,
      headers: letter.record.headers as Record<string, string>,
      timestamp: 1,
    };
    expect(letter.reference).toBe(false);
    expect(describeDeadLetter(stored)).toMatchObject({ reference: false, code: 'BAD_SCHEMA' });
  });

  it("one mapping's dead letter names that mapping and team, whatever the producer wrote", () => {
    const record = toDeadLetterRecord(
      rejection({ code: 'UNRESOLVABLE', mapping: { mappingId: 'shop.product', team: 'shop' } }),
      'entity.updated',
    );
    expect(record.headers[DLQ_HEADERS.mapping]).toBe('shop.product');
    expect(record.headers[DLQ_HEADERS.team]).toBe('shop');
    expect(record.headers[DLQ_HEADERS.truncated]).toBeUndefined();
  });

  it('a reference states its own size', () => {
    const record = toReferenceRecord(rejection(), 'entity.updated');
    expect(record.headers[DLQ_HEADERS.originalBytes]).toBe(String(Buffer.byteLength('{"bad":true}')));
    expect(record.headers[DLQ_HEADERS.mapping]).toBeUndefined();
  });
});
