import { validateEntityUpdated } from '@app/contracts';
import { buildEntityUpdated } from './build-event';

describe('buildEntityUpdated', () => {
  const at = new Date('2026-01-02T03:04:05.000Z');

  it('fills eventId, occurredAt and changedFields and carries the version, producing a valid event', () => {
    const event = buildEntityUpdated(
      {
        entityType: 'product',
        entityId: 'p1',
        version: 7,
        tenant: 'acme',
        before: { id: 'p1', price: 10, categoryId: 'c1', version: 6, updatedAt: 'x' },
        after: { id: 'p1', price: 12, categoryId: 'c1', version: 7, updatedAt: 'y' },
      },
      () => at,
    );
    expect(event).toMatchObject({
      entityType: 'product',
      entityId: 'p1',
      version: 7,
      tenant: 'acme',
      occurredAt: at.toISOString(),
      changedFields: ['price'],
    });
    expect(event.eventId).toMatch(/^[0-9a-f-]{36}$/);
    expect(validateEntityUpdated(event)).toEqual([]);
  });

  it('gives every event its own id unless one is supplied (re-publishing the same change keeps its id)', () => {
    const change = { entityType: 'product', entityId: 'p1', version: 1, after: { a: 1 } };
    expect(buildEntityUpdated(change).eventId).not.toBe(buildEntityUpdated(change).eventId);
    expect(buildEntityUpdated({ ...change, eventId: 'e-1' }).eventId).toBe('e-1');
  });

  it('omits absent sides and tenant instead of sending undefined', () => {
    const event = buildEntityUpdated({ entityType: 'product', entityId: 'p1', version: 1, after: { price: 1 } });
    expect(Object.keys(event)).not.toEqual(expect.arrayContaining(['before']));
    expect('tenant' in event).toBe(false);
    expect(event.changedFields).toEqual(['price']);
  });

  it('keeps explicit changedFields', () => {
    expect(buildEntityUpdated({ entityType: 't', entityId: 'i', version: 2, changedFields: ['stock'] }).changedFields).toEqual(['stock']);
  });
});
