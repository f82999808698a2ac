// Freezes the run's Kafka broker (SIGSTOP) for a while, then wakes it (SIGCONT): the broker
// keeps its connections open and answers nothing, as a broker does in a long GC pause, a hung
// disk or a paused VM. The e2e suite runs one test at a time (--runInBand), so no other test
// sees the shared broker frozen. The stack's own `down` wakes a broker left frozen.
import { freezePid } from '../../scripts/stack/processes';
import { readState } from '../../scripts/stack/stack';

/** Freezes the broker for `ms`; it is always woken again, also when the wait throws. */
export async function freezeBroker(ms: number): Promise<void> {
  const name = process.env.STACK_NAME;
  const kafka = name ? readState(name)?.kafka : undefined;
  if (!kafka) throw new Error(`no Kafka broker recorded for stack ${name ?? '(STACK_NAME unset)'}`);
  await freezePid(kafka.pid, kafka.dir, ms);
}
