import { isRecordTooLargeError } from '../consumer-api';
import { crashPayload, hasProtocolError, isNonRetriable, protocolErrorId } from './errors';
import { platformaticKafka } from './load';

// The shapes @platformatic/kafka builds (errors.js): a ResponseError / MultipleErrors is an
// AggregateError whose `errors` hold ProtocolErrors with apiId and canRetry.
class ProtocolError extends Error {
  constructor(
    readonly apiId: string,
    readonly canRetry: boolean,
    message: string,
    readonly needsRejoin = false,
  ) {
    super(message);
  }
}
const response = (...errors: Error[]) =>
  Object.assign(new AggregateError(errors, 'Received response with error while executing API JoinGroup(v9)'), { code: 'PLT_KFK_RESPONSE' });
const retried = (...errors: Error[]) =>
  Object.assign(new AggregateError(errors, 'joinGroup failed 4 times.'), { code: 'PLT_KFK_MULTIPLE' });

describe('platformatic errors', () => {
  const inconsistent = response(
    new ProtocolError(
      'INCONSISTENT_GROUP_PROTOCOL',
      false,
      "The group member's supported protocols are incompatible with those of existing members",
    ),
  );

  it('finds the protocol error inside a response or a retried operation', () => {
    expect(protocolErrorId(retried(new Error('connect ECONNREFUSED'), inconsistent))).toBe('INCONSISTENT_GROUP_PROTOCOL');
    expect(hasProtocolError(retried(inconsistent), 'OFFSET_OUT_OF_RANGE')).toBe(false);
  });

  it('says retrying cannot help for canRetry=false, except for the group errors a rejoin fixes', () => {
    expect(isNonRetriable(inconsistent)).toBe(true);
    expect(isNonRetriable(response(new ProtocolError('NOT_LEADER_OR_FOLLOWER', true, 'not leader')))).toBe(false);
    expect(isNonRetriable(response(new ProtocolError('REBALANCE_IN_PROGRESS', false, 'rebalancing', true)))).toBe(false);
    expect(isNonRetriable(new Error('socket hang up'))).toBe(false);
  });

  it('shapes the crash payload the runtime reads for kafkajs (root cause, type, topic)', () => {
    const payload = crashPayload(retried(inconsistent), 'g', false, { topic: 't' });
    expect(payload).toMatchObject({
      groupId: 'g',
      restart: false,
      error: { name: 'ProtocolError', type: 'INCONSISTENT_GROUP_PROTOCOL', topic: 't' },
    });
    expect(payload.error.message).toContain('supported protocols are incompatible');
    expect(crashPayload(new TypeError('boom'), 'g', true).error).toMatchObject({ name: 'TypeError', message: 'boom' });
  });

  it('recognises a too-large produce from either client', () => {
    expect(isRecordTooLargeError(retried(response(new ProtocolError('MESSAGE_TOO_LARGE', false, 'too large'))))).toBe(true);
    expect(isRecordTooLargeError(Object.assign(new Error('x'), { cause: { type: 'RECORD_LIST_TOO_LARGE' } }))).toBe(true);
    expect(isRecordTooLargeError(response(new ProtocolError('NOT_ENOUGH_REPLICAS', true, 'replicas')))).toBe(false);
    expect(isRecordTooLargeError(undefined)).toBe(false);
  });

  // The library's own classes: it marks a request timeout canRetry=false (it will not retry that
  // one request itself), but a broker that did not answer in time (frozen, overloaded, a GC pause)
  // is a retriable condition for a consumer: giving up on it made the process exit on a broker hiccup.
  it('treats a broker that does not answer (timeouts, broken connections) as retriable, with the real error classes', () => {
    const k = platformaticKafka();
    const timeout = new k.TimeoutError('Request timed out');
    expect(isNonRetriable(timeout)).toBe(false);
    expect(isNonRetriable(new k.MultipleErrors('fetch failed 4 times.', [timeout, timeout]))).toBe(false);
    expect(isNonRetriable(new k.NetworkError('Connection closed'))).toBe(false);
    expect(isNonRetriable(new k.UnexpectedCorrelationIdError('Received unexpected response'))).toBe(false);
    // still fatal: what no wait fixes
    expect(isNonRetriable(new k.AuthenticationError('SASL authentication failed'))).toBe(true);
    expect(isNonRetriable(new k.MultipleErrors('joinGroup failed', [timeout, new k.ProtocolError('INCONSISTENT_GROUP_PROTOCOL')]))).toBe(
      true,
    );
    expect(isNonRetriable(new k.ProtocolError('GROUP_AUTHORIZATION_FAILED'))).toBe(true);
    expect(isNonRetriable(new k.UnsupportedApiError('Unsupported API Fetch'))).toBe(true);
  });
});
