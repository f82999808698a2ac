// npm run stack -- up [--postgres] [--cdc] [--no-cluster] | postgres | down | status | env
// (stack name defaults to "dev"; --name to choose another). `postgres` adds PostgreSQL to a running stack;
// `--cdc` starts PostgreSQL and a Kafka Connect worker with Debezium's PostgreSQL connector too.
import { addresses, down, listStacks, readState, startStackPostgres, up } from './stack';
import { StackError } from './processes';

function print(name: string): void {
  const state = readState(name);
  if (!state) {
    console.log(`stack "${name}": not running`);
    return;
  }
  const a = addresses(state);
  console.log(`stack "${name}" (started ${state.startedAt})`);
  console.log(`  KAFKA_BROKERS=${a.kafkaBrokers}`);
  console.log(`  REDIS_URL=${a.redisUrl}`);
  console.log(`  REDIS_CLUSTER_NODES=${a.redisClusterNodes}`);
  if (a.postgresUrl) console.log(`  POSTGRES_URL=${a.postgresUrl}   (DATABASE_URL; log: ${state.postgres?.logFile})`);
  if (state.connect) console.log(`  CONNECT_URL=${state.connect.url}   (Kafka Connect REST; log: ${state.connect.logFile})`);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const command = args[0] ?? 'status';
  const nameIndex = args.indexOf('--name');
  const name = nameIndex >= 0 ? args[nameIndex + 1] : 'dev';
  switch (command) {
    case 'up': {
      const started = Date.now();
      await up({ name, cluster: !args.includes('--no-cluster'), postgres: args.includes('--postgres'), cdc: args.includes('--cdc') });
      console.log(`started in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      print(name);
      break;
    }
    case 'postgres': {
      const started = Date.now();
      await startStackPostgres(name);
      console.log(`PostgreSQL ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      print(name);
      break;
    }
    case 'down':
      console.log((await down(name)) ? `stack "${name}" stopped` : `stack "${name}" was not running`);
      break;
    case 'status': {
      const stacks = listStacks();
      if (stacks.length === 0) console.log('no stack running');
      stacks.forEach((s) => print(s.name));
      break;
    }
    case 'env': {
      const state = readState(name);
      if (!state) process.exit(1);
      const a = addresses(state);
      console.log(`KAFKA_BROKERS=${a.kafkaBrokers}\nREDIS_URL=${a.redisUrl}\nREDIS_CLUSTER_NODES=${a.redisClusterNodes}`);
      if (a.postgresUrl) console.log(`POSTGRES_URL=${a.postgresUrl}\nDATABASE_URL=${a.postgresUrl}`);
      if (state.connect) console.log(`CONNECT_URL=${state.connect.url}`);
      break;
    }
    default:
      console.error(`unknown command "${command}": use up [--postgres] [--cdc] | postgres | down | status | env [--name NAME]`);
      process.exit(2);
  }
}

main().catch((error: unknown) => {
  if (error instanceof StackError) console.error(`[stack] ${error.code}: ${error.message}`);
  else console.error(error);
  process.exit(1);
});
