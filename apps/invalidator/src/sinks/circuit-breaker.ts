// A circuit breaker per target host (small and explicit instead of a dependency): after
// `failureThreshold` consecutive failures the host is "open" for `openMs` (calls fail fast,
// outcome circuit-open); then one trial call is let through (half-open). Every call that was let
// through ends in exactly one verdict, and every verdict ends a trial:
//   success  the host answered (any HTTP answer that is not a 5xx/429, a 4xx included): closes
//   failure  5xx, 429, timeout, network error: opens again for `openMs`
//   release  no verdict on the host (the call never reached it, e.g. its address was refused):
//            the trial flag is cleared, the next call may be the trial
// A trial that never reports (a bug) expires after `openMs`, so a host is never open for good.
export interface CircuitBreakerOptions {
  failureThreshold: number;
  openMs: number;
  now?: () => number;
}

type State = { failures: number; openUntil: number; trialSince: number | undefined };

export class HostCircuitBreakers {
  private readonly hosts = new Map<string, State>();
  private readonly now: () => number;

  constructor(private readonly options: CircuitBreakerOptions) {
    this.now = options.now ?? Date.now;
  }

  private state(host: string): State {
    let s = this.hosts.get(host);
    if (!s) {
      s = { failures: 0, openUntil: 0, trialSince: undefined };
      this.hosts.set(host, s);
    }
    return s;
  }

  /** May a call to `host` go out now? (false = the circuit is open, or its one trial is out). */
  tryAcquire(host: string): boolean {
    const s = this.state(host);
    if (s.failures < this.options.failureThreshold) return true;
    const now = this.now();
    if (now < s.openUntil) return false;
    if (s.trialSince !== undefined && now - s.trialSince < this.options.openMs) return false;
    s.trialSince = now; // half-open: exactly one trial call
    return true;
  }

  success(host: string): void {
    const s = this.state(host);
    s.failures = 0;
    s.trialSince = undefined;
  }

  failure(host: string): void {
    const s = this.state(host);
    s.failures += 1;
    s.trialSince = undefined;
    if (s.failures >= this.options.failureThreshold) s.openUntil = this.now() + this.options.openMs;
  }

  /** The call let through ended without a verdict on the host: a trial ends, nothing else changes. */
  release(host: string): void {
    const s = this.hosts.get(host);
    if (s) s.trialSince = undefined;
  }

  isOpen(host: string): boolean {
    const s = this.hosts.get(host);
    return s !== undefined && s.failures >= this.options.failureThreshold && this.now() < s.openUntil;
  }

  /** closed, open or half-open (the open time is over: the next call is a trial, or one is out). */
  stateOf(host: string): 'closed' | 'open' | 'half-open' {
    const s = this.hosts.get(host);
    if (s === undefined || s.failures < this.options.failureThreshold) return 'closed';
    return this.now() < s.openUntil ? 'open' : 'half-open';
  }
}

/** At most `limit` tasks of one key (e.g. a mapping id) run at once; the rest wait in order. */
export class KeyedLimiter {
  private readonly running = new Map<string, number>();
  private readonly queues = new Map<string, (() => void)[]>();

  constructor(private readonly limit: number) {}

  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    if ((this.running.get(key) ?? 0) >= this.limit) {
      // Wait for a finishing task to hand its slot over (the count stays as it is).
      await new Promise<void>((resolve) => {
        const q = this.queues.get(key) ?? [];
        q.push(resolve);
        this.queues.set(key, q);
      });
    } else {
      this.running.set(key, (this.running.get(key) ?? 0) + 1);
    }
    try {
      return await task();
    } finally {
      const next = this.queues.get(key)?.shift();
      if (next) next();
      else this.running.set(key, (this.running.get(key) ?? 1) - 1);
    }
  }

  pending(): number {
    let n = 0;
    for (const v of this.running.values()) n += v;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }
}
