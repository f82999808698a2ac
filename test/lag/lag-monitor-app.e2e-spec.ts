// apps/lag-monitor on its own (node main.ts, real broker): no invalidator, no registry, no Redis.
// Its config comes from the environment; it serves the dashboard, GET /lag, GET /metrics and
// /health/live, /health/ready, and stops on SIGTERM.
import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '../../scripts/stack/processes';
import { createTopic, eventually, stackEnv, uniqueName } from '../support/stack-env';

const ROOT = join(__dirname, '..', '..');

describe('apps/lag-monitor as a process', () => {
  let child: ChildProcess | undefined;
  let out = '';

  afterAll(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
  });

  it('serves health, /lag, /dashboard and /metrics for the configured group with only Kafka running', async () => {
    const topic = uniqueName('lagmon-topic');
    const groupId = uniqueName('lagmon-group');
    await createTopic(topic, 2);
    const port = await freePort();
    child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', join(ROOT, 'apps/lag-monitor/src/main.ts')],
      {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH,
          TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'),
          KAFKA_BROKERS: stackEnv.kafkaBrokers.join(','),
          LAG_GROUP_ID: groupId,
          LAG_TOPICS: topic,
          LAG_INTERVAL_MS: '500',
          HTTP_PORT: String(port),
          LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    const url = `http://127.0.0.1:${port}`;
    await eventually('lag-monitor listening', async () => out.includes(`${url}/dashboard`), 60_000, 200);
    expect((await fetch(`${url}/health/live`)).status).toBe(200);
    await eventually(
      'lag-monitor ready (first read of the group)',
      async () => (await fetch(`${url}/health/ready`)).status === 200,
      30_000,
      200,
    );

    const lag = (await (await fetch(`${url}/lag`)).json()) as {
      group: { groupId: string };
      partitions: { topic: string; partition: number }[];
    };
    expect(lag.group.groupId).toBe(groupId);
    expect(lag.partitions.map((p) => `${p.topic}/${p.partition}`).sort()).toEqual([`${topic}/0`, `${topic}/1`]);

    const page = await fetch(`${url}/dashboard`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<html');

    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain('kafka_consumergroup');

    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) =>
      child!.exitCode !== null ? resolve(child!.exitCode) : child!.once('exit', resolve),
    );
    expect({ code, out: code === 0 ? '' : out }).toEqual({ code: 0, out: '' });
  }, 120_000);
});
