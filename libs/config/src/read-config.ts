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

/** Whether an environment value counts as set: empty strings mean "unset" (the default applies). */
export const isSet = (value: unknown): boolean => value !== undefined && value !== '';

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
  const renames = renamed(ConfigClass);
  const { values, from, problems: renameProblems, warnings } = applyRenames(renames, input, fields);
  const problems = renameProblems.concat(wrongCase(input, known, renames));
  for (const key of known) {
    const raw = values[key];
    if (typeof raw === 'string' && raw !== '' && raw.trim() === '') {
      const origin = from.get(key);
      problems.push(`${key} is only whitespace: leave it empty or unset for the default${origin ? ` (from ${origin})` : ''}`);
      continue;
    }
    if (isSet(raw)) fields[key] = coerce(raw, fields[key]);
  }
  const invalid = new Set<string>();
  const got = (property: string): string => {
    const origin = from.get(property);
    return `got ${shown(property, values[property], origin)}${origin ? ` from ${origin}` : ''}`;
  };
  for (const e of validateSync(config)) {
    invalid.add(e.property);
    for (const m of Object.values(e.constraints ?? {}))
      problems.push((m.startsWith(e.property) ? m : `${e.property}: ${m}`) + ` (${got(e.property)})`);
  }
  for (const key of known) {
    const value = fields[key];
    // setTimeout/setInterval fire after 1 ms when asked to wait longer than this: a huge
    // SHUTDOWN_TIMEOUT_MS would force-exit at once, a huge interval would spin.
    if (key.endsWith('_MS') && typeof value === 'number' && value > MAX_TIMER_MS && !invalid.has(key))
      problems.push(`${key} must not be greater than ${MAX_TIMER_MS} ms (about 24 days) (${got(key)})`);
  }
  problems.push(...extraChecks(config));
  if (problems.length > 0) throw new ConfigError(problems);
  WARNINGS.set(config, warnings);
  return config;
}

/** The longest delay Node's timers honour (2^31 - 1 ms). */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * Input names that differ from a variable (or an old name) only by case: the environment is
 * case-sensitive, so `http_port=4000` would leave HTTP_PORT at its default without a word. Not a
 * problem when the exact name holds the same value (a case-insensitive environment).
 */
function wrongCase(input: Record<string, unknown>, known: Set<string>, renames: RenamedVariables): string[] {
  const byUpper = new Map<string, string>();
  for (const name of known) byUpper.set(name.toUpperCase(), name);
  for (const [oldName, newName] of Object.entries(renames)) byUpper.set(oldName.toUpperCase(), newName);
  const problems: string[] = [];
  for (const key of Object.keys(input)) {
    if (known.has(key) || key in renames || !isSet(input[key])) continue;
    const upper = key.toUpperCase();
    const meant = byUpper.get(upper);
    if (meant === undefined) continue;
    const exact = known.has(upper) || upper in renames ? upper : meant;
    if (input[exact] === input[key]) continue;
    problems.push(`${key} is not read (variable names are case-sensitive): set ${meant}`);
  }
  return problems;
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
        `${oldName} and ${newName} are both set, to different values (${shown(newName, oldValue, oldName)} and ${shown(newName, newValue, oldName)}): ` +
          `${oldName} is the deprecated name of ${newName}; set only ${newName}`,
      );
    }
  }
  return { values, from, problems, warnings };
}

/** Values of variables that hold credentials never reach a log or an error message. */
const SECRET = /PASSWORD|TOKEN|SECRET|KEY$/;

/** The password (or a lone token) in a URL's userinfo: `scheme://user:password@host`, `scheme://token@host`. */
const URL_USERINFO = /\/\/([^/@\s:]*)(:[^/@\s]*)?@/g;

/** `alias`: the variable's other name (an old name, or the new one): secret if either name is. */
function shown(property: string, value: unknown, alias?: string): string {
  if (SECRET.test(property) || (alias !== undefined && SECRET.test(alias))) return '(hidden)';
  const text = JSON.stringify(value ?? null);
  return text.replace(URL_USERINFO, (_match, user: string, password?: string) => (password ? `//${user}:***@` : '//***@'));
}

/** Properties without a default may not exist on a fresh instance (depends on useDefineForClassFields); the class lists them. */
function keysWithoutDefault(ConfigClass: new () => unknown): string[] {
  return (ConfigClass as unknown as { KEYS_WITHOUT_DEFAULT?: string[] }).KEYS_WITHOUT_DEFAULT ?? [];
}

function renamed(ConfigClass: new () => unknown): RenamedVariables {
  return (ConfigClass as unknown as { RENAMED?: RenamedVariables }).RENAMED ?? {};
}
