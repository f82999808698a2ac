// node dist/examples/catalog/examples/catalog/src/main.js (or ts-node): reads the env (README table), listens, stops on SIGINT/SIGTERM.
import { ConfigError } from '@app/config';
import { loadCatalogConfig } from './config/catalog.config';
import { createCatalogApp } from './catalog.app';

async function main(): Promise<void> {
  let config;
  try {
    config = loadCatalogConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`example-catalog: ${error.message}`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  const app = await createCatalogApp(config);
  await app.listen(config.CATALOG_PORT, config.CATALOG_HOST);
  console.log(`example-catalog listening on ${await app.getUrl()} (OpenAPI: /docs, health: /health, metrics: /metrics)`);
  const stop = () =>
    void app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error('example-catalog failed to start:', error);
  process.exit(1);
});
