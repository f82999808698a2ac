// Reads the env (README table), listens, stops on SIGINT/SIGTERM.
import { loadConfigOrExit } from '@app/config';
import { loadStorefrontConfig } from './config/storefront.config';
import { createStorefrontApp } from './storefront.app';

async function main(): Promise<void> {
  const config = loadConfigOrExit('example-storefront', () => loadStorefrontConfig());
  const app = await createStorefrontApp(config);
  await app.listen(config.HTTP_PORT, config.HTTP_HOST);
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
