// The import directions of the repository, checked on the sources:
// apps and examples may import libs, never another app; libs import no app or example;
// tooling (scripts/) never imports from test/; the libraries that must stay free of NestJS,
// HTTP or Kafka stay so.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = join(__dirname, '..');

function tsFiles(dir: string): string[] {
  if (!existsSync(join(ROOT, dir))) return [];
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    if (entry.name === 'node_modules' || entry.name === 'dist') return [];
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return tsFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every module specifier of a file, relative ones resolved to repository paths ("apps/x/src/y"). */
function imports(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const specs = [...text.matchAll(/(?:from\s+|import\(|require\()\s*['"]([^'"]+)['"]/g)].map((m) => m[1]);
  return specs.map((s) =>
    s.startsWith('.')
      ? relative(ROOT, resolve(ROOT, dirname(file), s))
          .split('\\')
          .join('/')
      : s,
  );
}

function offenders(files: string[], bad: (spec: string, file: string) => boolean): string[] {
  return files.flatMap((f) =>
    imports(f)
      .filter((s) => bad(s, f))
      .map((s) => `${f} -> ${s}`),
  );
}

const appOf = (path: string) => /^(apps|examples)\/([^/]+)\//.exec(path)?.slice(1).join('/');

describe('import directions', () => {
  it('scripts/ never imports from test/', () => {
    expect(offenders(tsFiles('scripts'), (s) => s.startsWith('test/'))).toEqual([]);
  });

  it('an app or example imports no other app or example (shared code lives in libs/ or examples/support)', () => {
    const files = [...tsFiles('apps'), ...tsFiles('examples')];
    expect(offenders(files, (s, f) => /^(apps|examples)\//.test(s) && !s.startsWith('examples/support/') && appOf(s) !== appOf(f))).toEqual(
      [],
    );
  });

  it('libs import no app, example, script or test', () => {
    // (a spec may run a script, e.g. the generated-Lua drift check runs scripts/gen-lua)
    expect(
      offenders(
        tsFiles('libs').filter((f) => !f.endsWith('.spec.ts')),
        (s) => /^(apps|examples|scripts|test)\//.test(s),
      ),
    ).toEqual([]);
  });

  it('libs/telemetry: no NestJS, no Kafka; libs/lag and libs/contracts: no NestJS, no HTTP server', () => {
    expect(
      offenders(tsFiles('libs/telemetry'), (s) => s.startsWith('@nestjs/') || s === 'kafkajs' || s === '@app/kafka' || s === '@app/lag'),
    ).toEqual([]);
    expect(offenders(tsFiles('libs/lag'), (s) => s.startsWith('@nestjs/') || s === 'express')).toEqual([]);
    expect(offenders(tsFiles('libs/contracts'), (s) => s.startsWith('@nestjs/') || s === 'express')).toEqual([]);
  });

  it('libs/cache-client pulls no controllers and no Kafka: of our libs only the protocol and telemetry', () => {
    const ours = offenders(
      tsFiles('libs/cache-client'),
      (s) => s.startsWith('@app/') && !/^@app\/(cache-protocol|telemetry)(\/|$)/.test(s),
    );
    expect(ours).toEqual([]);
    expect(offenders(tsFiles('libs/cache-client'), (s) => s === 'kafkajs' || s === '@app/lag' || s === '@app/kafka')).toEqual([]);
  });

  it('libs/observability is gone', () => {
    expect(existsSync(join(ROOT, 'libs/observability'))).toBe(false);
  });
});
