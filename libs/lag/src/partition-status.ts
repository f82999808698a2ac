// The status rules, after Burrow's consumer evaluation, as one pure function. Burrow sees
// every commit; through the admin API we see the committed offset once per poll, so
// "no commits" below means "the committed offset did not move".
import type { PartitionStatus } from './lag-types';

export interface StatusSample {
  at: number;
  /** The offset lag is measured from (committed, or the uncommitted policy's offset). */
  committed: number;
  lag: number;
}

export interface StatusRules {
  /** Sliding window the WARN and STALL rules look at. */
  windowMs: number;
  /** No progress for this long with lag > 0 is STOP, whatever the group looks like. */
  stopAfterMs: number;
}

export interface StatusInput {
  now: number;
  /** Set when the partition's offsets could not be read this round. */
  readError?: string;
  lag: number;
  /** The offset lag is measured from, now. */
  committed: number;
  /** Members of the group, or null when the group could not be described. */
  members: number | null;
  /** When the monitor first saw this partition: before that it knows nothing. */
  firstSeenAt: number;
  /**
   * Since when the partition has had lag > 0 without the committed offset moving: the
   * later of the last move of the committed offset and the last time lag was 0.
   */
  stuckSince: number;
  /**
   * The moves of the committed offset, oldest first, each with the lag seen when the move
   * was first observed (Burrow's "lag at commit"); the first observation counts as one.
   */
  commits: StatusSample[];
}

export interface StatusVerdict {
  status: PartitionStatus;
  reason: string;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;

/**
 * Rules, first match wins:
 * 1. ERR   the offsets could not be read.
 * 2. OK    lag is 0.
 * 3. STOP  lag > 0 and no progress for stopAfterMs.
 * 4. STOP  lag > 0, no progress for a whole window, and the group has no members (consumer down).
 * 5. STALL lag > 0, no progress for a whole window, and the group has members (consumer stuck).
 * 6. WARN  the monitor has watched for a window, and over the commits of the window ending at
 *          the last commit the lag never fell and ended higher (see isLagRising).
 * 7. OK    otherwise (consuming, lag falling or steady).
 */
export function evaluatePartitionStatus(input: StatusInput, rules: StatusRules): StatusVerdict {
  if (input.readError !== undefined) return { status: 'ERR', reason: `cannot read offsets: ${input.readError}` };
  if (input.lag === 0) return { status: 'OK', reason: 'caught up (lag 0)' };

  const stuckFor = input.now - input.stuckSince;
  if (stuckFor >= rules.stopAfterMs) {
    return {
      status: 'STOP',
      reason: `no progress for ${seconds(stuckFor)} (stop threshold ${seconds(rules.stopAfterMs)}) while lag is ${input.lag}`,
    };
  }
  if (stuckFor >= rules.windowMs) {
    if (input.members === 0) {
      return {
        status: 'STOP',
        reason: `the group has no members and offset ${input.committed} has not moved for ${seconds(stuckFor)} while lag is ${input.lag}`,
      };
    }
    return {
      status: 'STALL',
      reason: `committed offset ${input.committed} has not moved for ${seconds(stuckFor)} while lag is ${input.lag}`,
    };
  }

  const windowComplete = input.now - input.firstSeenAt >= rules.windowMs;
  if (!windowComplete) return { status: 'OK', reason: `lag ${input.lag}, watching (less than one window of history)` };
  const rising = risingLag(input.commits, rules.windowMs);
  if (rising) {
    return {
      status: 'WARN',
      reason: `offsets move but lag rose from ${rising.from} to ${rising.to} over ${rising.commits} commits without falling`,
    };
  }
  return { status: 'OK', reason: `consuming: lag ${input.lag} is not rising over the window` };
}

/**
 * Burrow's WARN test. The window ends at the last commit, not now: when commits stop, the
 * verdict of the last ones stands until STALL/STOP take over (no OK flicker in between).
 * Within it: at least 3 commits spanning half a window or more (one late commit after a
 * hang is not a trend), lag never 0, never lower than at the commit before, ending higher.
 */
export function risingLag(commits: StatusSample[], windowMs: number): { from: number; to: number; commits: number } | undefined {
  const last = commits[commits.length - 1];
  if (last === undefined) return undefined;
  const inWindow = commits.filter((c) => c.at >= last.at - windowMs);
  if (inWindow.length < 3 || last.at - inWindow[0].at < windowMs / 2) return undefined;
  for (let i = 0; i < inWindow.length; i++) {
    if (inWindow[i].lag === 0) return undefined;
    if (i > 0 && inWindow[i].lag < inWindow[i - 1].lag) return undefined;
  }
  if (last.lag <= inWindow[0].lag) return undefined;
  return { from: inWindow[0].lag, to: last.lag, commits: inWindow.length };
}
