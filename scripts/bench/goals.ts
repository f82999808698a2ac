// The cost goals, evaluated on one run's figures: met / missed and by how much.
// Pure: the bench passes its measurements in, gets rows out (tested in goals.spec.ts).

export interface GoalInputs {
  oursEventsPerSec: number;
  plainDelEventsPerSec: number;
  naiveEventsPerSec: number;
  /** invalidator CPU (user + system) through the backlog, per event */
  cpuMicrosPerEvent: number;
  /** invalidator peak RSS (VmHWM) through the backlog */
  peakRssMb: number;
  /** offered rate the latency goal is evaluated at */
  latencyRate: number;
  /** ours: probe p99 publish -> applied at latencyRate (undefined: not measured) */
  oursP99Ms?: number;
  /** raw kafkajs consumer: probe p99 publish -> consumed at latencyRate (undefined: not measured) */
  rawHopP99Ms?: number;
  /** redis-server CPU per event for the key effects through the current scripts (undefined: not measured) */
  redisMicrosPerEvent?: number;
  /** the same through the earlier three-key script, same run (the baseline of the Redis CPU goal) */
  threeKeyRedisMicrosPerEvent?: number;
}

export interface GoalRow {
  goal: string;
  measured: string;
  target: string;
  /** null: could not be evaluated (a figure is missing) */
  met: boolean | null;
  /** "met, 1.40x margin" / "missed by 2.63x" / "not measured" */
  by: string;
}

type Direction = 'atLeast' | 'atMost';

function row(goal: string, value: number | undefined, direction: Direction, target: number, format: (x: number) => string): GoalRow {
  const targetText = `${direction === 'atLeast' ? '>=' : '<='} ${format(target)}`;
  if (value === undefined || !Number.isFinite(value)) return { goal, measured: '-', target: targetText, met: null, by: 'not measured' };
  const met = direction === 'atLeast' ? value >= target : value <= target;
  // the factor by which the figure beats (met) or must still improve (missed) to reach the target
  const factor = direction === 'atLeast' ? value / target : target / value;
  const by = met ? `met, ${factor === Infinity ? 'inf' : factor.toFixed(2)}x margin` : `missed by ${(1 / factor).toFixed(2)}x`;
  return { goal, measured: format(value), target: targetText, met, by };
}

const ratio = (x: number) => `${x.toFixed(2)}x`;

export function evaluateGoals(i: GoalInputs): GoalRow[] {
  const latencyRatio =
    i.oursP99Ms !== undefined && i.rawHopP99Ms !== undefined && i.rawHopP99Ms > 0 ? i.oursP99Ms / i.rawHopP99Ms : undefined;
  const latency = row(`p99 publish->applied / raw p99 publish->consumed at ${i.latencyRate}/s`, latencyRatio, 'atMost', 2, ratio);
  if (latency.met !== null) latency.measured = `${ratio(latencyRatio!)} (${i.oursP99Ms!.toFixed(1)} / ${i.rawHopP99Ms!.toFixed(1)} ms)`;
  const redisRatio =
    i.redisMicrosPerEvent !== undefined && i.threeKeyRedisMicrosPerEvent !== undefined && i.threeKeyRedisMicrosPerEvent > 0
      ? i.redisMicrosPerEvent / i.threeKeyRedisMicrosPerEvent
      : undefined;
  const redis = row('redis-server CPU per event / earlier three-key layout', redisRatio, 'atMost', 0.5, ratio);
  if (redis.met !== null)
    redis.measured = `${ratio(redisRatio!)} (${i.redisMicrosPerEvent!.toFixed(1)} / ${i.threeKeyRedisMicrosPerEvent!.toFixed(1)} µs)`;
  return [
    row('ours / plain pipelined DEL', i.oursEventsPerSec / i.plainDelEventsPerSec, 'atLeast', 0.5, ratio),
    row('invalidator CPU per event', i.cpuMicrosPerEvent, 'atMost', 12, (x) => `${x.toFixed(1)} µs`),
    row('invalidator peak RSS through the backlog', i.peakRssMb, 'atMost', 256, (x) => `${x.toFixed(0)} MB`),
    latency,
    row('ours / naive', i.oursEventsPerSec / i.naiveEventsPerSec, 'atLeast', 10, (x) => `${x.toFixed(1)}x`),
    redis,
  ];
}
