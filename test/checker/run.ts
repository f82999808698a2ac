// npm run checker -- [--duration 600 --entities 1000 --writes 500 --readers 16 --window 2 --key-ttl 60
//   --eviction-headroom-kb 1024 --samples-per-tick N --no-baseline --cdc] : the long mode of the consistency checker on its own stack.
// Runs the event-driven system under faults, then a TTL-only baseline (same writers, readers and
// key TTL, no invalidator) for the same time, and prints both, so a user sees what invalidation buys.
// --cdc: writes go to the stack's PostgreSQL (table checker_items) and reach the invalidators through
// Kafka Connect + Debezium (the stack's worker, killed with -9 once and replaced); the baseline runs the same SQL writers.
import { freezePid } from '../../scripts/stack/processes';
import { addresses, down, startStackConnect, up } from '../../scripts/stack/stack';
import { CheckReport, formatReport, runConsistencyCheck } from './consistency-checker';

const LONG_MODE_MIN_SAMPLES = 1_000_000;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const arg = (name: string, fallback: number) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? Number(args[i + 1]) : fallback;
  };
  const durationS = arg('duration', 600);
  // the sampler ticks about every 100 ms plus its round trip (about 6 a second measured): enough keys per tick for 10^6 samples
  const samplesPerTick = arg('samples-per-tick', Math.max(20, Math.ceil(LONG_MODE_MIN_SAMPLES / (durationS * 6))));
  const withBaseline = !args.includes('--no-baseline');
  const cdc = args.includes('--cdc');
  const state = await up({ name: `checker-${process.pid}`, ownerPid: process.pid, cluster: false, postgres: cdc });
  try {
    const common = {
      brokers: addresses(state).kafkaBrokers,
      durationMs: durationS * 1000,
      entities: arg('entities', 1000),
      writesPerSecond: arg('writes', 500),
      readers: arg('readers', 16),
      windowMs: arg('window', 2) * 1000,
      keyTtlMs: arg('key-ttl', 60) * 1000,
      // eviction pressure that evicts some keys but leaves most of the working set resident, so
      // the TTL-only baseline is not flattered by keys that never live long (short mode: 150 kB)
      evictionHeadroomBytes: arg('eviction-headroom-kb', 1024) * 1024,
      samplesPerTick,
      freezeBroker: (ms: number) => freezePid(state.kafka!.pid, state.kafka!.dir, ms),
      log: (line: string) => console.error(`[checker ${new Date().toISOString().slice(11, 19)}] ${line}`),
      // the stack's one Connect worker (recorded in state.json, so `down` stops it): after a kill -9 the
      // next call starts a new one with the same group and internal topics
      ...(cdc
        ? {
            source: 'cdc' as const,
            cdc: { databaseUrl: addresses(state).postgresUrl, startConnectWorker: () => startStackConnect(state.name) },
          }
        : {}),
    };
    const report = await runConsistencyCheck(common);
    console.log(formatReport(report));
    if (report.samples < LONG_MODE_MIN_SAMPLES)
      console.log(
        `note: ${report.samples} samples, fewer than ${LONG_MODE_MIN_SAMPLES}: raise --duration or --samples-per-tick for a long-mode figure`,
      );
    let baseline: CheckReport | undefined;
    if (withBaseline) {
      console.error('[checker] TTL-only baseline: same workload, no invalidator');
      baseline = await runConsistencyCheck({ ...common, ttlOnly: true });
      console.log(formatReport(baseline));
      console.log(compare(report, baseline));
    }
    process.exitCode = report.staleEntriesAfterConvergence === 0 && report.lostInvalidations === 0 ? 0 : 1;
  } finally {
    await down(state.name);
  }
}

function compare(ours: CheckReport, baseline: CheckReport): string {
  const rate = (r: CheckReport) => (r.reads === 0 ? 0 : r.staleReads / r.reads);
  const nines = (r: CheckReport) => (Number.isFinite(r.ninesWithinWindow) ? r.ninesWithinWindow.toFixed(2) : 'all samples');
  return [
    `event-driven${ours.source === 'cdc' ? ' (CDC)' : ''} vs TTL-only (key TTL ${ours.keyTtlMs / 1000} s, window ${ours.windowMs / 1000} s):`,
    `  stale reads ${(rate(ours) * 100).toFixed(3)}% vs ${(rate(baseline) * 100).toFixed(3)}%`,
    `  keys consistent within the window: ${nines(ours)} nines vs ${nines(baseline)} nines`,
  ].join('\n');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
