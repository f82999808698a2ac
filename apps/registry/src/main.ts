// node dist/apps/registry/apps/registry/src/main.js (after `nest build registry`) or ts-node: reads the env (docs/operations.md, "Registry"), listens, stops on SIGINT/SIGTERM.
import { ConfigError, loadRegistryConfig } from './config/registry.config';
import { createRegistryApp } from './registry.app';

async function main(): Promise<void> {
  let config;
  try {
    config = loadRegistryConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`mapping-registry: ${error.message}`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  const app = await createRegistryApp(config);
  await app.listen(config.REGISTRY_PORT, config.REGISTRY_HOST);
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
