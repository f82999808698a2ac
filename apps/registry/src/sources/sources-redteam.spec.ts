// Red-team cases for the team's GitOps path of source declarations: what the CLI asks the
// registry to do with a team file's `sources:` section (a stub registry records the requests).
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../cli/run-cli';

const dir = mkdtempSync(join(tmpdir(), 'sources-redteam-'));

const MAPPING = {
  id: 'catalog.product',
  entityType: 'product',
  owner: 'catalog',
  keys: [{ template: 'product:{entityId}', action: 'delete' }],
};

async function body(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

describe('team file sources through the CLI: red team', () => {
  let server: Server;
  let url: string;
  const requests: { path: string; body: unknown }[] = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      void body(request).then((parsed) => {
        requests.push({ path: request.url ?? '', body: parsed });
        response.setHeader('content-type', 'application/json');
        response.end(
          JSON.stringify(
            request.url === '/mappings/apply'
              ? { dryRun: true, diff: { added: [], removed: [], changed: [], unchanged: ['catalog.product'] } }
              : { dryRun: true, changes: [], unchanged: [] },
          ),
        );
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.close();
    await once(server, 'close');
  });

  it("a file whose `sources:` lost its last declaration prunes its team's declarations: the owners are those the file names, not only those its sources name", async () => {
    const path = join(dir, 'catalog.yaml');
    writeFileSync(path, JSON.stringify({ mappings: [MAPPING], sources: [] }));
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(['diff', path], {
      env: { REGISTRY_URL: url, REGISTRY_TOKEN: 't' },
      out: (t) => out.push(t),
      err: (t) => err.push(t),
    });
    expect(err).toEqual([]);
    expect(code).toBe(0);
    const applied = requests.find((r) => r.path === '/sources/apply');
    // Without the owners, the registry would prune nobody: catalog's stale declaration would stay in force.
    expect(applied?.body).toMatchObject({ sources: [], pruneOwners: ['catalog'], dryRun: true });
  });
});
