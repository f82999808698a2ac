// Reads a config class whose property names are the env variable names: strings from the
// environment are coerced by the type of the property's default, then class-validator checks
// everything, and every problem names its variable.
import 'reflect-metadata';
import { validateSync } from 'class-validator';

export class ConfigError extends Error {
  readonly code = 'INVALID_CONFIG';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

function coerce(raw: unknown, sample: unknown): unknown {
  if (typeof raw !== 'string') return raw;
  if (typeof sample === 'boolean') return raw === 'true' ? true : raw === 'false' ? false : raw;
  if (typeof sample === 'number') return /^-?\d+$/.test(raw.trim()) ? Number(raw) : raw;
  return raw;
}

/** `input` holds env strings or typed values; unknown keys are ignored, empty strings mean "unset". */
export function readConfig<T extends object>(
  ConfigClass: new () => T,
  input: Record<string, unknown>,
  extraChecks: (config: T) => string[] = () => [],
): T {
  const config = new ConfigClass();
  const fields = config as unknown as Record<string, unknown>;
  const known = new Set([...Object.keys(fields), ...keysWithoutDefault(ConfigClass)]);
  for (const key of known) {
    const raw = input[key];
    if (raw !== undefined && raw !== '') fields[key] = coerce(raw, fields[key]);
  }
  const problems = validateSync(config).flatMap((e) =>
    Object.values(e.constraints ?? {}).map(
      (m) => (m.startsWith(e.property) ? m : `${e.property}: ${m}`) + ` (got ${shown(e.property, input[e.property])})`,
    ),
  );
  problems.push(...extraChecks(config));
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** Values of variables that hold credentials never reach a log or an error message. */
const SECRET = /PASSWORD|TOKEN|SECRET|KEY$/;

function shown(property: string, value: unknown): string {
  return SECRET.test(property) ? '(hidden)' : JSON.stringify(value ?? null);
}

/** Properties without a default may not exist on a fresh instance (depends on useDefineForClassFields); the class lists them. */
function keysWithoutDefault(ConfigClass: new () => unknown): string[] {
  return (ConfigClass as unknown as { KEYS_WITHOUT_DEFAULT?: string[] }).KEYS_WITHOUT_DEFAULT ?? [];
}
