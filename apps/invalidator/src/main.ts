import { EX_CONFIG, loadConfigOrExit } from '@app/config';
import { ConfigError, loadInvalidatorConfig } from './config/invalidator.config';
import { startInvalidator } from './bootstrap';
import { CONSUMER_CRASH_EXIT_CODE } from './consumer-crash';

async function main(): Promise<void> {
  const config = loadConfigOrExit('invalidator', () => loadInvalidatorConfig());
  let running;
  try {
    running = await startInvalidator(config);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`invalidator: ${error.message}`);
      process.exit(EX_CONFIG);
    }
    throw error;
  }
  let stopping = false;
  const stop = (signal: string, exitCode = 0) => {
    if (stopping) return;
    stopping = true;
    if (exitCode === 0) running.runtime.log.info({ signal }, 'signal received');
    const timer = setTimeout(() => {
      running.runtime.log.error(
        { timeoutMs: config.SHUTDOWN_TIMEOUT_MS },
        'shutdown timed out: exiting; uncommitted work will be redelivered',
      );
      process.exit(exitCode || 1);
    }, config.SHUTDOWN_TIMEOUT_MS);
    timer.unref();
    running.close().then(
      () => process.exit(exitCode),
      () => process.exit(exitCode || 1),
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  // kafkajs will never restart the consumer: release everything and exit non-zero, so the
  // orchestrator restarts the container (EXIT_ON_CONSUMER_CRASH=false: /health/live says 503 instead).
  void running.runtime.consumerGaveUp.then(() => {
    if (config.EXIT_ON_CONSUMER_CRASH) stop('consumer-crash', CONSUMER_CRASH_EXIT_CODE);
  });
}

main().catch((error: unknown) => {
  console.error('invalidator failed to start:', error);
  process.exit(1);
});
