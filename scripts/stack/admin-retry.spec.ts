// The classification and the retry / deadline logic of withAdminRetry, with fake calls built
// from kafkajs' own error classes (pure logic: no broker; the e2e proof freezes a real one).
import {
  KafkaJSConnectionError,
  KafkaJSError,
  KafkaJSGroupCoordinatorNotFound,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSRequestTimeoutError,
} from 'kafkajs';
import { AdminRetryInfo, isRetriableKafkaError, KafkaAdminCallError, withAdminRetry } from './admin-retry';

// kafkajs' protocol errors are built from its error table: { type, code, retriable, message }
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createErrorFromCode } = require('kafkajs/src/protocol/error') as { createErrorFromCode: (code: number) => KafkaJSProtocolError };

const NOT_COORDINATOR = 16;
const COORDINATOR_LOAD_IN_PROGRESS = 14;
const COORDINATOR_NOT_AVAILABLE = 15;
const LEADER_NOT_AVAILABLE = 5;
const REQUEST_TIMED_OUT = 7;
const INVALID_CONFIG = 40;
const TOPIC_AUTHORIZATION_FAILED = 29;

// (kafkajs' types declare no constructor argument; its constructor requires the message)
const CoordinatorNotFound = KafkaJSGroupCoordinatorNotFound as unknown as new (message: string) => Error;
const exhausted = (cause: Error) => new KafkaJSNumberOfRetriesExceeded(cause, { retryCount: 5, retryTime: 1000 });

/** Fast waits: the logic under test is the same at 1 ms as at 100 ms. */
const fast = { initialRetryTimeMs: 1, maxRetryTimeMs: 8 };

/** A call that fails with `errors` in turn, then returns `value`. */
function failingThen<T>(errors: unknown[], value: T): { call: () => Promise<T>; calls: () => number } {
  let calls = 0;
  return {
    call: () => {
      calls += 1;
      return calls <= errors.length ? Promise.reject(errors[calls - 1]) : Promise.resolve(value);
    },
    calls: () => calls,
  };
}

describe('isRetriableKafkaError', () => {
  it.each([
    ['NOT_COORDINATOR', createErrorFromCode(NOT_COORDINATOR)],
    ['COORDINATOR_LOAD_IN_PROGRESS', createErrorFromCode(COORDINATOR_LOAD_IN_PROGRESS)],
    ['COORDINATOR_NOT_AVAILABLE', createErrorFromCode(COORDINATOR_NOT_AVAILABLE)],
    ['LEADER_NOT_AVAILABLE', createErrorFromCode(LEADER_NOT_AVAILABLE)],
    ['REQUEST_TIMED_OUT', createErrorFromCode(REQUEST_TIMED_OUT)],
    ['a coordinator error kafkajs marked non-retriable', Object.assign(createErrorFromCode(NOT_COORDINATOR), { retriable: false })],
    ['the Kafka spelling of the type, without a code', Object.assign(new Error('x'), { type: 'NOT_COORDINATOR' })],
    ['a client-side request timeout', new KafkaJSRequestTimeoutError('Request Metadata(key: 3, version: 6) timed out')],
    ['no group coordinator found (kafkajs swallows why)', new CoordinatorNotFound('Failed to find group coordinator')],
    ['a connection error', new KafkaJSConnectionError('Connection error: ECONNREFUSED', { code: 'ECONNREFUSED' })],
    ['any error kafkajs marks retriable', new KafkaJSError('retriable', { retriable: true })],
    ['kafkajs retries exhausted on NOT_COORDINATOR', exhausted(createErrorFromCode(NOT_COORDINATOR))],
    ['kafkajs retries exhausted on a connection error', exhausted(new KafkaJSConnectionError('Connection error'))],
  ])('retries %s', (_what, error) => {
    expect(isRetriableKafkaError(error)).toBe(true);
  });

  it.each([
    ['INVALID_CONFIG', createErrorFromCode(INVALID_CONFIG)],
    ['TOPIC_AUTHORIZATION_FAILED', createErrorFromCode(TOPIC_AUTHORIZATION_FAILED)],
    ['a kafkajs non-retriable error', new KafkaJSNonRetriableError('Invalid groupId undefined')],
    ['kafkajs retries exhausted on a non-retriable cause', exhausted(createErrorFromCode(INVALID_CONFIG))],
    ['a plain Error', new Error('boom')],
    ['a TypeError even if marked retriable', Object.assign(new TypeError('x is undefined'), { retriable: true })],
    ['a string', 'NOT_COORDINATOR'],
    ['undefined', undefined],
    ['retriable: "true" (a string)', Object.assign(new Error('x'), { retriable: 'true' })],
  ])('does not retry %s', (_what, error) => {
    expect(isRetriableKafkaError(error)).toBe(false);
  });

  it('retries an aggregate only when every error in it is retriable', () => {
    const aggregate = (errors: Error[]) => Object.assign(new Error('Topic creation errors'), { name: 'KafkaJSAggregateError', errors });
    expect(isRetriableKafkaError(aggregate([createErrorFromCode(LEADER_NOT_AVAILABLE), createErrorFromCode(REQUEST_TIMED_OUT)]))).toBe(
      true,
    );
    expect(isRetriableKafkaError(aggregate([createErrorFromCode(LEADER_NOT_AVAILABLE), createErrorFromCode(INVALID_CONFIG)]))).toBe(false);
    expect(isRetriableKafkaError(aggregate([]))).toBe(false);
  });

  it('stops on a cause cycle', () => {
    const a = exhausted(new Error('placeholder'));
    (a as { cause: unknown }).cause = a;
    expect(isRetriableKafkaError(a)).toBe(false);
  });
});

describe('withAdminRetry', () => {
  it('returns the first success without retrying', async () => {
    const fake = failingThen([], 42);
    await expect(withAdminRetry('fetchOffsets(g)', fake.call, fast)).resolves.toBe(42);
    expect(fake.calls()).toBe(1);
  });

  it('retries retriable errors (the bench crash: NOT_COORDINATOR) until the call succeeds', async () => {
    const errors = [
      createErrorFromCode(NOT_COORDINATOR),
      exhausted(createErrorFromCode(COORDINATOR_LOAD_IN_PROGRESS)),
      new KafkaJSRequestTimeoutError('timed out'),
    ];
    const fake = failingThen(errors, 'ok');
    const retries: AdminRetryInfo[] = [];
    await expect(withAdminRetry('fetchOffsets(g)', fake.call, { ...fast, onRetry: (i) => retries.push(i) })).resolves.toBe('ok');
    expect(fake.calls()).toBe(4);
    expect(retries.map((r) => [r.operation, r.attempt, r.error])).toEqual(errors.map((e, i) => ['fetchOffsets(g)', i + 1, e]));
  });

  it('rethrows a non-retriable error at once, naming the operation, with the kafkajs error as cause', async () => {
    const invalid = createErrorFromCode(INVALID_CONFIG);
    const fake = failingThen([invalid], 'never');
    const onRetry = jest.fn();
    const error = await withAdminRetry('createTopics(a, b)', fake.call, { ...fast, onRetry }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KafkaAdminCallError);
    expect(error).toMatchObject({ operation: 'createTopics(a, b)', attempts: 1, retriable: false, cause: invalid });
    expect((error as Error).message).toMatch(/^createTopics\(a, b\) failed: KafkaJSProtocolError INVALID_CONFIG: /);
    expect(fake.calls()).toBe(1);
    expect(onRetry).not.toHaveBeenCalled();
  });

  it('rethrows a non-retriable error met after retriable ones at once', async () => {
    const fake = failingThen([createErrorFromCode(NOT_COORDINATOR), new TypeError('cannot read x')], 'never');
    await expect(withAdminRetry('fetchOffsets(g)', fake.call, fast)).rejects.toMatchObject({
      attempts: 2,
      retriable: false,
      message: 'fetchOffsets(g) failed: TypeError: cannot read x',
    });
    expect(fake.calls()).toBe(2);
  });

  it('gives up when the next wait would pass the deadline, naming the operation and the last error', async () => {
    // a fake clock: every look at it is 1 s later, so the 4.5 s deadline passes after a few attempts whatever the real waits
    let clock = 0;
    const now = () => (clock += 1_000);
    const coordinator = createErrorFromCode(NOT_COORDINATOR);
    let calls = 0;
    const call = () => {
      calls += 1;
      return Promise.reject(coordinator);
    };
    const error = await withAdminRetry('fetchOffsets(g, t)', call, { ...fast, deadlineMs: 4_500, now }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KafkaAdminCallError);
    expect(error).toMatchObject({ operation: 'fetchOffsets(g, t)', retriable: true, cause: coordinator });
    // now() at the start (1 s), then once per failure: 1, 2, 3 and 4 s elapsed (plus a ms wait) are within 4.5 s, 5 s is not
    expect(calls).toBe(5);
    expect((error as KafkaAdminCallError).attempts).toBe(5);
    expect((error as Error).message).toMatch(
      /^fetchOffsets\(g, t\) still failing after 5 attempt\(s\) in 5000 ms \(deadline 4500 ms\): KafkaJSProtocolError NOT_COORDINATOR_FOR_GROUP: /,
    );
  });

  it('counts the coming wait against the deadline', async () => {
    // the clock stands still: only the wait itself (≥ 80 ms, the first one jittered ±20 % around 100 ms) can cross a 50 ms deadline
    const fake = failingThen([createErrorFromCode(LEADER_NOT_AVAILABLE)], 'late');
    await expect(
      withAdminRetry('listTopics', fake.call, { initialRetryTimeMs: 100, maxRetryTimeMs: 100, deadlineMs: 50, now: () => 0 }),
    ).rejects.toMatchObject({ attempts: 1, retriable: true });
    expect(fake.calls()).toBe(1);
  });

  it('backs off exponentially (jittered) up to the cap', async () => {
    const errors = Array.from({ length: 8 }, () => createErrorFromCode(NOT_COORDINATOR));
    const fake = failingThen(errors, 'ok');
    const waits: number[] = [];
    await withAdminRetry('fetchOffsets(g)', fake.call, { initialRetryTimeMs: 2, maxRetryTimeMs: 20, onRetry: (i) => waits.push(i.waitMs) });
    expect(waits).toHaveLength(8);
    expect(waits[0]).toBeLessThanOrEqual(3);
    expect(waits[1]).toBeGreaterThan(waits[0]);
    expect(waits[2]).toBeGreaterThan(waits[1]);
    expect(Math.max(...waits)).toBeLessThanOrEqual(20);
    expect(waits.slice(-3)).toEqual([20, 20, 20]);
  });
});
