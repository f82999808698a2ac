// One kafkajs admin call, retried while Kafka says "try again" (a coordinator moving or loading,
// a leader election, a request timeout, a connection dropped), up to an overall deadline; any
// other error is rethrown at once. The tooling (stack, bench, checker, e2e helpers) polls group
// progress and creates topics through it, so a retriable NOT_COORDINATOR no longer kills a run.
//
// kafkajs' admin retries some calls itself (fetchTopicOffsets, createTopics on NOT_CONTROLLER)
// but not fetchOffsets, and it gives up after a retry count, not a deadline. The backoff and
// scheduling here are kafkajs' own retrier (the one its admin and cluster use: jittered,
// exponential, capped); what it lacks is added around it: our classification (its own retries
// any error not marked `retriable: false`, plain Errors included) and the deadline.
import type { RetryOptions } from 'kafkajs';

type Retrier = <T>(fn: (bail: (error: Error) => void, retryCount: number, retryTime: number) => Promise<T>) => Promise<T>;
// Not in kafkajs' public types; its admin/index.js and cluster/index.js use it the same way.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const createRetry = require('kafkajs/src/retry') as (options: RetryOptions) => Retrier;

/** Kafka protocol codes worth retrying for admin reads even where kafkajs' flag says otherwise. */
const RETRIABLE_CODES = new Set([
  5, // LEADER_NOT_AVAILABLE
  7, // REQUEST_TIMED_OUT
  14, // COORDINATOR_LOAD_IN_PROGRESS (kafkajs: GROUP_LOAD_IN_PROGRESS)
  15, // COORDINATOR_NOT_AVAILABLE (kafkajs: GROUP_COORDINATOR_NOT_AVAILABLE)
  16, // NOT_COORDINATOR (kafkajs: NOT_COORDINATOR_FOR_GROUP)
]);
const RETRIABLE_TYPES = new Set([
  'LEADER_NOT_AVAILABLE',
  'REQUEST_TIMED_OUT',
  'COORDINATOR_LOAD_IN_PROGRESS',
  'GROUP_LOAD_IN_PROGRESS',
  'COORDINATOR_NOT_AVAILABLE',
  'GROUP_COORDINATOR_NOT_AVAILABLE',
  'NOT_COORDINATOR',
  'NOT_COORDINATOR_FOR_GROUP',
]);
/**
 * kafkajs' non-retriable errors that still mean "try again": KafkaJSGroupCoordinatorNotFound is
 * what its coordinator lookup throws when no broker answered FindCoordinator (every broker's error,
 * a request timeout or a dropped connection included, is swallowed), i.e. COORDINATOR_NOT_AVAILABLE
 * seen from the client. (An authorization failure ends there too: the deadline bounds that case.)
 */
const RETRIABLE_NAMES = new Set(['KafkaJSGroupCoordinatorNotFound']);
/** Programming errors: never retried, whatever they carry. */
const UNRECOVERABLE = new Set(['TypeError', 'RangeError', 'ReferenceError', 'SyntaxError']);

interface KafkaErrorLike {
  name?: unknown;
  retriable?: unknown;
  code?: unknown;
  type?: unknown;
  cause?: unknown;
  errors?: unknown;
}

/**
 * Whether Kafka asked us to try again: kafkajs marked the error `retriable: true` (protocol errors
 * by their code, connection errors, request timeouts), or it is one of the coordinator / leader /
 * timeout protocol errors above, or kafkajs found no group coordinator, or kafkajs' own retries ran out on such an error
 * (KafkaJSNumberOfRetriesExceeded wraps the last one), or every error of an aggregate is.
 */
export function isRetriableKafkaError(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 5) return false;
  const e = error as KafkaErrorLike;
  if (typeof e.name === 'string' && UNRECOVERABLE.has(e.name)) return false;
  if (e.name === 'KafkaJSNumberOfRetriesExceeded') return isRetriableKafkaError(e.cause, depth + 1);
  if (e.name === 'KafkaJSAggregateError' && Array.isArray(e.errors))
    return e.errors.length > 0 && e.errors.every((inner) => isRetriableKafkaError(inner, depth + 1));
  if (typeof e.name === 'string' && RETRIABLE_NAMES.has(e.name)) return true;
  if (typeof e.code === 'number' && RETRIABLE_CODES.has(e.code)) return true;
  if (typeof e.type === 'string' && RETRIABLE_TYPES.has(e.type)) return true;
  return e.retriable === true;
}

function explain(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const type = (error as KafkaErrorLike).type;
  return typeof type === 'string' && !error.message.includes(type)
    ? `${error.name} ${type}: ${error.message}`
    : `${error.name}: ${error.message}`;
}

/** An admin call that failed for good: names the operation; `cause` is the last kafkajs error. */
export class KafkaAdminCallError extends Error {
  constructor(
    readonly operation: string,
    readonly attempts: number,
    readonly retriable: boolean,
    message: string,
    cause: unknown,
  ) {
    super(message, { cause });
    this.name = 'KafkaAdminCallError';
  }
}

export interface AdminRetryInfo {
  operation: string;
  /** 1 for the first failed attempt */
  attempt: number;
  error: unknown;
  /** ms until the next attempt */
  waitMs: number;
}

export interface AdminRetryOptions {
  /** No new attempt starts after this many ms from the first one. Default 30 s. An attempt in flight ends by the client's own request timeout. */
  deadlineMs?: number;
  /** First wait (kafkajs jitters it by ±20 %). Default 100 ms. */
  initialRetryTimeMs?: number;
  /** Cap of the doubling wait. Default 2 s. */
  maxRetryTimeMs?: number;
  /** Called before each wait (logging, tests). */
  onRetry?: (info: AdminRetryInfo) => void;
  /** Clock (tests). Default Date.now. */
  now?: () => number;
}

export const ADMIN_RETRY_DEFAULTS = { deadlineMs: 30_000, initialRetryTimeMs: 100, maxRetryTimeMs: 2_000 } as const;

/**
 * Runs `call` (one kafkajs admin call, or a few that are safe to repeat together) until it
 * succeeds, a non-retriable error comes (rethrown at once as a KafkaAdminCallError naming
 * `operation`, the kafkajs error as its cause) or the deadline would pass before the next attempt.
 */
export async function withAdminRetry<T>(operation: string, call: () => Promise<T>, options: AdminRetryOptions = {}): Promise<T> {
  const now = options.now ?? Date.now;
  const deadlineMs = options.deadlineMs ?? ADMIN_RETRY_DEFAULTS.deadlineMs;
  const started = now();
  const retrier = createRetry({
    initialRetryTime: options.initialRetryTimeMs ?? ADMIN_RETRY_DEFAULTS.initialRetryTimeMs,
    maxRetryTime: options.maxRetryTimeMs ?? ADMIN_RETRY_DEFAULTS.maxRetryTimeMs,
    multiplier: 2,
    factor: 0.2,
    // the deadline ends the retries, never a count (a count would reject with kafkajs' own wrapper)
    retries: Number.MAX_SAFE_INTEGER,
  });
  return retrier<T>(async (bail, retryCount, retryTime) => {
    try {
      return await call();
    } catch (error) {
      const attempt = retryCount + 1;
      if (!isRetriableKafkaError(error)) {
        bail(new KafkaAdminCallError(operation, attempt, false, `${operation} failed: ${explain(error)}`, error));
        return undefined as T;
      }
      const elapsed = now() - started;
      if (elapsed + retryTime > deadlineMs) {
        const message = `${operation} still failing after ${attempt} attempt(s) in ${elapsed} ms (deadline ${deadlineMs} ms): ${explain(error)}`;
        bail(new KafkaAdminCallError(operation, attempt, true, message, error));
        return undefined as T;
      }
      options.onRetry?.({ operation, attempt, error, waitMs: retryTime });
      // kafkajs' retrier retries what it deems retriable, which a KafkaJSNumberOfRetriesExceeded
      // (a non-retriable subclass) is not: hand it a marker it does retry.
      throw Object.assign(new Error(`retry ${operation}`), { retriable: true });
    }
  });
}
