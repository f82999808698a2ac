// createKafka (kafka-client.ts) is the only place in apps/ and libs/ that builds a kafkajs client,
// so every client gets the compression codecs, retry and log bridging from one place.
// scripts/ and test/ may still build their own.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');
const FACTORY = 'libs/kafka-adapter/src/kafka-client.ts';

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name === 'node_modules' || entry.name === 'dist') return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return tsFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

describe('one kafkajs client factory', () => {
  const files = [...tsFiles(join(ROOT, 'apps')), ...tsFiles(join(ROOT, 'libs'))].map((f) => relative(ROOT, f).split('\\').join('/'));

  it('scans the sources', () => {
    expect(files).toContain(FACTORY);
    expect(files.length).toBeGreaterThan(50);
  });

  it('constructs kafkajs clients only in createKafka', () => {
    const constructing = files.filter((f) => /\bnew\s+Kafka\s*\(/.test(readFileSync(join(ROOT, f), 'utf8')));
    expect(constructing).toEqual([FACTORY]);
  });

  it('@app/kafka-adapter imports no other library (nothing can import back: no cycles)', () => {
    const adapter = files.filter((f) => f.startsWith('libs/kafka-adapter/src/'));
    const importsApp = adapter.filter((f) => /from\s+['"]@app\/|require\(['"]@app\//.test(readFileSync(join(ROOT, f), 'utf8')));
    expect(importsApp).toEqual([]);
  });
});
