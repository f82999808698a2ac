import { EntityUpdated } from '@app/contracts';
import { createLogger } from '@app/telemetry';
import { encodeEventMessage, Publishable, toPublishRequest } from '../event-message';
import { InMemoryOutbox } from './in-memory-outbox';
import { createOutboxRecord } from './outbox';
import { OutboxRelay, RelayPublisher } from './outbox-relay';

const silent = createLogger('test', 'silent');

function event(entityId: string, version: number): EntityUpdated {
  return { eventId: `${entityId}-v${version}`, entityType: 'product', entityId, version, occurredAt: '2026-01-01T00:00:00.000Z' };
}

/** Records what was "published" (validating like the real publisher); can be told to fail. */
class RecordingPublisher implements RelayPublisher {
  published: string[] = [];
  traceIds: (string | undefined)[] = [];
  failNext = 0;
  onPublish?: () => void;

  async publishMany(events: readonly Publishable[]): Promise<void> {
    const requests = events.map(toPublishRequest);
    requests.forEach((r, i) => encodeEventMessage(r, undefined, events.length > 1 ? i : undefined));
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('kafka unavailable');
    }
    this.published.push(...requests.map((r) => r.event.eventId));
    this.traceIds.push(...requests.map((r) => r.traceId));
    this.onPublish?.();
  }
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

describe('OutboxRelay', () => {
  it('publishes records in the order they were written, with their trace ids, and marks them sent', async () => {
    const outbox = new InMemoryOutbox();
    ['p1-1', 'p2-1', 'p1-2'].forEach((id) => {
      const [entity, v] = id.split('-');
      outbox.add(createOutboxRecord(event(entity, Number(v)), `trace-${id}`));
    });
    const publisher = new RecordingPublisher();
    const relay = new OutboxRelay(outbox, publisher, { batchSize: 2, logger: silent });
    await expect(relay.drain()).resolves.toBe(3);
    expect(publisher.published).toEqual(['p1-v1', 'p2-v1', 'p1-v2']);
    expect(publisher.traceIds).toEqual(['trace-p1-1', 'trace-p2-1', 'trace-p1-2']);
    expect(outbox.pendingCount).toBe(0);
    await expect(relay.drain()).resolves.toBe(0);
  });

  it('leaves records unsent when Kafka fails and publishes them, still in order, on the next drain', async () => {
    const outbox = new InMemoryOutbox();
    outbox.add(createOutboxRecord(event('p1', 1)));
    outbox.add(createOutboxRecord(event('p1', 2)));
    const publisher = new RecordingPublisher();
    publisher.failNext = 1;
    const relay = new OutboxRelay(outbox, publisher, { logger: silent });
    await expect(relay.drain()).rejects.toThrow('kafka unavailable');
    expect(outbox.pendingCount).toBe(2);
    await relay.drain();
    expect(publisher.published).toEqual(['p1-v1', 'p1-v2']);
  });

  it('gives the claimed records back (release) when the send fails, and not when it succeeds', async () => {
    const outbox = new InMemoryOutbox();
    const released: string[][] = [];
    const claiming = Object.assign(outbox, { release: (ids: readonly string[]) => Promise.resolve(void released.push([...ids])) });
    claiming.add(createOutboxRecord(event('p1', 1)));
    claiming.add(createOutboxRecord(event('p2', 1)));
    const publisher = new RecordingPublisher();
    publisher.failNext = 1;
    const relay = new OutboxRelay(claiming, publisher, { logger: silent });
    await expect(relay.drain()).rejects.toThrow('kafka unavailable');
    expect(released).toEqual([['p1-v1', 'p2-v1']]);
    await relay.drain();
    expect(released).toHaveLength(1);
    expect(publisher.published).toEqual(['p1-v1', 'p2-v1']);
  });

  it('is at-least-once: if marking sent fails after the publish, the same events go out again', async () => {
    let failPersist = true;
    const outbox = new InMemoryOutbox({
      persistSent: () => {
        if (failPersist) throw new Error('disk full');
      },
    });
    outbox.add(createOutboxRecord(event('p1', 1)));
    const publisher = new RecordingPublisher();
    const relay = new OutboxRelay(outbox, publisher, { logger: silent });
    await expect(relay.drain()).rejects.toThrow('disk full');
    failPersist = false;
    await relay.drain();
    expect(publisher.published).toEqual(['p1-v1', 'p1-v1']); // same eventId: the invalidator dedups it
    expect(outbox.pendingCount).toBe(0);
  });

  it('sets aside a record the publisher refuses, with the reason, and publishes the others', async () => {
    const failed: string[] = [];
    const outbox = new InMemoryOutbox({ persistFailed: (id) => void failed.push(id) });
    outbox.add(createOutboxRecord(event('p1', 1)));
    outbox.add(createOutboxRecord({ ...event('p2', 1), entityId: 'bad id' }));
    outbox.add(createOutboxRecord(event('p3', 1)));
    const publisher = new RecordingPublisher();
    const relay = new OutboxRelay(outbox, publisher, { logger: silent });
    await expect(relay.drain()).resolves.toBe(2);
    expect(publisher.published).toEqual(['p1-v1', 'p3-v1']);
    expect(failed).toEqual(['p2-v1']);
    expect(outbox.failed[0].reason).toContain('entityId');
    expect(outbox.pendingCount).toBe(0);
  });

  it('when started, publishes a record soon after notify() without waiting for the poll interval', async () => {
    const outbox = new InMemoryOutbox();
    const publisher = new RecordingPublisher();
    const relay = new OutboxRelay(outbox, publisher, { pollIntervalMs: 60_000, logger: silent });
    const unsent = jest.spyOn(outbox, 'unsent');
    relay.start();
    try {
      await waitFor('the first (empty) poll', () => unsent.mock.calls.length > 0);
      await relay.drain(); // joins that poll: the next one is now 60 s away
      outbox.add(createOutboxRecord(event('p1', 1)));
      relay.notify();
      await waitFor('the record to be published', () => publisher.published.length === 1);
      expect(outbox.pendingCount).toBe(0);
    } finally {
      await relay.stop();
    }
  });

  it('when started, keeps retrying after failures until the records are out', async () => {
    const outbox = new InMemoryOutbox();
    outbox.add(createOutboxRecord(event('p1', 1)));
    const publisher = new RecordingPublisher();
    publisher.failNext = 2;
    const relay = new OutboxRelay(outbox, publisher, { pollIntervalMs: 5, maxBackoffMs: 20, logger: silent });
    relay.start();
    try {
      await waitFor('the record to be published after two failures', () => publisher.published.length === 1);
      expect(outbox.pendingCount).toBe(0);
    } finally {
      await relay.stop();
    }
  });
});

describe('InMemoryOutbox', () => {
  it('rebuilds its pending set from a replayed log (adds, then sent markers)', async () => {
    const outbox = new InMemoryOutbox();
    ['a', 'b', 'c'].forEach((id) => outbox.add(createOutboxRecord(event(id, 1))));
    outbox.restoreSent(['a-v1', 'c-v1']);
    outbox.add(createOutboxRecord(event('b', 1))); // a duplicate add keeps one record
    expect((await outbox.unsent(10)).map((r) => r.id)).toEqual(['b-v1']);
  });

  it('ignores sent markers for unknown ids without calling the hook', async () => {
    const persistSent = jest.fn();
    const outbox = new InMemoryOutbox({ persistSent });
    await outbox.markSent(['nope']);
    expect(persistSent).not.toHaveBeenCalled();
  });
});
