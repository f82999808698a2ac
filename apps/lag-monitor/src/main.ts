// node dist/apps/lag-monitor/apps/lag-monitor/src/main.js (after `nest build lag-monitor`) or ts-node:
// the operators' app. Reads the env (LagMonitorConfig), serves the dashboard, GET /lag, GET /metrics
// and /health/live, /health/ready, stops on SIGINT/SIGTERM. Needs Kafka only.
import { loadConfigOrExit } from '@app/config';
import { createLogger } from '@app/telemetry';
import { lagModuleOptions, loadLagMonitorConfig } from './config/lag-monitor.config';
import { startLagServer } from './http/lag-server';

async function main(): Promise<void> {
  const config = loadConfigOrExit('lag-monitor', () => loadLagMonitorConfig());
  const logger = createLogger('lag-monitor', config.LOG_LEVEL);
  const server = await startLagServer({ ...lagModuleOptions(config), logger, port: config.HTTP_PORT, host: config.HTTP_HOST });
  console.log(`lag-monitor listening on ${server.url} (dashboard: ${server.url}/dashboard; /lag, /metrics, /health/live, /health/ready)`);
  const stop = () =>
    void server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error('lag-monitor failed to start:', error);
  process.exit(1);
});
