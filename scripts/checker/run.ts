// npm run checker -- [--duration 600] : the long mode of the consistency checker on its own stack.
import { addresses, down, up } from '../stack/stack';
import { formatReport, runConsistencyCheck } from './consistency-checker';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const arg = (name: string, fallback: number) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? Number(args[i + 1]) : fallback;
  };
  const state = await up({ name: `checker-${process.pid}`, ownerPid: process.pid, cluster: false });
  try {
    const report = await runConsistencyCheck({
      brokers: addresses(state).kafkaBrokers,
      durationMs: arg('duration', 600) * 1000,
      entities: arg('entities', 1000),
      writesPerSecond: arg('writes', 500),
      readers: arg('readers', 16),
      windowMs: arg('window', 2) * 1000,
      log: (line) => console.error(`[checker ${new Date().toISOString().slice(11, 19)}] ${line}`),
    });
    console.log(formatReport(report));
    process.exitCode = report.staleEntriesAfterConvergence === 0 && report.lostInvalidations === 0 ? 0 : 1;
  } finally {
    await down(state.name);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
