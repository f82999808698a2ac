import { ConfigError, loadInvalidatorConfig } from './config/invalidator.config';
import { startInvalidator } from './bootstrap';

async function main(): Promise<void> {
  let config;
  try {
    config = loadInvalidatorConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`invalidator: ${error.message}`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  let running;
  try {
    running = await startInvalidator(config);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`invalidator: ${error.message}`);
      process.exit(78);
    }
    throw error;
  }
  const stop = (signal: string) => {
    running.runtime.log.info({ signal }, 'signal received');
    const timer = setTimeout(() => {
      running.runtime.log.error({ timeoutMs: config.SHUTDOWN_TIMEOUT_MS }, 'shutdown timed out: exiting; uncommitted work will be redelivered');
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS);
    timer.unref();
    running.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  console.error('invalidator failed to start:', error);
  process.exit(1);
});
