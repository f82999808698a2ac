// explain output for people: one line per key (action, key, details, [template]), per tag, per
// skipped template, per failed mapping.
import type { Explanation } from '@app/registry-core';

export function formatExplanation(x: Explanation): string {
  const e = x.event;
  const lines = [
    `event ${e.entityType}:${e.entityId} v${e.version}${e.tenant ? ` (tenant ${e.tenant})` : ''} -> ${x.outcome}` +
      (x.mappings.length > 0 ? ` (mappings: ${x.mappings.map((m) => (m.version > 0 ? `${m.id} v${m.version}` : m.id)).join(', ')})` : ''),
  ];
  const rows: [string, string, string, string][] = [];
  for (const k of x.keys.warm) {
    const from = k.warmFrom === 'loader' ? `from ${k.loaderUrl}` : `from after (${k.valueBytes} bytes)`;
    rows.push(['warm', k.key, `${from}${k.ttlSeconds ? `, ttl ${k.ttlSeconds}s` : ''}`, k.template]);
  }
  for (const k of x.keys.tombstone)
    rows.push(['tombstone', k.key, `guard ${k.tombstoneTtlSeconds}s${k.note ? `; ${k.note}` : ''}`, k.template]);
  for (const k of x.keys.delete) rows.push(['delete', k.key, `guard ${k.tombstoneTtlSeconds}s`, k.template]);
  for (const t of x.tags) rows.push(['tag', t.tag, '', t.template]);
  for (const n of x.namespaces ?? []) rows.push(['namespace', n.namespace, 'generation bumped', n.template]);
  if (x.purge) {
    for (const tag of x.purge.tags) rows.push(['purge', tag, 'surrogate key', '(tags)']);
    for (const u of x.purge.urls) rows.push(['purge', u.url, 'URL', u.template]);
  }
  for (const s of x.skipped) rows.push(['skipped', '-', `${s.missingField} is absent`, s.template]);
  const width = (i: number) => Math.max(0, ...rows.map((r) => r[i].length));
  const widths = [width(0), width(1), width(2)];
  // With keyspaces declared: which team owns each key's / tag's prefix.
  const owners = new Map<string, string>();
  if (x.keyspacesEnforced) {
    for (const k of [...x.keys.warm, ...x.keys.tombstone, ...x.keys.delete]) owners.set(k.key, k.keyspaceOwner ?? '(no owner)');
    for (const t of x.tags) owners.set(t.tag, t.keyspaceOwner ?? '(no owner)');
    for (const n of x.namespaces ?? []) owners.set(n.namespace, n.keyspaceOwner ?? '(no owner)');
  }
  for (const r of rows) {
    const owner = r[1] !== '-' && owners.has(r[1]) ? `  owner ${owners.get(r[1])}` : '';
    lines.push(
      `  ${r[0].padEnd(widths[0])}  ${r[1].padEnd(widths[1])}  ${widths[2] > 0 ? `${r[2].padEnd(widths[2])}  ` : ''}[${r[3]}]${owner}`,
    );
  }
  // Mappings whose part is dead-lettered (the others' parts applied), naming the mapping and its team.
  for (const f of x.failed ?? [])
    lines.push(`  FAILED ${f.mappingId} (team ${f.owner}) ${f.code}${f.field ? ` at ${f.field}` : ''}: ${f.message}`);
  if (x.error) lines.push(`  REJECTED ${x.error.code}: ${x.error.message}`);
  lines.push(`  fan-out ${x.fanout} of ${x.fanoutCap}`);
  return lines.join('\n');
}
