import 'reflect-metadata';
import { IsBoolean, IsInt, IsNotEmpty, IsOptional, IsString, Max, Min } from 'class-validator';
import { ConfigError, configWarnings, readConfig } from './read-config';

class SampleConfig {
  static readonly KEYS_WITHOUT_DEFAULT = ['API_TOKEN'];
  static readonly RENAMED = { OLD_PORT: 'HTTP_PORT', OLD_HOST: 'HTTP_HOST', OLD_TOKEN: 'API_TOKEN', LEGACY_AUTH: 'API_TOKEN' };

  @IsInt()
  @Min(0)
  @Max(65_535)
  HTTP_PORT = 3000;

  @IsString()
  @IsNotEmpty()
  HTTP_HOST = '127.0.0.1';

  @IsBoolean()
  FEATURE_ENABLED = true;

  @IsOptional()
  @IsString()
  API_TOKEN?: string;

  @IsInt()
  @Min(1)
  WAIT_MS = 1_000;

  @IsString()
  @IsNotEmpty()
  CACHE_URL = 'redis://127.0.0.1:6379';
}

function problems(input: Record<string, unknown>): string {
  try {
    readConfig(SampleConfig, input);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('readConfig: renamed variables (static RENAMED)', () => {
  it('reads the new name without a warning', () => {
    const config = readConfig(SampleConfig, { HTTP_PORT: '4000' });
    expect(config.HTTP_PORT).toBe(4000);
    expect(configWarnings(config)).toEqual([]);
  });

  it('reads the old name alone, with one warning naming the old and the new variable', () => {
    const config = readConfig(SampleConfig, { OLD_PORT: '4000' });
    expect(config.HTTP_PORT).toBe(4000);
    expect(configWarnings(config)).toHaveLength(1);
    expect(configWarnings(config)[0]).toMatch(/OLD_PORT is deprecated.*HTTP_PORT/);
    expect(Object.keys(config)).not.toContain('OLD_PORT');
  });

  it('warns once per old name used', () => {
    const config = readConfig(SampleConfig, { OLD_PORT: '4000', OLD_HOST: '0.0.0.0' });
    expect(config).toMatchObject({ HTTP_PORT: 4000, HTTP_HOST: '0.0.0.0' });
    expect(configWarnings(config)).toHaveLength(2);
    expect(configWarnings(config).join('\n')).toMatch(/OLD_HOST.*HTTP_HOST/);
  });

  it('refuses both names with different values, naming both variables', () => {
    const message = problems({ OLD_PORT: '4000', HTTP_PORT: '4001' });
    expect(message).toMatch(/OLD_PORT and HTTP_PORT are both set, to different values \("4000" and "4001"\)/);
    expect(message).toMatch(/set only HTTP_PORT/);
  });

  it('accepts both names with the same value (after conversion), with a warning to remove the old one', () => {
    const config = readConfig(SampleConfig, { OLD_PORT: '4000', HTTP_PORT: 4000 });
    expect(config.HTTP_PORT).toBe(4000);
    expect(configWarnings(config)).toHaveLength(1);
    expect(configWarnings(config)[0]).toMatch(/OLD_PORT is deprecated.*HTTP_PORT.*remove OLD_PORT/);
  });

  it('treats an empty old or new name as unset', () => {
    expect(readConfig(SampleConfig, { OLD_PORT: '', HTTP_PORT: '4001' }).HTTP_PORT).toBe(4001);
    const config = readConfig(SampleConfig, { OLD_PORT: '4000', HTTP_PORT: '' });
    expect(config.HTTP_PORT).toBe(4000);
    expect(configWarnings(config)).toHaveLength(1);
  });

  it('names the old variable when the value it gave is bad', () => {
    expect(problems({ OLD_PORT: '70000' })).toMatch(/HTTP_PORT must not be greater than 65535 \(got "70000" from OLD_PORT\)/);
  });

  it('never shows the values of secret variables, old name or new', () => {
    const message = problems({ OLD_TOKEN: 'hunter2', API_TOKEN: 'hunter3' });
    expect(message).toMatch(/OLD_TOKEN and API_TOKEN are both set, to different values/);
    expect(message).not.toMatch(/hunter/);
  });

  it('hides a secret under an old name that does not look secret (LEGACY_AUTH → API_TOKEN)', () => {
    const message = problems({ LEGACY_AUTH: 'hunter2', API_TOKEN: 'hunter3' });
    expect(message).toMatch(/LEGACY_AUTH and API_TOKEN are both set, to different values/);
    expect(message).not.toMatch(/hunter/);
  });
});

describe('readConfig: booleans', () => {
  it('accepts true and false, and names the variable of anything else', () => {
    expect(readConfig(SampleConfig, { FEATURE_ENABLED: 'false' }).FEATURE_ENABLED).toBe(false);
    expect(readConfig(SampleConfig, { FEATURE_ENABLED: 'true' }).FEATURE_ENABLED).toBe(true);
    expect(readConfig(SampleConfig, { FEATURE_ENABLED: false }).FEATURE_ENABLED).toBe(false);
    expect(problems({ FEATURE_ENABLED: 'maybe' })).toMatch(/FEATURE_ENABLED must be a boolean value \(got "maybe"\)/);
  });
});

describe('readConfig: hostile spellings an operator may write', () => {
  it('refuses a *_MS value past the largest timer delay (Node fires it after 1 ms instead)', () => {
    expect(readConfig(SampleConfig, { WAIT_MS: '2147483647' }).WAIT_MS).toBe(2_147_483_647);
    expect(problems({ WAIT_MS: '3000000000' })).toMatch(
      /WAIT_MS must not be greater than 2147483647 ms \(about 24 days\) \(got "3000000000"\)/,
    );
    expect(problems({ WAIT_MS: '99999999999999999999' })).toMatch(/WAIT_MS must not be greater than 2147483647/);
  });

  it('refuses a name in the wrong case instead of silently using the default', () => {
    expect(problems({ http_port: '4000' })).toMatch(/http_port is not read \(variable names are case-sensitive\): set HTTP_PORT/);
    expect(problems({ Old_Port: '4000' })).toMatch(/Old_Port is not read \(variable names are case-sensitive\): set HTTP_PORT/);
    // the exact name set as well, to the same value: harmless (e.g. an environment that is case-insensitive)
    expect(readConfig(SampleConfig, { http_port: '4000', HTTP_PORT: '4000' }).HTTP_PORT).toBe(4000);
  });

  it('refuses a value of only whitespace, naming the variable (empty means unset, a blank is a typo)', () => {
    expect(problems({ HTTP_HOST: ' ' })).toMatch(/HTTP_HOST is only whitespace: leave it empty or unset for the default/);
    expect(problems({ OLD_HOST: '\t' })).toMatch(/HTTP_HOST is only whitespace.*\(from OLD_HOST\)/);
  });

  it('never shows the credentials of a URL in a problem', () => {
    const message = problems({ CACHE_URL: '', WAIT_MS: 'x', HTTP_PORT: 'redis://user:hunter2@host:1' });
    expect(message).toContain('HTTP_PORT');
    expect(message).toContain('redis://user:***@host:1');
    expect(message).not.toContain('hunter2');
    const renamed = problems({ OLD_HOST: 'https://:hunter2@a', HTTP_HOST: 'https://:hunter3@b' });
    expect(renamed).toContain('OLD_HOST and HTTP_HOST are both set');
    expect(renamed).not.toMatch(/hunter/);
  });
});
