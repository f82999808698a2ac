// Small time helpers: deadlines on promises we do not control, jittered TTLs.

export class DeadlineExceeded extends Error {
  constructor(readonly what: string, readonly ms: number) {
    super(`${what} took longer than ${ms} ms`);
    this.name = 'DeadlineExceeded';
  }
}

/** Settles like `promise`, or rejects with DeadlineExceeded after `ms`. The late result is dropped (never unhandled). */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineExceeded(what, ms)), ms);
  });
  promise.catch(() => undefined);
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `ttlMs` shortened by a random share in [0, ratio): keys filled together expire spread out. */
export function jitteredTtl(ttlMs: number, ratio: number, random = Math.random): number {
  return Math.max(1, Math.round(ttlMs * (1 - ratio * random())));
}
