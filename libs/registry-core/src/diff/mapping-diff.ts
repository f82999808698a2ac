// Diffs of mappings (for the audit: what exactly changed) and of mapping sets (for apply/diff:
// what a file would change on the server). Versions and change metadata are never content.
import { mappingContent } from '../mapping/validate-mapping';
import type { Mapping } from '../types';

export interface FieldChange {
  /** e.g. "keys[0].template", "tags", "(mapping)" for a whole create/delete. */
  path: string;
  before?: unknown;
  after?: unknown;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function walk(path: string, a: unknown, b: unknown, out: FieldChange[], whole: string): void {
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) walk(`${path}[${i}]`, a[i], b[i], out, whole);
    return;
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) walk(path ? `${path}.${key}` : key, a[key], b[key], out, whole);
    return;
  }
  if (JSON.stringify(a) === JSON.stringify(b)) return;
  const change: FieldChange = { path: path || whole };
  if (a !== undefined) change.before = a;
  if (b !== undefined) change.after = b;
  out.push(change);
}

/** Field-level changes from `before` to `after`; a create or delete is one "(mapping)" change. */
export function diffMappings(before: Mapping | undefined, after: Mapping | undefined): FieldChange[] {
  return diffContent(before && mappingContent(before), after && mappingContent(after), '(mapping)');
}

/** Field-level changes between two records' contents; a create or delete is one `whole` change (e.g. "(source)"). */
export function diffContent(before: unknown, after: unknown, whole: string): FieldChange[] {
  const out: FieldChange[] = [];
  walk('', before, after, out, whole);
  return out;
}

export interface ChangedMapping {
  id: string;
  before: Mapping;
  after: Mapping;
  changes: FieldChange[];
}

export interface MappingSetDiff {
  added: Mapping[];
  removed: Mapping[];
  changed: ChangedMapping[];
  unchanged: string[];
}

export interface SetDiffOptions {
  /**
   * Which current mappings missing from `desired` count as removed: "all" (replace the whole
   * set), "none" (only add/update), or a set of owner teams (GitOps per team: a team's file
   * prunes that team's mappings and never touches anyone else's). Default "all".
   */
  prune?: 'all' | 'none' | ReadonlySet<string>;
}

export function diffMappingSets(current: Iterable<Mapping>, desired: Iterable<Mapping>, options: SetDiffOptions = {}): MappingSetDiff {
  const prune = options.prune ?? 'all';
  const now = new Map([...current].map((m) => [m.id, m]));
  const wanted = new Map([...desired].map((m) => [m.id, m]));
  const diff: MappingSetDiff = { added: [], removed: [], changed: [], unchanged: [] };
  for (const [id, after] of [...wanted].sort(([a], [b]) => a.localeCompare(b))) {
    const before = now.get(id);
    if (!before) {
      diff.added.push(after);
      continue;
    }
    const changes = diffMappings(before, after);
    if (changes.length === 0) diff.unchanged.push(id);
    else diff.changed.push({ id, before, after, changes });
  }
  for (const [id, before] of [...now].sort(([a], [b]) => a.localeCompare(b))) {
    if (wanted.has(id)) continue;
    const pruned = prune === 'all' || (prune !== 'none' && prune.has(before.owner));
    if (pruned) diff.removed.push(before);
  }
  return diff;
}

export function isEmptyDiff(diff: MappingSetDiff): boolean {
  return diff.added.length === 0 && diff.removed.length === 0 && diff.changed.length === 0;
}

/** Human-readable lines: "+ id", "- id", "~ id  path: before -> after". */
export function formatMappingSetDiff(diff: MappingSetDiff): string {
  const show = (value: unknown) => (value === undefined ? '(none)' : JSON.stringify(value));
  const lines: string[] = [];
  for (const m of diff.added)
    lines.push(
      `+ ${m.id} (entityType ${m.entityType}${m.tenant ? `, tenant ${m.tenant}` : ''}, owner ${m.owner}, ${m.keys.length} keys, ${m.tags.length} tags)`,
    );
  for (const c of diff.changed) {
    lines.push(`~ ${c.id}`);
    for (const f of c.changes) lines.push(`    ${f.path}: ${show(f.before)} -> ${show(f.after)}`);
  }
  for (const m of diff.removed) lines.push(`- ${m.id} (owner ${m.owner})`);
  if (lines.length === 0) lines.push(`no changes (${diff.unchanged.length} mappings unchanged)`);
  return lines.join('\n');
}
