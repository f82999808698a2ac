// Structured logs (pino). One line per event of interest; nothing per message on the hot path.
// Writes are synchronous: pino's default stdout stream writes asynchronously, and a process that
// exits (a consumer crash, the end of a shutdown) behind a slow reader of its stdout lost lines
// or wrote them out of order, the crash cause among them. Log volume is low, so a blocking write
// per line costs nothing measurable, and every line is out before process.exit.
import pino, { Logger } from 'pino';

export type { Logger } from 'pino';

export function createLogger(name: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino(
    { name, level, base: { service: name }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination({ dest: 1, sync: true }),
  );
}
