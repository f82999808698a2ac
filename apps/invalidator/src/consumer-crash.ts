// A kafkajs consumer CRASH with restart=false means kafkajs gave up on the consumer for good (a
// non-retriable error: e.g. INCONSISTENT_GROUP_PROTOCOL when another client holds the group
// with an incompatible assignor, an authorization error, a codec it cannot decode). The process
// would still answer HTTP while consuming nothing: a zombie. This turns the CRASH payload into
// one readable cause, for the log line, /health/live and /health/ready.

export interface ConsumerCrash {
  /** "<error name>: <message>" of the root cause (kafkajs wraps errors in KafkaJSNonRetriableError & co.). */
  cause: string;
  /** Kafka protocol error type when the broker answered one (e.g. INCONSISTENT_GROUP_PROTOCOL). */
  type?: string;
  /** The topic named by the error, else the subscribed topic. */
  topic: string;
  /** The partition named by the error, when it names one. */
  partition?: number;
  groupId?: string;
  at: string;
}

interface ErrorLike {
  name?: unknown;
  message?: unknown;
  type?: unknown;
  topic?: unknown;
  partition?: unknown;
  cause?: unknown;
}

/** kafkajs' CRASH payload ({ error, groupId, restart }) → the cause to report. */
export function describeConsumerCrash(payload: unknown, subscribedTopic: string, now = new Date()): ConsumerCrash {
  const p = (payload ?? {}) as { error?: unknown; groupId?: unknown };
  const chain: ErrorLike[] = [];
  for (let e: unknown = p.error; e && typeof e === 'object' && chain.length < 10; e = (e as ErrorLike).cause) chain.push(e);
  const root = chain[chain.length - 1];
  const name = root && typeof root.name === 'string' ? root.name : 'Error';
  // no Error in the chain: whatever was thrown (a string, mostly) is the message
  const thrown: unknown = p.error ?? 'unknown error';
  const message = root && typeof root.message === 'string' ? root.message : String(thrown);
  const type = chain.map((e) => e.type).find((t): t is string => typeof t === 'string');
  const topic = chain.map((e) => e.topic).find((t): t is string => typeof t === 'string' && t !== '');
  const partition = chain.map((e) => e.partition).find((n): n is number => typeof n === 'number' && Number.isInteger(n));
  return {
    cause: `${name}: ${message}`,
    ...(type ? { type } : {}),
    topic: topic ?? subscribedTopic,
    ...(partition !== undefined ? { partition } : {}),
    ...(typeof p.groupId === 'string' ? { groupId: p.groupId } : {}),
    at: now.toISOString(),
  };
}

/** kafkajs restarts the consumer itself unless the CRASH payload says restart: false. */
export function isFinalCrash(payload: unknown): boolean {
  return (payload as { restart?: unknown } | undefined)?.restart === false;
}

/** Exit code of a process that stops because its consumer crashed for good (EX_SOFTWARE). */
export const CONSUMER_CRASH_EXIT_CODE = 70;
