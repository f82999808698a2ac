// Freezes the run's Kafka broker (SIGSTOP) for a while, then wakes it (SIGCONT): the broker
// keeps its connections open and answers nothing, as a broker does in a long GC pause, a hung
// disk or a paused VM. The e2e suite runs one test at a time (--runInBand), so no other test
// sees the shared broker frozen. The stack's own `down` wakes a broker left frozen.
import { setTimeout as sleep } from 'node:timers/promises';
import { readState } from '../../scripts/stack/stack';
import { isOurs } from '../../scripts/stack/processes';

function brokerPid(): { pid: number; dir: string } {
  const name = process.env.STACK_NAME;
  const kafka = name ? readState(name)?.kafka : undefined;
  if (!kafka) throw new Error(`no Kafka broker recorded for stack ${name ?? '(STACK_NAME unset)'}`);
  if (!isOurs(kafka.pid, kafka.dir)) throw new Error(`Kafka broker pid ${kafka.pid} is not running`);
  return { pid: kafka.pid, dir: kafka.dir };
}

/** Freezes the broker for `ms`; it is always woken again, also when the caller's wait throws. */
export async function freezeBroker(ms: number): Promise<void> {
  const { pid } = brokerPid();
  process.kill(pid, 'SIGSTOP');
  try {
    await sleep(ms);
  } finally {
    process.kill(pid, 'SIGCONT');
  }
}
