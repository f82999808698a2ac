// `npm run mappings -- <command>`: GitOps for mappings. runCli() returns the exit code instead of
// exiting, so tests run it in-process; cli.ts is the thin process entry.
import { existsSync, readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { EntityUpdated, validateEntityUpdated } from '@app/contracts';
import {
  dumpMappingsYaml,
  Explanation,
  formatMappingSetDiff,
  isEmptyDiff,
  isRegistryError,
  loadTeamFile,
  MappingSetResolver,
  parseHostAllowList,
  registryLimits,
  SourceChange,
  sourceContent,
} from '@app/registry-core';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import type { CliIo } from '@app/config/cli-process';
import { CliError, EXIT, ExitCode } from './exit-codes';
import { formatExplanation } from './format-explanation';
import { KeyspacesApplyRequest, KeyspacesListing, RegistryClient } from './registry-client';

const DEFAULT_URL = 'http://127.0.0.1:3002';

function requireFile(path: string): string {
  if (!existsSync(path)) throw new CliError(EXIT.USAGE, `file not found: ${path}`);
  return path;
}

function client(io: CliIo): RegistryClient {
  const token = io.env.REGISTRY_TOKEN;
  if (!token) throw new CliError(EXIT.USAGE, 'REGISTRY_TOKEN is not set (a bearer token of your team, see the registry README)');
  return new RegistryClient(io.env.REGISTRY_URL || DEFAULT_URL, token);
}

/** A team's file: its mappings, and its source declarations when it has a `sources:` section. */
function loadFile(path: string, fanoutCap?: number) {
  try {
    return loadTeamFile(requireFile(path), registryLimits({ fanoutCap }));
  } catch (error) {
    if (isRegistryError(error))
      throw new CliError(EXIT.ERROR, `${path}: ${error.code}${error.field ? ` at ${error.field}` : ''}: ${error.message}`);
    throw error;
  }
}

function readEvent(path: string): EntityUpdated {
  let event: unknown;
  try {
    event = JSON.parse(readFileSync(requireFile(path), 'utf8'));
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(EXIT.ERROR, `${path}: not JSON (${(error as Error).message})`);
  }
  const violations = validateEntityUpdated(event);
  if (violations.length > 0)
    throw new CliError(
      EXIT.ERROR,
      `${path}: not a valid entity.updated v1 event: ${violations.map((v) => `${v.field}: ${v.message}`).join('; ')}`,
    );
  return event as EntityUpdated;
}

/**
 * A keyspaces file: `keyspaces: { prefixes: { "product:": catalog }, entityTypes: { product: { team: catalog, grants: [search] } } }`
 * (an entity type may also be just its team: `product: catalog`). The server checks every name.
 */
export function readKeyspacesFile(path: string): Omit<KeyspacesApplyRequest, 'dryRun'> {
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(requireFile(path), 'utf8'));
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(EXIT.ERROR, `${path}: not YAML (${(error as Error).message})`);
  }
  const root = (doc as { keyspaces?: unknown } | null)?.keyspaces as
    { prefixes?: unknown; entityTypes?: unknown; teams?: unknown; topics?: unknown } | undefined;
  const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (
    !isMap(root) ||
    (root.prefixes !== undefined && !isMap(root.prefixes)) ||
    (root.entityTypes !== undefined && !isMap(root.entityTypes)) ||
    (root.teams !== undefined && !isMap(root.teams)) ||
    (root.topics !== undefined && !isMap(root.topics))
  ) {
    throw new CliError(
      EXIT.ERROR,
      `${path}: expected "keyspaces: { prefixes: { <prefix>: <team> }, entityTypes: { <type>: <team> | { team, grants } }, teams: { <team>: { loaderHosts, purgeHosts, surrogateKeyPrefixes } }, topics: { <change topic>: <team> } }"`,
    );
  }
  const list = (v: unknown) => (Array.isArray(v) ? v.map(String) : undefined);
  const teams = Object.entries((root.teams as Record<string, unknown>) ?? {}).map(([team, v]) => {
    const t = isMap(v) ? v : {};
    const entry: NonNullable<KeyspacesApplyRequest['teams']>[number] = { team };
    for (const field of ['loaderHosts', 'purgeHosts', 'surrogateKeyPrefixes'] as const) if (list(t[field])) entry[field] = list(t[field]);
    return entry;
  });
  const prefixes = Object.entries((root.prefixes as Record<string, unknown>) ?? {}).map(([prefix, team]) => ({
    prefix,
    team: String(team),
  }));
  const entityTypes = Object.entries((root.entityTypes as Record<string, unknown>) ?? {}).map(([entityType, v]) =>
    isMap(v)
      ? { entityType, team: String(v.team), ...(Array.isArray(v.grants) ? { grants: v.grants.map(String) } : {}) }
      : { entityType, team: String(v) },
  );
  const topics = Object.entries((root.topics as Record<string, unknown>) ?? {}).map(([topic, team]) => ({ topic, team: String(team) }));
  return { prefixes, entityTypes, ...(teams.length > 0 ? { teams } : {}), ...(topics.length > 0 ? { topics } : {}) };
}

/** "+ source <topic> (...)", "~ source <topic>" with its field changes, "- source <topic>". */
export function formatSourceChanges(changes: SourceChange[], unchanged: number): string {
  const show = (value: unknown) => (value === undefined ? '(none)' : JSON.stringify(value));
  const lines: string[] = [];
  for (const c of changes) {
    if (c.kind === 'create' && c.after) {
      const versioned = c.after.versionColumn === undefined ? 'WAL position (LSN)' : `column ${c.after.versionColumn}`;
      lines.push(`+ source ${c.topic} (entityType ${c.after.entityType}, owner ${c.after.owner}, version ${versioned})`);
    } else if (c.kind === 'delete') lines.push(`- source ${c.topic} (owner ${c.before?.owner})`);
    else {
      lines.push(`~ source ${c.topic}`);
      for (const f of c.changes) lines.push(`    ${f.path}: ${show(f.before)} -> ${show(f.after)}`);
    }
  }
  if (lines.length === 0) lines.push(`no source changes (${unchanged} sources unchanged)`);
  return lines.join('\n');
}

export function formatKeyspaces(k: KeyspacesListing): string {
  const lines = [
    `enforced: ${k.enforced ? 'yes' : k.required ? 'no (none declared yet; KEYSPACES_REQUIRED: team tokens may not write mappings until an admin declares keyspaces)' : 'no (no key prefix or entity type declared: any team may write any key)'}`,
  ];
  for (const p of k.prefixes) lines.push(`  prefix       ${JSON.stringify(p.prefix)}  ${p.team}`);
  for (const t of k.entityTypes)
    lines.push(`  entity type  ${t.entityType}  ${t.team}${t.grants.length > 0 ? ` (granted to ${t.grants.join(', ')})` : ''}`);
  const shown = (v: string[]) => (v.length > 0 ? v.join(', ') : '(none)');
  for (const t of k.topics ?? []) lines.push(`  topic        ${t.topic}  ${t.team}`);
  for (const t of k.teams ?? []) {
    lines.push(
      `  team         ${t.team}  loader hosts ${shown(t.loaderHosts)}; purge hosts ${shown(t.purgeHosts)}; surrogate-key prefixes ${shown(t.surrogateKeyPrefixes.map((p) => JSON.stringify(p)))}`,
    );
  }
  return lines.join('\n');
}

function positiveInteger(value: string): number {
  if (!/^[1-9]\d*$/.test(value)) throw new InvalidArgumentError('must be a positive integer');
  return Number(value);
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function program(io: CliIo, setExit: (code: ExitCode) => void): Command {
  const cli = new Command('mappings')
    .description('Manage cache mappings in the registry (env: REGISTRY_URL, default http://127.0.0.1:3002; REGISTRY_TOKEN)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.replace(/\n$/, '')), writeErr: (s) => io.err(s.replace(/\n$/, '')) })
    .showHelpAfterError();

  cli
    .command('list')
    .description('list the stored mappings')
    .option('--entity-type <type>', 'only this entity type')
    .option('--owner <team>', 'only this owner')
    .option('--json', 'print JSON instead of YAML')
    .action(async (options: { entityType?: string; owner?: string; json?: boolean }) => {
      const mappings = await client(io).list({ entityType: options.entityType, owner: options.owner });
      io.out(options.json ? JSON.stringify(mappings, null, 2) : dumpMappingsYaml(mappings, { includeVersion: true }).trimEnd());
    });

  const applyLike = (name: 'apply' | 'diff', description: string) =>
    cli
      .command(`${name} <file>`)
      .description(description)
      .option('--no-prune', 'do not delete stored mappings missing from the file')
      .option('--prune-owner <team>', 'owner whose missing mappings are deleted (repeatable; default: the owners in the file)', collect)
      .action(async (file: string, options: { prune: boolean; pruneOwner?: string[] }) => {
        const { mappings, sources } = loadFile(file);
        const dryRun = name === 'diff';
        const registry = client(io);
        const result = await registry.apply({ mappings, prune: options.prune, pruneOwners: options.pruneOwner, dryRun });
        io.out(formatMappingSetDiff(result.diff));
        let changed = !isEmptyDiff(result.diff);
        // Only a file with a `sources:` section manages its team's declarations (one without leaves them alone).
        if (sources !== undefined) {
          // The owners the file names (its mappings' too): a team whose file lost its last declaration
          // names no owner in `sources:`, and the registry would then prune nobody.
          const owners = options.pruneOwner ?? [...new Set([...mappings, ...sources].map((r) => r.owner))];
          const applied = await registry.applySources({ sources, prune: options.prune, pruneOwners: owners, dryRun });
          io.out(formatSourceChanges(applied.changes, applied.unchanged.length));
          changed ||= applied.changes.length > 0;
        }
        if (dryRun && changed) setExit(EXIT.DIFF_FOUND);
        if (!dryRun) io.out(changed ? 'applied' : 'nothing to apply');
      });
  applyLike(
    'apply',
    'make the registry match a team YAML file (mappings, and sources when the file has a `sources:` section) for the owners it names; one transaction per kind',
  );
  applyLike('diff', 'show what `apply` would change; exit 3 when there is a difference');

  cli
    .command('explain <event>')
    .description('show exactly which keys (per action) and tags a sample entity.updated event (JSON file) would touch')
    .option('--file <mappings.yaml>', 'explain offline against this mapping file instead of the registry')
    .option('--fanout-cap <n>', 'fan-out cap for --file (default 64)', positiveInteger)
    .option('--json', 'print the explanation as JSON')
    .action(async (eventFile: string, options: { file?: string; fanoutCap?: number; json?: boolean }) => {
      const event = readEvent(eventFile);
      let explanation: Explanation;
      if (options.file) {
        const limits = registryLimits({ fanoutCap: options.fanoutCap });
        // The invalidator's allow-lists from the environment, as it would judge loader and purge URLs.
        let allowedHosts;
        try {
          allowedHosts = {
            loader: parseHostAllowList(io.env.LOADER_ALLOWED_HOSTS, 'LOADER_ALLOWED_HOSTS'),
            purge: parseHostAllowList(io.env.PURGE_ALLOWED_HOSTS, 'PURGE_ALLOWED_HOSTS'),
          };
        } catch (error) {
          throw new CliError(EXIT.USAGE, (error as Error).message);
        }
        explanation = MappingSetResolver.compile(loadFile(options.file, options.fanoutCap).mappings, { limits, allowedHosts }).explain(
          event,
        );
      } else {
        explanation = await client(io).explain(event);
      }
      io.out(options.json ? JSON.stringify(explanation, null, 2) : formatExplanation(explanation));
      // Something would be dead-lettered: the whole event, or some mappings' parts.
      if (explanation.outcome === 'rejected' || explanation.outcome === 'partial') setExit(EXIT.ERROR);
    });

  cli
    .command('sources')
    .description('list the stored CDC source declarations (which change topic is which entity type)')
    .option('--owner <team>', 'only this owner')
    .option('--entity-type <type>', 'only this entity type')
    .option('--json', 'print JSON instead of YAML')
    .action(async (options: { owner?: string; entityType?: string; json?: boolean }) => {
      const sources = await client(io).sources({ owner: options.owner, entityType: options.entityType });
      io.out(
        options.json
          ? JSON.stringify(sources, null, 2)
          : stringifyYaml({ sources: sources.map((s) => ({ ...sourceContent(s), version: s.version })) }, { lineWidth: 0 }).trimEnd(),
      );
    });

  cli
    .command('keyspaces')
    .description(
      "show which team owns which key prefixes, entity types and change topics, and each team's loader hosts, purge hosts and surrogate-key prefixes",
    )
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const listing = await client(io).keyspaces();
      io.out(options.json ? JSON.stringify(listing, null, 2) : formatKeyspaces(listing));
    });

  cli
    .command('keyspaces-apply <file>')
    .description(
      'admin token: declare the key prefixes, entity types, change topics and team hosts of a keyspaces YAML file in one transaction (never removes)',
    )
    .option('--dry-run', 'only check and list the changes')
    .action(async (file: string, options: { dryRun?: boolean }) => {
      const result = await client(io).applyKeyspaces({ ...readKeyspacesFile(file), dryRun: options.dryRun === true });
      for (const c of result.changes) io.out(`${c.kind === 'create' ? '+' : c.kind === 'delete' ? '-' : '~'} ${c.key}`);
      io.out(result.changes.length === 0 ? 'nothing to apply' : result.dryRun ? 'dry run: nothing written' : 'applied');
    });

  return cli;
}

/** Runs one CLI invocation (argv without node and script) and returns its exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<ExitCode> {
  let exit: ExitCode = EXIT.OK;
  const cli = program(io, (code) => (exit = code));
  try {
    if (argv.length === 0) {
      cli.outputHelp({ error: true });
      return EXIT.USAGE;
    }
    await cli.parseAsync(argv, { from: 'user' });
    return exit;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help / --version end with exitCode 0; everything else commander refuses is usage.
      return error.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    if (error instanceof CliError) {
      io.err(`mappings: ${error.message}`);
      return error.exitCode;
    }
    io.err(`mappings: unexpected error: ${(error as Error).stack ?? String(error)}`);
    return EXIT.ERROR;
  }
}
