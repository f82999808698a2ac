// Small time helpers: deadlines on promises we do not control, jittered TTLs.

export class DeadlineExceeded extends Error {
  constructor(
    readonly what: string,
    readonly ms: number,
  ) {
    super(`${what} took longer than ${ms} ms`);
    this.name = 'DeadlineExceeded';
  }
}

/** Settles like `promise`, or rejects with DeadlineExceeded after `ms`. The late result is dropped (never unhandled). */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new DeadlineExceeded(what, ms)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** `ttlMs` shortened by a random share in [0, ratio): keys filled together expire spread out. */
export function jitteredTtl(ttlMs: number, ratio: number, random = Math.random): number {
  return Math.max(1, Math.round(ttlMs * (1 - ratio * random())));
}
