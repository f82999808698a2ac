// Reads a config class whose property names are the env variable names: strings from the
// environment are coerced by the type of the property's default, then class-validator checks
// everything, and every problem names its variable. A class may list renamed variables
// (`static readonly RENAMED = { OLD_NAME: 'NEW_NAME' }`): the old name keeps working for one
// release, with a warning; both names set to different values is a problem naming both.
import 'reflect-metadata';
import { validateSync } from 'class-validator';

export class ConfigError extends Error {
  readonly code = 'INVALID_CONFIG';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/** Old variable name → new variable name (a property of the class). */
export type RenamedVariables = Readonly<Record<string, string>>;

function coerce(raw: unknown, sample: unknown): unknown {
  if (typeof raw !== 'string') return raw;
  if (typeof sample === 'boolean') return raw === 'true' ? true : raw === 'false' ? false : raw;
  if (typeof sample === 'number') return /^-?\d+$/.test(raw.trim()) ? Number(raw) : raw;
  return raw;
}

const isSet = (value: unknown): boolean => value !== undefined && value !== '';

/** Deprecation warnings of each config readConfig returned (old variable names it read). */
const WARNINGS = new WeakMap<object, readonly string[]>();

/** The warnings readConfig had for this config (one per old variable name set); print them at start (loadConfigOrExit). */
export function configWarnings(config: object): readonly string[] {
  return WARNINGS.get(config) ?? [];
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
  const { values, from, problems: renameProblems, warnings } = applyRenames(renamed(ConfigClass), input, fields);
  for (const key of known) {
    const raw = values[key];
    if (isSet(raw)) fields[key] = coerce(raw, fields[key]);
  }
  const problems = renameProblems.concat(
    validateSync(config).flatMap((e) =>
      Object.values(e.constraints ?? {}).map((m) => {
        const origin = from.get(e.property);
        const got = `got ${shown(e.property, values[e.property])}${origin ? ` from ${origin}` : ''}`;
        return (m.startsWith(e.property) ? m : `${e.property}: ${m}`) + ` (${got})`;
      }),
    ),
  );
  problems.push(...extraChecks(config));
  if (problems.length > 0) throw new ConfigError(problems);
  WARNINGS.set(config, warnings);
  return config;
}

/**
 * The input with each old name's value moved to its new name. Only the old name set: its value is
 * used, with a warning. Both set to the same value (after coercion): the new one, with a warning
 * to remove the old. Both set to different values: a problem naming both (neither is guessed).
 */
function applyRenames(
  renames: RenamedVariables,
  input: Record<string, unknown>,
  defaults: Record<string, unknown>,
): { values: Record<string, unknown>; from: Map<string, string>; problems: string[]; warnings: string[] } {
  const values = { ...input };
  const from = new Map<string, string>();
  const problems: string[] = [];
  const warnings: string[] = [];
  for (const [oldName, newName] of Object.entries(renames)) {
    const oldValue = input[oldName];
    const newValue = input[newName];
    delete values[oldName];
    if (!isSet(oldValue)) continue;
    if (!isSet(newValue)) {
      values[newName] = oldValue;
      from.set(newName, oldName);
      warnings.push(`${oldName} is deprecated: set ${newName} instead (${oldName} is read as ${newName} until the next release)`);
    } else if (coerce(oldValue, defaults[newName]) === coerce(newValue, defaults[newName])) {
      warnings.push(`${oldName} is deprecated and ignored: ${newName} is set to the same value; remove ${oldName}`);
    } else {
      problems.push(
        `${oldName} and ${newName} are both set, to different values (${shown(oldName, oldValue)} and ${shown(newName, newValue)}): ` +
          `${oldName} is the deprecated name of ${newName}; set only ${newName}`,
      );
    }
  }
  return { values, from, problems, warnings };
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

function renamed(ConfigClass: new () => unknown): RenamedVariables {
  return (ConfigClass as unknown as { RENAMED?: RenamedVariables }).RENAMED ?? {};
}
