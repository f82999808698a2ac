import { Test } from '@nestjs/testing';
import { createLogger } from '@app/telemetry';
import { EntityPublisher } from './entity-publisher';
import { PublisherModule } from './publisher.module';
import type { ProducerLike } from './publisher.options';

function fakeProducer(): ProducerLike & { connect: jest.Mock; disconnect: jest.Mock; send: jest.Mock } {
  return { connect: jest.fn(async () => undefined), disconnect: jest.fn(async () => undefined), send: jest.fn(async () => []) };
}

describe('PublisherModule', () => {
  const logger = createLogger('test', 'silent');

  it('provides one EntityPublisher, connects on boot when asked, and disconnects on app.close()', async () => {
    const producer = fakeProducer();
    const moduleRef = await Test.createTestingModule({
      imports: [PublisherModule.forRoot({ producer, topic: 't', connectOnBoot: true, logger })],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    expect(app.get(EntityPublisher).topic).toBe('t');
    expect(producer.connect).toHaveBeenCalledTimes(1);
    await app.close();
    expect(producer.disconnect).toHaveBeenCalledTimes(1);
  });

  it('forRootAsync builds the options from injected config; without connectOnBoot it connects on first publish', async () => {
    const producer = fakeProducer();
    const moduleRef = await Test.createTestingModule({
      imports: [PublisherModule.forRootAsync({ useFactory: () => ({ producer, topic: 'from-config', logger }) })],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    expect(producer.connect).not.toHaveBeenCalled();
    await app
      .get(EntityPublisher)
      .publish({ eventId: 'e', entityType: 'product', entityId: 'p', version: 1, occurredAt: '2026-01-01T00:00:00.000Z' });
    expect(producer.send).toHaveBeenCalledWith(expect.objectContaining({ topic: 'from-config', acks: -1 }));
    await app.close();
  });
});
