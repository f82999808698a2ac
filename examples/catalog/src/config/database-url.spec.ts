import { ConfigError } from '@app/config';
import { loadCatalogConfig } from './catalog.config';
import { redactDatabaseUrl } from './database-url';

function problems(databaseUrl: string): string {
  try {
    loadCatalogConfig({ KAFKA_BROKERS: 'x:1', DATABASE_URL: databaseUrl });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('redactDatabaseUrl', () => {
  it('masks the password of the user info, keeping user, host and database', () => {
    expect(redactDatabaseUrl('postgres://u:secret@h:5432/db')).toBe('postgres://u:***@h:5432/db');
    expect(redactDatabaseUrl('postgres://u@h/db')).toBe('postgres://u@h/db');
    expect(redactDatabaseUrl('postgres://h:5432/db')).toBe('postgres://h:5432/db');
  });

  it('masks a password holding an unencoded @, whitespace or slash entirely', () => {
    for (const url of [
      'postgres://u:p@ssw0rd@h/db',
      'postgres://u:pa ssw0rd@h/db',
      'postgres://u:pa/ssw0rd@h/db',
      'postgres://u:p@ss w0rd@h/db',
    ])
      expect(redactDatabaseUrl(url)).not.toMatch(/ss|w0rd/);
  });

  it('masks a password given as a query parameter (node-postgres reads ?password=)', () => {
    expect(redactDatabaseUrl('postgres://u@h/db?password=s3cr3t&sslmode=require')).toBe('postgres://u@h/db?password=***&sslmode=require');
    expect(redactDatabaseUrl('postgres://h/db?sslmode=require&PASSWORD=s3cr3t')).not.toContain('s3cr3t');
    expect(redactDatabaseUrl('postgres://h/db?sslpassword=s3cr3t')).not.toContain('s3cr3t');
  });
});

describe('catalog config: a refused DATABASE_URL never shows its password', () => {
  it.each([
    ['an unencoded @ in the password', 'postgres://u:p@ssw0rd@h/db'],
    ['whitespace in the password', 'postgres://u:pa ssw0rd@h/db'],
    ['a password in the query of a refused URL', 'mysql://h/db?password=ssw0rd'],
  ])('%s', (_what, url) => {
    const message = problems(url);
    expect(message).toContain('DATABASE_URL must be postgres://');
    expect(message).not.toMatch(/ssw0rd|w0rd/);
  });
});
