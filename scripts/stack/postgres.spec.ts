import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensurePostgresInstalled, findPostgresBin, socketDirectoriesValue } from './postgres';
import { StackError } from './processes';

describe('finding the PostgreSQL binaries', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'pgbin-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const fakeBin = (path: string, tools = ['initdb', 'pg_ctl', 'postgres']) => {
    mkdirSync(path, { recursive: true });
    for (const tool of tools) writeFileSync(join(path, tool), '');
  };

  it('fails with a message naming the missing tools and the package to install', () => {
    const search = { path: join(dir, 'nothing'), extraDirs: [], versionsRoot: join(dir, 'none') };
    expect(findPostgresBin(search)).toBeUndefined();
    expect(() => ensurePostgresInstalled(search)).toThrow(StackError);
    expect(() => ensurePostgresInstalled(search)).toThrow(/initdb\/pg_ctl not found.*apt-get install -y postgresql/);
  });

  it('takes the newest /usr/lib/postgresql/N/bin, and follows an initdb symlink to the folder with pg_ctl', () => {
    fakeBin(join(dir, 'lib', '9', 'bin'));
    fakeBin(join(dir, 'lib', '15', 'bin'));
    fakeBin(join(dir, 'lib', '16', 'bin'), ['initdb']); // no pg_ctl: not usable
    expect(findPostgresBin({ path: '', extraDirs: [], versionsRoot: join(dir, 'lib') })).toBe(join(dir, 'lib', '15', 'bin'));
    mkdirSync(join(dir, 'local'));
    symlinkSync(join(dir, 'lib', '9', 'bin', 'initdb'), join(dir, 'local', 'initdb'));
    expect(findPostgresBin({ path: '', extraDirs: [join(dir, 'local')], versionsRoot: join(dir, 'lib') })).toBe(
      join(dir, 'lib', '9', 'bin'),
    );
  });
});

describe('the socket folder in postgresql.conf', () => {
  it('is one double-quoted list item in a single-quoted string, whatever the path holds', () => {
    expect(socketDirectoriesValue('/tmp/a b/socket')).toBe(`'"/tmp/a b/socket"'`);
    expect(socketDirectoriesValue('/tmp/a,b/socket')).toBe(`'"/tmp/a,b/socket"'`);
    expect(socketDirectoriesValue(`/tmp/it's "x"\\y`)).toBe(`'"/tmp/it''s ""x""\\\\y"'`);
  });

  it('refuses a path with a line break, naming STACK_DIR', () => {
    expect(() => socketDirectoriesValue('/tmp/a\nport = 5432')).toThrow(/line break.*STACK_DIR/);
  });
});
