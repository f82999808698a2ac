// node dist/apps/registry/apps/registry/src/main.js (after `nest build registry`) or ts-node: reads the env (docs/operations.md, "Registry"), listens, stops on SIGINT/SIGTERM.
import { loadConfigOrExit } from '@app/config';
import { loadRegistryConfig } from './config/registry.config';
import { createRegistryApp } from './registry.app';

async function main(): Promise<void> {
  const config = loadConfigOrExit('mapping-registry', () => loadRegistryConfig());
  const app = await createRegistryApp(config);
  await app.listen(config.HTTP_PORT, config.HTTP_HOST);
  console.log(`mapping-registry listening on ${await app.getUrl()} (OpenAPI: /docs, /docs-json; health: /health/live, /health/ready)`);
  const stop = () =>
    void app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error('mapping-registry failed to start:', error);
  process.exit(1);
});
