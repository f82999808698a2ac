import { KafkaJSNonRetriableError, KafkaJSNotImplemented, KafkaJSOffsetOutOfRange, KafkaJSProtocolError } from 'kafkajs';
import { describeConsumerCrash, isFinalCrash } from './consumer-crash';

const at = new Date('2026-01-01T00:00:00Z');
// kafkajs' type declarations leave out the constructors' (error, { cause }) arguments its code takes.
const NonRetriable = KafkaJSNonRetriableError as unknown as new (e: Error, options: { cause: Error }) => Error;
const NotImplemented = KafkaJSNotImplemented as unknown as new (message: string) => Error;

describe('describeConsumerCrash', () => {
  it('names the root cause and protocol error type of a wrapped broker error, and the subscribed topic', () => {
    const protocol = new KafkaJSProtocolError({
      message: "The group member's supported protocols are incompatible with those of existing members",
      type: 'INCONSISTENT_GROUP_PROTOCOL',
      code: 23,
      retriable: false,
    } as never);
    const error = new NonRetriable(protocol, { cause: protocol });
    const crash = describeConsumerCrash({ error, groupId: 'g', restart: false }, 'entity.updated', at);
    expect(crash).toEqual({
      cause: "KafkaJSProtocolError: The group member's supported protocols are incompatible with those of existing members",
      type: 'INCONSISTENT_GROUP_PROTOCOL',
      topic: 'entity.updated',
      groupId: 'g',
      at: '2026-01-01T00:00:00.000Z',
    });
  });

  it('takes topic and partition from the error when it names them', () => {
    const error = new KafkaJSOffsetOutOfRange(new Error('out of range'), { topic: 'orders', partition: 4 });
    expect(describeConsumerCrash({ error, restart: false }, 'entity.updated', at)).toMatchObject({
      topic: 'orders',
      partition: 4,
      cause: expect.stringContaining('out of range'),
    });
    expect(
      describeConsumerCrash({ error: new NotImplemented('LZ4 compression not implemented'), restart: false }, 'entity.updated', at),
    ).toMatchObject({
      cause: 'KafkaJSNotImplemented: LZ4 compression not implemented',
      topic: 'entity.updated',
    });
  });

  it('copes with a payload that is not an error', () => {
    expect(describeConsumerCrash(undefined, 't', at)).toMatchObject({ cause: 'Error: unknown error', topic: 't' });
    expect(describeConsumerCrash({ error: 'boom' }, 't', at).cause).toBe('Error: boom');
  });

  it('is final only when kafkajs says restart: false', () => {
    expect(isFinalCrash({ restart: false })).toBe(true);
    expect(isFinalCrash({ restart: true })).toBe(false);
    expect(isFinalCrash(undefined)).toBe(false);
  });
});
