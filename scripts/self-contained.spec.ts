// The project stands on its own: no tracked file may point to a place outside the repository,
// neither by a relative path that climbs above its root nor by naming a notes file (an
// upper-case markdown file name) that the repository does not hold.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = join(__dirname, '..');
const RELATIVE_PATH = /(?:\.\.\/)+[\w@.-]+/g;
const NOTES_NAME = /\b[A-Z][A-Z_-]*\.md\b/g;

describe('the repository is self-contained', () => {
  const tracked = execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter(Boolean);
  const texts = tracked
    .filter((f) => /\.(ts|js|md|sh|json|ya?ml|lua)$/.test(f) && f !== 'package-lock.json')
    .flatMap((f) => {
      try {
        return [{ file: f, text: readFileSync(join(ROOT, f), 'utf8') }];
      } catch {
        return []; // listed but deleted in the work tree
      }
    });

  it('no relative path climbs out of the repository', () => {
    const outside = texts.flatMap(({ file, text }) =>
      [...text.matchAll(RELATIVE_PATH)]
        .map((m) => m[0])
        .filter((p) => relative(ROOT, resolve(ROOT, dirname(file), p)).startsWith('..'))
        .map((p) => `${file}: ${p}`),
    );
    expect(outside).toEqual([]);
  });

  it('no code comment cites a tracker issue number (readers of the code do not have the tracker)', () => {
    const code = texts.filter(({ file }) => /\.(ts|js|sh|lua)$/.test(file) && file !== 'scripts/self-contained.spec.ts');
    const citing = code.flatMap(({ file, text }) =>
      text
        .split('\n')
        .map((line, i) => ({ line, i }))
        .filter(({ line }) => /(\/\/|\/\*|^\s*\*|#|--).*\bissue ?#?\d+/i.test(line))
        .map(({ line, i }) => `${file}:${i + 1}: ${line.trim()}`),
    );
    expect(citing).toEqual([]);
  });

  it('every upper-case markdown file a file names is in the repository', () => {
    const present = new Set(tracked.map((f) => f.split('/').pop()));
    const missing = texts.flatMap(({ file, text }) =>
      [...text.matchAll(NOTES_NAME)]
        .map((m) => m[0])
        .filter((n) => !present.has(n))
        .map((n) => `${file}: ${n}`),
    );
    expect(missing).toEqual([]);
  });
});
