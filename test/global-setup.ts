// One real stack (Kafka KRaft broker, redis-server, 3-master Redis Cluster) per test run,
// shared by every e2e test. STACK_USE=<name> reuses a stack started with `npm run stack -- up`.
import { addresses, readState, up } from '../scripts/stack/stack';

export default async function globalSetup(): Promise<void> {
  const reuse = process.env.STACK_USE;
  const started = Date.now();
  const state = reuse ? readState(reuse) : await up({ name: `test-${process.pid}`, ownerPid: process.pid });
  if (!state) throw new Error(`STACK_USE=${reuse}: no such stack is running (npm run stack -- up --name ${reuse})`);
  const a = addresses(state);
  process.env.STACK_NAME = state.name;
  process.env.KAFKA_BROKERS = a.kafkaBrokers;
  process.env.REDIS_URL = a.redisUrl;
  process.env.REDIS_CLUSTER_NODES = a.redisClusterNodes;
  console.log(
    `\n[stack] ${reuse ? 'reusing' : 'started'} "${state.name}" in ${Date.now() - started} ms: kafka ${a.kafkaBrokers}, redis ${a.redisUrl}, cluster ${a.redisClusterNodes}`,
  );
}
