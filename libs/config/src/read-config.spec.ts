import 'reflect-metadata';
import { IsBoolean, IsInt, IsNotEmpty, IsOptional, IsString, Max, Min } from 'class-validator';
import { ConfigError, configWarnings, readConfig } from './read-config';

class SampleConfig {
  static readonly KEYS_WITHOUT_DEFAULT = ['API_TOKEN'];
  static readonly RENAMED = { OLD_PORT: 'HTTP_PORT', OLD_HOST: 'HTTP_HOST', OLD_TOKEN: 'API_TOKEN' };

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
});

describe('readConfig: booleans', () => {
  it('accepts true and false, and names the variable of anything else', () => {
    expect(readConfig(SampleConfig, { FEATURE_ENABLED: 'false' }).FEATURE_ENABLED).toBe(false);
    expect(readConfig(SampleConfig, { FEATURE_ENABLED: 'true' }).FEATURE_ENABLED).toBe(true);
    expect(readConfig(SampleConfig, { FEATURE_ENABLED: false }).FEATURE_ENABLED).toBe(false);
    expect(problems({ FEATURE_ENABLED: 'maybe' })).toMatch(/FEATURE_ENABLED must be a boolean value \(got "maybe"\)/);
  });
});
