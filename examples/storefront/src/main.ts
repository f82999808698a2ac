// Reads the env (README table), listens, stops on SIGINT/SIGTERM.
import { ConfigError } from '@app/config';
import { loadStorefrontConfig } from './config/storefront.config';
import { createStorefrontApp } from './storefront.app';

async function main(): Promise<void> {
  let config;
  try {
    config = loadStorefrontConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`example-storefront: ${error.message}`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  const app = await createStorefrontApp(config);
  await app.listen(config.STOREFRONT_PORT, config.STOREFRONT_HOST);
  console.log(`example-storefront listening on ${await app.getUrl()} (OpenAPI: /docs, health: /health, metrics: /metrics)`);
  const stop = () =>
    void app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error('example-storefront failed to start:', error);
  process.exit(1);
});
