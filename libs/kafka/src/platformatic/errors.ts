// @platformatic/kafka errors: a GenericError (code PLT_KFK_*, canRetry) or a MultipleErrors
// (an AggregateError: a ResponseError with one ProtocolError per failed partition, or "<op>
// failed N times" after its retries). These helpers find the protocol error inside and say
// whether retrying can help, and shape the crash payload the runtime already reads for kafkajs
// (describeConsumerCrash: the root of the `cause` chain, its `type`, `topic`, `partition`).

interface PlatformaticErrorLike {
  code?: unknown;
  message?: unknown;
  apiId?: unknown;
  canRetry?: unknown;
  needsRejoin?: unknown;
  hasStaleMetadata?: unknown;
  errors?: unknown;
  cause?: unknown;
}

function* walk(error: unknown, depth = 0): Generator<PlatformaticErrorLike & object> {
  if (!error || typeof error !== 'object' || depth > 6) return;
  yield error;
  const e = error as PlatformaticErrorLike;
  if (Array.isArray(e.errors)) for (const inner of e.errors) yield* walk(inner, depth + 1);
  if (e.cause) yield* walk(e.cause, depth + 1);
}

/** The Kafka protocol error id (e.g. INCONSISTENT_GROUP_PROTOCOL) anywhere in the error, if any. */
export function protocolErrorId(error: unknown): string | undefined {
  for (const e of walk(error)) if (typeof e.apiId === 'string') return e.apiId;
  return undefined;
}

export function hasProtocolError(error: unknown, id: string): boolean {
  for (const e of walk(error)) if (e.apiId === id) return true;
  return false;
}

/** Any error in the chain with `property` === true. */
export function hasFlag(error: unknown, property: 'needsRejoin' | 'hasStaleMetadata'): boolean {
  for (const e of walk(error)) if (e[property] === true) return true;
  return false;
}

/**
 * The broker did not answer in time, or the connection broke (a TimeoutError carries the network
 * code). The library marks a timeout canRetry=false: it will not resend that one request itself.
 * For a long-running consumer the next attempt, on a fresh connection, can work: a broker frozen
 * by a GC pause, a hung disk or a paused VM comes back, and giving up made the process exit.
 */
const TRANSIENT_CODES: ReadonlySet<unknown> = new Set([
  'PLT_KFK_NETWORK',
  'PLT_KFK_TIMEOUT',
  'PLT_KFK_UNEXPECTED_CORRELATION_ID',
  'PLT_KFK_UNFINISHED_WRITE_BUFFER',
]);

/**
 * Retrying cannot help: some error in the chain says canRetry=false (platformatic's own rule),
 * except the group errors a rejoin fixes and the connection-level ones above. A "client closed"
 * error is the caller's to judge.
 */
export function isNonRetriable(error: unknown): boolean {
  if (hasFlag(error, 'needsRejoin')) return false;
  for (const e of walk(error)) if (e.canRetry === false && !TRANSIENT_CODES.has(e.code)) return true;
  return false;
}

/** The most specific error: the first protocol error, else the first leaf of the chain. */
function rootOf(error: unknown): { name: string; message: string; apiId?: string } {
  let leaf: (PlatformaticErrorLike & object) | undefined;
  for (const e of walk(error)) {
    if (typeof e.apiId === 'string') return { name: e.constructor?.name ?? 'Error', message: String(e.message), apiId: e.apiId };
    const hasInner = (Array.isArray(e.errors) && e.errors.length > 0) || !!e.cause;
    if (!hasInner && !leaf) leaf = e;
  }
  const e = leaf ?? (error as PlatformaticErrorLike & object);
  return { name: (e as object)?.constructor?.name ?? 'Error', message: String(e?.message ?? error) };
}

/** The CRASH-shaped payload ({ error, groupId, restart }) for the runtime's crash handling. */
export function crashPayload(
  error: unknown,
  groupId: string,
  restart: boolean,
  where: { topic?: string; partition?: number } = {},
): { error: Error & { type?: string; topic?: string; partition?: number }; groupId: string; restart: boolean } {
  const root = rootOf(error);
  const described = Object.assign(new Error(root.message), { name: root.name, ...(root.apiId ? { type: root.apiId } : {}), ...where });
  return { error: described, groupId, restart };
}
