// The project stands on its own: no tracked file may point to a folder outside the repository
// (the notes the project started from live beside it, not in it).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');

describe('the repository is self-contained', () => {
  it('no tracked file refers to ../shared or its notes', () => {
    const files = execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' })
      .split('\n')
      .filter((f) => /\.(ts|js|md|sh|json|ya?ml|lua)$/.test(f) && f !== 'package-lock.json' && !f.startsWith('scripts/self-contained.spec.ts'));
    const offenders = files.filter((f) => {
      let text: string;
      try {
        text = readFileSync(join(ROOT, f), 'utf8');
      } catch {
        return false; // listed but deleted in the work tree
      }
      return /\.\.\/shared\b|\bDESIGN\.md\b|\bSTYLE\.md\b/.test(text);
    });
    expect(offenders).toEqual([]);
  });
});
