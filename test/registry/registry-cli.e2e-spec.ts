// The GitOps CLI against a running registry on the real Kafka broker: diff (exit 3 when the file
// differs), apply, list, explain; team refusals exit 1. Two checks run real processes so the
// exit codes are the ones a shell/CI sees: `npm run mappings -- diff` and the registry's
// startup refusal of a bad config; the registry's old variable names still start it, warning.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INestApplication } from '@nestjs/common';
import { runCli } from '../../apps/registry/src/cli/run-cli';
import { createRegistryApp, registryStarted } from '../../apps/registry/src/registry.app';
import { spawnRegistry } from '../support/registry-process';
import { stackEnv, uniqueName } from '../support/stack-env';

const ROOT = join(__dirname, '..', '..');
const EXAMPLE = join(ROOT, 'examples', 'mappings', 'catalog.yaml');
const dir = mkdtempSync(join(tmpdir(), 'registry-cli-e2e-'));
const EVENT = join(dir, 'event.json');
writeFileSync(
  EVENT,
  JSON.stringify({
    eventId: 'e-1',
    entityType: 'product',
    entityId: 'p-42',
    version: 7,
    tenant: 'acme',
    occurredAt: '2026-11-25T12:00:00.000Z',
    before: { categoryId: 'lighting' },
    after: { name: 'Desk lamp', categoryId: 'desk' },
  }),
);

function runProcess(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // What `npm run mappings` runs (ts-node, transpile only), without npm's own start-up cost.
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('mappings CLI against the registry (real Kafka)', () => {
  let app: INestApplication;
  let env: Record<string, string>;

  async function cli(argv: string[], extraEnv: Record<string, string> = {}) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(argv, { env: { ...env, ...extraEnv }, out: (t) => out.push(t), err: (t) => err.push(t) });
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  beforeAll(async () => {
    app = await createRegistryApp({
      KAFKA_BROKERS: stackEnv.kafkaBrokers.join(','),
      REGISTRY_TOKENS: 'catalog-token=catalog,search-token=search',
      KEYSPACES_REQUIRED: false, // team files applied without keyspaces (the old bootstrap rule)
      KAFKA_MAPPINGS_TOPIC: uniqueName('registry-cli-mappings'),
      KAFKA_AUDIT_TOPIC: uniqueName('registry-cli-audit'),
      LOG_LEVEL: 'silent',
    });
    await app.listen(0, '127.0.0.1');
    await registryStarted(app);
    env = { REGISTRY_URL: await app.getUrl(), REGISTRY_TOKEN: 'catalog-token' };
  });

  afterAll(async () => {
    await app?.close();
  });

  it('diff exits 3 before apply and 0 after; apply, list and explain exit 0', async () => {
    const before = await cli(['diff', EXAMPLE]);
    expect(before).toMatchObject({ code: 3, out: '+ catalog.product (entityType product, owner catalog, 3 keys, 1 tags)' });

    const applied = await cli(['apply', EXAMPLE]);
    expect(applied.code).toBe(0);
    expect(applied.out).toMatch(/applied$/);

    expect(await cli(['diff', EXAMPLE])).toMatchObject({ code: 0, out: 'no changes (1 mappings unchanged)' });
    expect((await cli(['apply', EXAMPLE])).out).toMatch(/nothing to apply$/);

    const listed = await cli(['list']);
    expect(listed.code).toBe(0);
    expect(listed.out).toMatch(/id: catalog\.product[\s\S]*version: 1/);

    const explained = await cli(['explain', EVENT]);
    expect(explained.code).toBe(0);
    expect(explained.out).toMatch(/^event product:p-42 v7 \(tenant acme\) -> apply \(mappings: catalog\.product v1\)/);
    expect(explained.out).toMatch(/delete +category:lighting:products/);

    const edited = join(dir, 'edited.yaml');
    writeFileSync(edited, readFileSync(EXAMPLE, 'utf8').replace('ttlSeconds: 3600', 'ttlSeconds: 600'));
    const diff = await cli(['diff', edited]);
    expect(diff).toMatchObject({ code: 3, out: '~ catalog.product\n    keys[0].ttlSeconds: 3600 -> 600' });
  });

  it("exits 1 when the registry refuses (another team's file)", async () => {
    const refused = await cli(['apply', EXAMPLE], { REGISTRY_TOKEN: 'search-token' });
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/HTTP 403\) WRONG_TEAM/);
    expect((await cli(['list'], { REGISTRY_TOKEN: 'wrong' })).err).toMatch(/HTTP 401\) NOT_AUTHENTICATED/);
  });

  it('a real CLI process (run as `npm run mappings -- diff` runs it) exits 3 when the file differs', async () => {
    const edited = join(dir, 'edited-process.yaml');
    writeFileSync(edited, readFileSync(EXAMPLE, 'utf8').replace('tenant:{tenant}:products', 'tenant:{tenant}:catalog'));
    const result = await runProcess([join(ROOT, 'apps/registry/src/cli.ts'), 'diff', edited], env);
    expect(result.stdout).toMatch(/tags\[0\]: "tenant:\{tenant\}:products" -> "tenant:\{tenant\}:catalog"/);
    expect(result.code).toBe(3);
  });

  it('the registry refuses to start on a bad config, naming the variable', async () => {
    const result = await runProcess([join(ROOT, 'apps/registry/src/main.ts')], {
      KAFKA_BROKERS: stackEnv.kafkaBrokers.join(','),
      REGISTRY_TOKENS: 'a=team-a',
      FANOUT_CAP: 'lots',
    });
    expect(result.code).toBe(78);
    expect(result.stderr).toMatch(/FANOUT_CAP must be an integer number \(got "lots"\)/);
  });

  it('the registry refuses to start when an old and a new variable name disagree, naming both', async () => {
    const result = await runProcess([join(ROOT, 'apps/registry/src/main.ts')], {
      KAFKA_BROKERS: stackEnv.kafkaBrokers.join(','),
      REGISTRY_TOKENS: 'a=team-a',
      REGISTRY_FANOUT_CAP: '32',
      FANOUT_CAP: '64',
    });
    expect(result.code).toBe(78);
    expect(result.stderr).toContain('REGISTRY_FANOUT_CAP and FANOUT_CAP are both set, to different values ("32" and "64")');
  });

  it('the registry still starts on its old REGISTRY_PORT / REGISTRY_FANOUT_CAP, printing one warning for each', async () => {
    const registry = await spawnRegistry({
      KAFKA_BROKERS: stackEnv.kafkaBrokers.join(','),
      REGISTRY_TOKENS: 'ops-token=*',
      KAFKA_MAPPINGS_TOPIC: uniqueName('registry-renamed-mappings'),
      KAFKA_AUDIT_TOPIC: uniqueName('registry-renamed-audit'),
      HTTP_PORT: '', // empty = unset: only the old name gives the port
      REGISTRY_PORT: '0',
      REGISTRY_FANOUT_CAP: '32',
      LOG_LEVEL: 'warn',
    });
    try {
      const output = registry.output();
      expect(output.match(/mapping-registry: warning: REGISTRY_PORT is deprecated: set HTTP_PORT instead/g)).toHaveLength(1);
      expect(output.match(/mapping-registry: warning: REGISTRY_FANOUT_CAP is deprecated: set FANOUT_CAP instead/g)).toHaveLength(1);
      const res = await fetch(`${registry.url}/explain`, {
        method: 'POST',
        headers: { authorization: 'Bearer ops-token', 'content-type': 'application/json' },
        body: readFileSync(EVENT, 'utf8').replace(/^/, '{"event":').concat('}'),
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { fanoutCap: number }).fanoutCap).toBe(32);
    } finally {
      await registry.terminate();
    }
  });
});
