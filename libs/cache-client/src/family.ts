// Key families: the label hit rates are reported under. A family is the key's leading ':'
// segments up to the first variable one (a segment with a digit or a '{'), at most two
// segments: product:42 -> product, catalog:page:3 -> catalog:page, {tenant-1}cart:7 -> {}.
// Callers may name it (getOrLoad option `family`). At most maxFamilies distinct names per
// client; later ones are reported as `other`, so label cardinality stays bounded.

const VARIABLE = /[0-9{}]/;

export function keyFamily(key: string): string {
  if (key.startsWith('{')) return '{}';
  const parts = key.split(':', 3);
  const kept: string[] = [];
  for (const part of parts.slice(0, 2)) {
    if (part === '' || VARIABLE.test(part)) break;
    kept.push(part);
    if (kept.length === parts.length - 1 && parts.length < 3) break; // the last segment is the id
  }
  if (kept.length === 0) {
    const head = /^[^0-9{}:]+/.exec(key)?.[0];
    return head ? head.slice(0, 40) : 'other';
  }
  return kept.join(':').slice(0, 80);
}

export class FamilyNames {
  private readonly known = new Set<string>();

  constructor(private readonly maxFamilies: number) {}

  label(family: string): string {
    if (this.known.has(family)) return family;
    if (this.known.size >= this.maxFamilies) return 'other';
    this.known.add(family);
    return family;
  }
}
