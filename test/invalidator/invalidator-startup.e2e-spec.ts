// Bad configuration stops startup with a message that names the variable (real broker).
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError, loadInvalidatorConfig } from '../../apps/invalidator/src/config/invalidator.config';
import { startInvalidator } from '../../apps/invalidator/src/bootstrap';
import { invalidatorTestEnv } from '../support/invalidator-env';
import { spawnInvalidator } from '../../scripts/support/invalidator-process';
import { uniqueName } from '../support/stack-env';

describe('invalidator startup checks', () => {
  it('refuses to start when the dead-letter topic does not exist, naming KAFKA_DLQ_TOPIC', async () => {
    const t = await invalidatorTestEnv();
    const missing = uniqueName('no-such-dlq');
    const attempt = startInvalidator(loadInvalidatorConfig({ ...t.env, KAFKA_DLQ_TOPIC: missing }));
    await expect(attempt).rejects.toBeInstanceOf(ConfigError);
    await expect(attempt).rejects.toThrow(new RegExp(`KAFKA_DLQ_TOPIC: topic "${missing}" does not exist`));
  });

  it('exits with code 78 and names the variable when the environment is wrong', async () => {
    const t = await invalidatorTestEnv();
    const child = await spawnInvalidator({ ...t.env, CHUNK_SIZE: 'lots' }, { waitReady: false });
    expect(await child.exited).toBe(78);
    expect(child.output()).toContain('CHUNK_SIZE');
  });
});

describe('a normal start is quiet', () => {
  it('logs no warning or error while joining a new group on new topics (kafkajs retries of coordinator loading etc. are debug)', async () => {
    const t = await invalidatorTestEnv();
    const child = await spawnInvalidator({ ...t.env, LOG_LEVEL: 'info' });
    await sleep(3_000); // past the first fetches and commits
    expect(await child.terminate()).toBe(0);
    const loud = child
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { level: number; msg: string })
      .filter((entry) => entry.level >= 40);
    expect(loud).toEqual([]);
  }, 60_000);
});
