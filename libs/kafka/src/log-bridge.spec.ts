import { LogEntry, logLevel } from 'kafkajs';
import pino from 'pino';
import { Writable } from 'node:stream';
import { isHarmlessKafkaLog, kafkaLogBridge } from './log-bridge';

function capture(): { logger: pino.Logger; lines: () => { level: number; msg: string; [k: string]: unknown }[] } {
  const out: string[] = [];
  const stream = new Writable({ write: (chunk: Buffer, _enc, done) => (out.push(chunk.toString()), done()) });
  const logger = pino({ level: 'debug' }, stream);
  return {
    logger,
    lines: () =>
      out
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { level: number; msg: string; [k: string]: unknown }),
  };
}

function entry(level: logLevel, namespace: string, log: Record<string, unknown>): LogEntry {
  return { namespace, level, label: '', log: { timestamp: 'now', message: 'm', ...log } };
}

const DEBUG = 20;
const WARN = 40;
const ERROR = 50;

describe('kafkajs log bridge', () => {
  it('logs the retried-and-harmless errors of a normal start at debug', () => {
    const { logger, lines } = capture();
    const log = kafkaLogBridge(logger)(logLevel.ERROR);
    log(
      entry(logLevel.ERROR, 'Connection', {
        message: 'Response FindCoordinator(key: 10, version: 2)',
        error: "The coordinator is loading and hence can't process requests for this group",
      }),
    );
    log(
      entry(logLevel.ERROR, 'Connection', {
        message: 'Response JoinGroup(key: 11, version: 5)',
        error: 'The group coordinator is not available',
      }),
    );
    log(
      entry(logLevel.ERROR, 'Connection', {
        message: 'Response Metadata(key: 3, version: 6)',
        error: 'This server does not host this topic-partition',
      }),
    );
    log(entry(logLevel.WARN, 'Producer', { message: 'Limiting retries for the idempotent producer may invalidate EoS guarantees' }));
    expect(lines().map((l) => l.level)).toEqual([DEBUG, DEBUG, DEBUG, DEBUG]);
  });

  it('keeps what an operator must act on at error / warn, with the namespace and fields', () => {
    const { logger, lines } = capture();
    const log = kafkaLogBridge(logger)(logLevel.ERROR);
    log(entry(logLevel.ERROR, 'Connection', { message: 'Response SaslAuthenticate', error: 'Authentication failed' }));
    log(entry(logLevel.ERROR, 'Consumer', { message: 'Crash: KafkaJSNonRetriableError', error: 'Topic authorization failed' }));
    log(entry(logLevel.WARN, 'Consumer', { message: 'something odd' }));
    log(entry(logLevel.INFO, 'Consumer', { message: 'Starting' }));
    expect(lines().map((l) => [l.level, l.namespace, l.msg])).toEqual([
      [ERROR, 'Connection', 'Response SaslAuthenticate'],
      [ERROR, 'Consumer', 'Crash: KafkaJSNonRetriableError'],
      [WARN, 'Consumer', 'something odd'],
      [DEBUG, 'Consumer', 'Starting'],
    ]);
    expect(lines()[0].error).toBe('Authentication failed');
    expect(lines()[0]).not.toHaveProperty('timestamp');
  });

  it('retriedErrorsAsWarnings (the registry): errors of retried requests are warnings, others stay errors', () => {
    const { logger, lines } = capture();
    const log = kafkaLogBridge(logger, { retriedErrorsAsWarnings: true, namespaceField: 'kafkajs' })(logLevel.ERROR);
    log(entry(logLevel.ERROR, 'Connection', { message: 'Response Produce', error: 'Connection timeout' }));
    log(entry(logLevel.ERROR, 'Producer', { message: 'send failed', retryCount: 1, error: 'CONCURRENT_TRANSACTIONS' }));
    log(entry(logLevel.ERROR, 'Producer', { message: 'gave up', error: 'boom' }));
    expect(lines().map((l) => [l.level, l.kafkajs])).toEqual([
      [WARN, 'Connection'],
      [WARN, 'Producer'],
      [ERROR, 'Producer'],
    ]);
  });

  it('matches only known texts', () => {
    expect(
      isHarmlessKafkaLog({
        level: logLevel.ERROR,
        log: { message: 'x', error: 'This server does not host this topic-partition', timestamp: '' },
      }),
    ).toBe(true);
    expect(
      isHarmlessKafkaLog({ level: logLevel.ERROR, log: { message: 'x', error: 'Not authorized to access topics', timestamp: '' } }),
    ).toBe(false);
    expect(isHarmlessKafkaLog({ level: logLevel.INFO, log: { message: 'The group coordinator is not available', timestamp: '' } })).toBe(
      false,
    );
  });
});
