// createKafka (kafka-client.ts) is the only place that builds a kafkajs client, in apps/, libs/,
// examples/, scripts/ and test/: every client gets the compression codecs, retry, TLS/SASL and
// log bridging from one place (scripts/stack imports it relatively: `npm run stack` runs
// without tsconfig-paths).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');
const FACTORY = 'libs/kafka/src/kafka-client.ts';
/** Files still allowed to build their own client, each with its reason (none today). */
const ALLOWED: string[] = [];

function tsFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name === 'node_modules' || entry.name === 'dist') return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return tsFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

describe('one kafkajs client factory', () => {
  const files = ['apps', 'libs', 'examples', 'scripts', 'test']
    .flatMap((d) => tsFiles(join(ROOT, d)))
    .map((f) => relative(ROOT, f).split('\\').join('/'));
  const constructing = files.filter((f) => /\bnew\s+Kafka\s*\(/.test(readFileSync(join(ROOT, f), 'utf8')));

  it('scans the sources', () => {
    expect(files).toContain(FACTORY);
    expect(files.filter((f) => f.startsWith('scripts/')).length).toBeGreaterThan(5);
    expect(files.filter((f) => f.startsWith('test/')).length).toBeGreaterThan(20);
    expect(files.length).toBeGreaterThan(100);
  });

  it('constructs kafkajs clients only in createKafka (apps, libs, examples)', () => {
    expect(constructing.filter((f) => /^(apps|libs|examples)\//.test(f))).toEqual([FACTORY]);
  });

  it('scripts/ and test/ use the factory too (except the allow-list, each with its reason)', () => {
    expect(constructing.filter((f) => /^(scripts|test)\//.test(f) && !ALLOWED.includes(f))).toEqual([]);
  });

  it('@app/kafka imports no other library (nothing can import back: no cycles)', () => {
    const adapter = files.filter((f) => f.startsWith('libs/kafka/src/'));
    const importsApp = adapter.filter((f) => /from\s+['"]@app\/|require\(['"]@app\//.test(readFileSync(join(ROOT, f), 'utf8')));
    expect(importsApp).toEqual([]);
  });
});
