// Named checks that together decide /health/ready and /health/live. Any module (the mapping
// store here, a lag dashboard later) registers its own, so the health endpoints never need to
// know what the app is made of.
import { Injectable } from '@nestjs/common';

export interface CheckState {
  /** Ready to serve (e.g. the store has read its topic to the end). */
  ready: boolean;
  /** False when the component failed for good and only a restart helps. */
  alive: boolean;
  detail?: string;
}

@Injectable()
export class Readiness {
  private readonly checks = new Map<string, () => CheckState>();

  register(name: string, check: () => CheckState): void {
    this.checks.set(name, check);
  }

  report(): { ready: boolean; alive: boolean; checks: Record<string, CheckState> } {
    const checks = Object.fromEntries([...this.checks].map(([name, check]) => [name, check()]));
    const states = Object.values(checks);
    return { ready: states.every((s) => s.ready), alive: states.every((s) => s.alive), checks };
  }
}
