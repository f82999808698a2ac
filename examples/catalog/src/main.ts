// node dist/examples/catalog/examples/catalog/src/main.js (or ts-node): reads the env (README table), listens, stops on SIGINT/SIGTERM.
import { loadConfigOrExit } from '@app/config';
import { loadCatalogConfig } from './config/catalog.config';
import { createCatalogApp } from './catalog.app';

async function main(): Promise<void> {
  const config = loadConfigOrExit('example-catalog', () => loadCatalogConfig());
  const app = await createCatalogApp(config);
  await app.listen(config.HTTP_PORT, config.HTTP_HOST);
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
