// The CLI without a server: offline explain, and the exit codes of usage and input errors.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatKeyspaces, formatSourceChanges, readKeyspacesFile, runCli } from './run-cli';

const EXAMPLE = join(__dirname, '..', '..', '..', '..', 'examples', 'mappings', 'catalog.yaml');
const dir = mkdtempSync(join(tmpdir(), 'mappings-cli-'));
const EVENT = {
  eventId: 'e-1',
  entityType: 'product',
  entityId: 'p-42',
  version: 7,
  tenant: 'acme',
  occurredAt: '2026-11-25T12:00:00.000Z',
  before: { categoryId: 'lighting' },
  after: { name: 'Desk lamp', categoryId: 'desk' },
};

function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

async function run(argv: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { env, out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('mappings CLI (offline)', () => {
  it('explains an event against a mapping file without a server', async () => {
    const result = await run(['explain', file('event.json', EVENT), '--file', EXAMPLE]);
    expect(result.code).toBe(0);
    expect(result.out.split('\n')).toEqual([
      'event product:p-42 v7 (tenant acme) -> apply (mappings: catalog.product)',
      expect.stringMatching(/^ {2}warm +product:p-42 +from after \(\d+ bytes\), ttl 3600s +\[product:\{entityId\}\]$/),
      expect.stringMatching(/^ {2}delete +category:desk:products +guard 86400s +\[category:\{after\.categoryId\}:products\]$/),
      expect.stringMatching(/^ {2}delete +category:lighting:products +guard 86400s +\[category:\{before\.categoryId\}:products\]$/),
      expect.stringMatching(/^ {2}tag +tenant:acme:products +\[tenant:\{tenant\}:products\]$/),
      '  fan-out 4 of 64',
    ]);
    const json = await run(['explain', file('event.json', EVENT), '--file', EXAMPLE, '--json']);
    expect((JSON.parse(json.out) as { keys: { delete: unknown[] } }).keys.delete).toHaveLength(2);
  });

  it('exits 1 when the event would be dead-lettered, or a file is invalid', async () => {
    const hostile = await run(['explain', file('hostile.json', { ...EVENT, after: { categoryId: 'a*' } }), '--file', EXAMPLE]);
    expect(hostile.code).toBe(1);
    expect(hostile.out).toMatch(/REJECTED TEMPLATE_WIDENS_KEY/);
    expect((await run(['explain', file('bad-event.json', { ...EVENT, version: 'x' }), '--file', EXAMPLE])).code).toBe(1);
    const badYaml = await run([
      'explain',
      file('event.json', EVENT),
      '--file',
      file('bad.yaml', 'mappings:\n  - { id: a, entityType: p, owner: c, keys: [{ template: "p:{sku}", action: delete }] }\n'),
    ]);
    expect(badYaml.code).toBe(1);
    expect(badYaml.err).toMatch(/TEMPLATE_UNKNOWN_FIELD at mappings\[0\]\.keys\[0\]\.template/);
  });

  it('exits 2 on bad usage', async () => {
    expect((await run([])).code).toBe(2);
    expect((await run(['bogus'])).code).toBe(2);
    expect((await run(['explain'])).code).toBe(2);
    expect((await run(['explain', join(dir, 'missing.json'), '--file', EXAMPLE])).code).toBe(2);
    expect((await run(['explain', file('event.json', EVENT), '--file', EXAMPLE, '--fanout-cap', 'x'])).code).toBe(2);
    const noToken = await run(['list']);
    expect(noToken.code).toBe(2);
    expect(noToken.err).toMatch(/REGISTRY_TOKEN is not set/);
    expect((await run(['--help'])).code).toBe(0);
  });

  it('exits 1 when the registry cannot be reached', async () => {
    const result = await run(['list'], { REGISTRY_TOKEN: 't', REGISTRY_URL: 'http://127.0.0.1:9' });
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/cannot reach the registry at http:\/\/127\.0\.0\.1:9\/mappings/);
  });
});

describe('keyspaces files and listing: team hosts', () => {
  it('reads teams from a keyspaces file and lists them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ks-'));
    const file = join(dir, 'keyspaces.yaml');
    writeFileSync(
      file,
      'keyspaces:\n  prefixes: { "product:": catalog }\n  teams:\n    catalog: { loaderHosts: [catalog.internal], purgeHosts: [shop.example], surrogateKeyPrefixes: ["product:"] }\n    promo: { purgeHosts: [promo.example] }\n',
    );
    expect(readKeyspacesFile(file)).toEqual({
      prefixes: [{ prefix: 'product:', team: 'catalog' }],
      entityTypes: [],
      teams: [
        { team: 'catalog', loaderHosts: ['catalog.internal'], purgeHosts: ['shop.example'], surrogateKeyPrefixes: ['product:'] },
        { team: 'promo', purgeHosts: ['promo.example'] },
      ],
    });
    const listed = formatKeyspaces({
      enforced: true,
      prefixes: [],
      entityTypes: [],
      teams: [
        { kind: 'team', team: 'catalog', loaderHosts: [], purgeHosts: ['shop.example'], surrogateKeyPrefixes: ['product:'], version: 1 },
      ],
    });
    expect(listed).toContain('team         catalog  loader hosts (none); purge hosts shop.example; surrogate-key prefixes "product:"');
  });
});

describe('mappings CLI: source declarations and topic grants (offline parts)', () => {
  it('reads topic grants from a keyspaces file and shows them', () => {
    const path = file('keyspaces-topics.yaml', 'keyspaces:\n  topics: { cdc.catalog.public.catalog_products: catalog }\n');
    expect(readKeyspacesFile(path)).toEqual({
      prefixes: [],
      entityTypes: [],
      topics: [{ topic: 'cdc.catalog.public.catalog_products', team: 'catalog' }],
    });
    expect(
      formatKeyspaces({
        enforced: true,
        prefixes: [],
        entityTypes: [],
        topics: [{ kind: 'topic', topic: 't.s.x', team: 'catalog', version: 1 }],
      }),
    ).toMatch(/topic +t\.s\.x +catalog/);
  });

  it('prints source changes as +, ~ (with each field) and -', () => {
    const after = {
      topic: 't.s.x',
      owner: 'catalog',
      entityType: 'product',
      idColumns: ['id'],
      fields: {},
      numericColumns: [],
      excludeColumns: [],
      version: 1,
    };
    expect(
      formatSourceChanges(
        [
          { key: 'source:t.s.x', topic: 't.s.x', kind: 'create', after, changes: [] },
          {
            key: 'source:t.s.y',
            topic: 't.s.y',
            kind: 'update',
            changes: [{ path: 'versionColumn', before: 'version', after: undefined }],
          },
          { key: 'source:t.s.z', topic: 't.s.z', kind: 'delete', before: { ...after, topic: 't.s.z' }, changes: [] },
        ],
        0,
      ).split('\n'),
    ).toEqual([
      '+ source t.s.x (entityType product, owner catalog, version WAL position (LSN))',
      '~ source t.s.y',
      '    versionColumn: "version" -> (none)',
      '- source t.s.z (owner catalog)',
    ]);
    expect(formatSourceChanges([], 2)).toBe('no source changes (2 sources unchanged)');
  });

  it('a team file whose sources are wrong fails before any request (exit 1 naming the field)', async () => {
    const path = file('bad-sources.yaml', 'sources:\n  - { topic: t.s.x, owner: catalog, entityType: product, idColumns: [__proto__] }\n');
    const result = await run(['apply', path], { REGISTRY_TOKEN: 'x', REGISTRY_URL: 'http://127.0.0.1:1' });
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/SOURCE_INVALID at sources\[0\]\.idColumns\[0\]/);
  });
});
