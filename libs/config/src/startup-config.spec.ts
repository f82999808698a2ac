import 'reflect-metadata';
import { IsInt, Max, Min } from 'class-validator';
import { readConfig } from './read-config';
import { EX_CONFIG, loadConfigOrExit } from './startup-config';

class PortConfig {
  static readonly RENAMED = { OLD_PORT: 'HTTP_PORT' };

  @IsInt()
  @Min(0)
  @Max(65_535)
  HTTP_PORT = 3000;
}

class Exited extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

function run(input: Record<string, unknown>) {
  const lines: string[] = [];
  const io = {
    err: (text: string) => lines.push(text),
    exit: (code: number): never => {
      throw new Exited(code);
    },
  };
  try {
    return { config: loadConfigOrExit('my-app', () => readConfig(PortConfig, input), io), lines, code: undefined };
  } catch (error) {
    if (error instanceof Exited) return { config: undefined, lines, code: error.code };
    throw error;
  }
}

describe('loadConfigOrExit', () => {
  it('returns the config and prints nothing when only new names are used', () => {
    expect(run({ HTTP_PORT: '4000' })).toEqual({ config: { HTTP_PORT: 4000 }, lines: [], code: undefined });
  });

  it('prints one warning line per old name used, prefixed with the app', () => {
    const { config, lines } = run({ OLD_PORT: '4000' });
    expect(config?.HTTP_PORT).toBe(4000);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^my-app: warning: OLD_PORT is deprecated.*HTTP_PORT/);
  });

  it('prints the problems and exits 78 on a ConfigError', () => {
    const { lines, code } = run({ OLD_PORT: '4000', HTTP_PORT: '4001' });
    expect(code).toBe(EX_CONFIG);
    expect(EX_CONFIG).toBe(78);
    expect(lines.join('\n')).toMatch(/^my-app: invalid configuration:[\s\S]*OLD_PORT and HTTP_PORT are both set/);
  });

  it('rethrows any other error', () => {
    const io = { err: () => undefined, exit: (): never => process.exit(1) };
    expect(() =>
      loadConfigOrExit(
        'my-app',
        () => {
          throw new TypeError('boom');
        },
        io,
      ),
    ).toThrow('boom');
  });
});
