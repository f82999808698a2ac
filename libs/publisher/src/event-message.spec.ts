import { EntityUpdated, EVENT_HEADERS } from '@app/contracts';
import { InvalidEventError } from './errors';
import { encodeEventMessage } from './event-message';

const good: EntityUpdated = {
  eventId: 'e1',
  entityType: 'product',
  entityId: 'p-1',
  version: 3,
  occurredAt: '2026-01-01T00:00:00.000Z',
  after: { price: 1 },
};

function refusal(event: unknown, max?: number): InvalidEventError {
  try {
    encodeEventMessage({ event: event as EntityUpdated }, max);
  } catch (error) {
    if (error instanceof InvalidEventError) return error;
    throw error;
  }
  throw new Error('expected the event to be refused');
}

describe('encodeEventMessage', () => {
  it('keys by entityType:entityId and sets schema version, content type and trace id headers', () => {
    const message = encodeEventMessage({ event: good, traceId: 'trace-9' });
    expect(message.key).toBe('product:p-1');
    expect(JSON.parse(String(message.value))).toEqual(good);
    expect(message.headers).toEqual({
      [EVENT_HEADERS.schemaVersion]: '1',
      [EVENT_HEADERS.contentType]: 'application/json',
      [EVENT_HEADERS.traceId]: 'trace-9',
    });
  });

  it('uses the event id as trace id when none is given', () => {
    expect(encodeEventMessage({ event: good }).headers?.[EVENT_HEADERS.traceId]).toBe('e1');
  });

  it.each([
    ['version', { ...good, version: 0 }],
    ['version', { ...good, version: '3' }],
    ['version', { ...good, version: 1.5 }],
    ['entityId', { ...good, entityId: 'p*' }],
    ['entityType', { ...good, entityType: 'prod:uct' }],
    ['tenant', { ...good, tenant: 'a b' }],
    ['eventId', { ...good, eventId: '' }],
    ['occurredAt', { ...good, occurredAt: 'yesterday' }],
    ['after', { ...good, after: 'price=1' }],
  ])('refuses a bad %s and names it', (field, event) => {
    const error = refusal(event);
    expect(error.code).toBe('INVALID_EVENT');
    expect(error.field).toBe(field);
    expect(error.message).toContain(field);
  });

  it('refuses an event over the size limit with EVENT_TOO_LARGE', () => {
    const error = refusal({ ...good, after: { blob: 'x'.repeat(2000) } }, 1000);
    expect(error.code).toBe('EVENT_TOO_LARGE');
    expect(error.message).toContain('maxEventBytes');
  });
});
