import { EntityUpdated } from '@app/contracts';
import { createLogger } from '@app/telemetry';
import { CompressionCodecs, CompressionTypes } from 'kafkajs';
import type { ProducerRecord } from 'kafkajs';
import { EntityPublisher } from './entity-publisher';
import { InvalidEventError, PublisherError } from './errors';
import type { EntityPublisherOptions, ProducerLike } from './publisher.options';

const silent = createLogger('test', 'silent');

function event(entityId: string, version: number): EntityUpdated {
  return {
    eventId: `${entityId}-v${version}`,
    entityType: 'product',
    entityId,
    version,
    occurredAt: '2026-01-01T00:00:00.000Z',
    after: { version },
  };
}

/** A producer whose sends stay open until the test releases them, so batching is observable without timing. */
class FakeProducer implements ProducerLike {
  readonly sends: ProducerRecord[] = [];
  private releases: ((error?: Error) => void)[] = [];
  autoAck = true;
  connect = jest.fn(async () => undefined);
  disconnect = jest.fn(async () => undefined);

  send = jest.fn((record: ProducerRecord) => {
    this.sends.push(record);
    if (this.autoAck) return Promise.resolve([]);
    return new Promise<never[]>((resolve, reject) => this.releases.push((error) => (error ? reject(error) : resolve([]))));
  });

  release(error?: Error): void {
    const next = this.releases.shift();
    if (!next) throw new Error('no send in flight');
    next(error);
  }

  sentIds(): string[] {
    return this.sends.flatMap((s) => s.messages.map((m) => (JSON.parse(String(m.value)) as { eventId: string }).eventId));
  }
}

function publisher(producer: FakeProducer, options: Partial<EntityPublisherOptions> = {}): EntityPublisher {
  return new EntityPublisher({ producer, topic: 't', logger: silent, ...options });
}

/** Lets pending promise callbacks run (no timers involved). */
const settle = () => new Promise((r) => setImmediate(r));

describe('EntityPublisher', () => {
  it('refuses a batch with one bad event, names the field and index, and sends nothing', async () => {
    const producer = new FakeProducer();
    const p = publisher(producer);
    const bad = { ...event('p2', 1), version: -1 };
    const error = await p.publishMany([event('p1', 1), bad, event('p3', 1)]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidEventError);
    expect(error).toMatchObject({ code: 'INVALID_EVENT', field: 'version', index: 1 });
    expect((error as Error).message).toMatch(/version.*nothing in the batch was sent|nothing in the batch was sent.*version/);
    await settle();
    expect(producer.send).not.toHaveBeenCalled();
  });

  it('sends with acks=all to the configured topic, keyed by entity', async () => {
    const producer = new FakeProducer();
    const p = publisher(producer);
    await p.publish({ event: event('p1', 1), traceId: 'tr' });
    expect(producer.sends[0]).toMatchObject({ topic: 't', acks: -1, messages: [{ key: 'product:p1' }] });
    expect(producer.connect).toHaveBeenCalledTimes(1);
  });

  it('sends an event published from the continuation of the previous publish (no event left behind)', async () => {
    const producer = new FakeProducer();
    const p = publisher(producer);
    // The reaction runs one microtask after the first publish resolves, before the flush loop has wound down.
    const second = new Promise<void>((resolve, reject) => {
      p.publish(event('p1', 1)).then(() => p.publish(event('p1', 2)).then(resolve, reject), reject);
    });
    await second;
    expect(producer.sentIds()).toEqual(['p1-v1', 'p1-v2']);
  });

  it('keeps publish order and sends events that arrive during a send together in the next one', async () => {
    const producer = new FakeProducer();
    producer.autoAck = false;
    const p = publisher(producer);
    const first = p.publish(event('p1', 1));
    await settle();
    const rest = [p.publish(event('p1', 2)), p.publishMany([event('p2', 1), event('p1', 3)]), p.publish(event('p1', 4))];
    await settle();
    expect(producer.sends).toHaveLength(1); // one request at a time
    producer.release();
    await first;
    await settle();
    expect(producer.sends).toHaveLength(2);
    producer.release();
    await Promise.all(rest);
    expect(producer.sentIds()).toEqual(['p1-v1', 'p1-v2', 'p2-v1', 'p1-v3', 'p1-v4']);
  });

  it('caps a request at maxBatchSize without splitting one publishMany call', async () => {
    const producer = new FakeProducer();
    producer.autoAck = false;
    const p = publisher(producer, { maxBatchSize: 3 });
    const calls = [p.publish(event('a', 1))];
    await settle();
    calls.push(p.publishMany([event('b', 1), event('b', 2)]), p.publishMany([event('c', 1), event('c', 2)]), p.publish(event('d', 1)));
    producer.release();
    await settle();
    producer.release();
    await settle();
    producer.release();
    await Promise.all(calls);
    expect(producer.sends.map((s) => s.messages.length)).toEqual([1, 2, 3]);
  });

  it('with lingerMs waits for more events and sends them in one request', async () => {
    jest.useFakeTimers();
    try {
      const producer = new FakeProducer();
      const p = publisher(producer, { lingerMs: 50 });
      const calls = [1, 2, 3].map((v) => p.publish(event('p1', v)));
      await jest.advanceTimersByTimeAsync(49);
      expect(producer.send).not.toHaveBeenCalled();
      await jest.advanceTimersByTimeAsync(1);
      await Promise.all(calls);
      expect(producer.sends).toHaveLength(1);
      expect(producer.sentIds()).toEqual(['p1-v1', 'p1-v2', 'p1-v3']);
    } finally {
      jest.useRealTimers();
    }
  });

  it('with lingerMs sends at once when a full batch is queued', async () => {
    const producer = new FakeProducer();
    const p = publisher(producer, { lingerMs: 60_000, maxBatchSize: 2 });
    await p.publishMany([event('p1', 1), event('p1', 2)]);
    expect(producer.sends).toHaveLength(1);
  });

  it('rejects the callers of a failed send with PUBLISH_FAILED and keeps working', async () => {
    const producer = new FakeProducer();
    producer.autoAck = false;
    const p = publisher(producer);
    const failed = p.publish(event('p1', 1)).catch((e: unknown) => e);
    await settle();
    producer.release(new Error('broker gone'));
    const error = await failed;
    expect(error).toBeInstanceOf(PublisherError);
    expect(error).toMatchObject({ code: 'PUBLISH_FAILED' });
    expect((error as Error).message).toContain('broker gone');
    producer.autoAck = true;
    await p.publish(event('p1', 1));
    expect(producer.sends).toHaveLength(2);
  });

  it('retries connecting on the next publish when the first connect failed', async () => {
    const producer = new FakeProducer();
    producer.connect.mockRejectedValueOnce(new Error('no broker'));
    const p = publisher(producer);
    await expect(p.publish(event('p1', 1))).rejects.toMatchObject({ code: 'PUBLISH_FAILED' });
    await p.publish(event('p1', 1));
    expect(producer.connect).toHaveBeenCalledTimes(2);
  });

  it('on disconnect sends what lingers, then refuses new events with PUBLISHER_CLOSED', async () => {
    const producer = new FakeProducer();
    const p = publisher(producer, { lingerMs: 60_000 });
    const lingering = p.publish(event('p1', 1));
    await p.disconnect();
    await lingering;
    expect(producer.sentIds()).toEqual(['p1-v1']);
    expect(producer.disconnect).toHaveBeenCalled();
    await expect(p.publish(event('p1', 2))).rejects.toMatchObject({ code: 'PUBLISHER_CLOSED' });
  });

  it('names the missing option when neither brokers nor kafka is given', () => {
    expect(() => new EntityPublisher({ brokers: [] })).toThrow(
      expect.objectContaining({ code: 'INVALID_PUBLISHER_OPTIONS', option: 'brokers' }),
    );
    expect(() => new EntityPublisher({ brokers: ['x:1'], lingerMs: -1 })).toThrow(/lingerMs/);
  });

  it('sends uncompressed by default and with the configured codec; refuses an unknown codec naming the option', async () => {
    const plain = new FakeProducer();
    await publisher(plain).publish(event('p1', 1));
    expect(plain.sends[0].compression).toBe(CompressionTypes.None);
    const zstd = new FakeProducer();
    await publisher(zstd, { compression: 'zstd' }).publish(event('p1', 1));
    expect(zstd.sends[0].compression).toBe(CompressionTypes.ZSTD);
    expect(CompressionCodecs[CompressionTypes.ZSTD]()).toBeDefined(); // registered, kafkajs can encode it
    expect(() => publisher(new FakeProducer(), { compression: 'brotli' as never })).toThrow(
      expect.objectContaining({ code: 'INVALID_PUBLISHER_OPTIONS', option: 'compression' }),
    );
  });
});
