// Structured logs (pino). One line per event of interest; nothing per message on the hot path.
import pino, { Logger } from 'pino';

export type { Logger } from 'pino';

export function createLogger(name: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level, base: { service: name }, timestamp: pino.stdTimeFunctions.isoTime });
}
