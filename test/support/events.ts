// Builds and publishes entity.updated events the way a write service would (key = entity).
import { randomUUID } from 'node:crypto';
import type { Producer } from 'kafkajs';
import { EntityUpdated, entityMessageKey, EVENT_HEADERS } from '@app/contracts';

export function productEvent(
  entityId: string,
  version: number,
  after: Record<string, unknown>,
  before?: Record<string, unknown>,
): EntityUpdated {
  return {
    eventId: randomUUID(),
    entityType: 'product',
    entityId,
    version,
    occurredAt: new Date().toISOString(),
    after,
    before,
    tenant: 'acme',
  };
}

export async function publish(producer: Producer, topic: string, events: EntityUpdated[]): Promise<void> {
  await producer.send({
    topic,
    acks: -1,
    messages: events.map((e) => ({
      key: entityMessageKey(e.entityType, e.entityId),
      value: JSON.stringify(e),
      headers: { [EVENT_HEADERS.schemaVersion]: '1', [EVENT_HEADERS.contentType]: 'application/json' },
    })),
  });
}
