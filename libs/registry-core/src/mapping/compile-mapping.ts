// One mapping -> its compiled rules. Every template is parsed here, once; every semantic rule of
// a mapping (templates, warm sources, TTL use, duplicates, its own fan-out) is checked here, and
// all violations are reported together with the field that is wrong.
import { RegistryError, Violation } from '../errors';
import { RegistryLimits } from '../limits';
import { CompiledTemplate, compileTemplate, urlTemplateHostProblem } from '../template/key-template';
import type { Mapping, MappingKeyAction } from '../types';
import { EMPTY_ALLOW_LIST, HostAllowList } from '../url/target-url';

/** The operator's LOADER_ALLOWED_HOSTS and PURGE_ALLOWED_HOSTS (the registry and every invalidator set the same). */
export interface UrlAllowLists {
  loader: HostAllowList;
  purge: HostAllowList;
}

export const NO_URL_ALLOW_LISTS: UrlAllowLists = { loader: EMPTY_ALLOW_LIST, purge: EMPTY_ALLOW_LIST };

/**
 * URL hygiene of a mapping's loader and purge URL templates (code TEMPLATE_UNSAFE_URL, the field
 * named): a literal host that is empty or dots, carries userinfo, or names this machine, an
 * internal network or a metadata service is refused unless the operator allow-lists it.
 */
export function mappingUrlViolations(mapping: Pick<Mapping, 'keys' | 'purge'>, allowed: UrlAllowLists = NO_URL_ALLOW_LISTS): Violation[] {
  const out: Violation[] = [];
  mapping.keys.forEach((rule, i) => {
    if (rule.action !== 'warm' || typeof rule.warmFrom !== 'object' || rule.warmFrom === null) return;
    const problem = urlTemplateHostProblem(rule.warmFrom.loaderUrl, allowed.loader);
    if (problem)
      out.push({
        field: `keys[${i}].warmFrom.loaderUrl`,
        code: 'TEMPLATE_UNSAFE_URL',
        message: `loader URL "${rule.warmFrom.loaderUrl}": ${problem}`,
      });
  });
  (mapping.purge?.urls ?? []).forEach((url, i) => {
    const problem = urlTemplateHostProblem(url, allowed.purge);
    if (problem) out.push({ field: `purge.urls[${i}]`, code: 'TEMPLATE_UNSAFE_URL', message: `purge URL "${url}": ${problem}` });
  });
  return out;
}

/**
 * The most effects one event of this mapping can cost: keys, tags, namespace bumps (one Redis
 * script each) and purge URLs (CDN requests). All count against the fan-out cap, so no mapping
 * (nor many of them: the cap is over all mappings of an event) can make an event do work that
 * is not bounded by it.
 */
export function mappingFanout(mapping: Pick<Mapping, 'keys' | 'tags' | 'namespaces' | 'purge'>): number {
  return mapping.keys.length + mapping.tags.length + (mapping.namespaces ?? []).length + (mapping.purge?.urls ?? []).length;
}

export interface CompiledKeyRule {
  readonly template: CompiledTemplate;
  readonly action: MappingKeyAction;
  readonly tombstoneTtlSeconds: number;
  readonly ttlSeconds?: number;
  /** warm from the event's `after` (serialised once per event). */
  readonly warmFromAfter: boolean;
  /** warm from a loader: the URL template. */
  readonly loaderUrl?: CompiledTemplate;
}

export interface CompiledMapping {
  readonly mapping: Mapping;
  readonly keys: readonly CompiledKeyRule[];
  readonly tags: readonly CompiledTemplate[];
  /** Namespace templates bumped by every event. */
  readonly namespaces: readonly CompiledTemplate[];
  /** Purge: send the rendered tags as surrogate keys. */
  readonly purgeTags: boolean;
  /** Purge: URL templates. */
  readonly purgeUrls: readonly CompiledTemplate[];
}

function attempt<T>(violations: Violation[], field: string, fn: () => T): T | undefined {
  try {
    return fn();
  } catch (error) {
    if (!(error instanceof RegistryError)) throw error;
    violations.push({ field, code: error.code, message: error.message });
    return undefined;
  }
}

/** Throws a RegistryError listing every violation (field paths relative to the mapping). */
export function compileMapping(mapping: Mapping, limits: RegistryLimits): CompiledMapping {
  const violations: Violation[] = [];
  const invalid = (field: string, message: string) => violations.push({ field, code: 'MAPPING_INVALID', message });
  const keys: CompiledKeyRule[] = [];
  const seenTemplates = new Set<string>();

  mapping.keys.forEach((rule, i) => {
    const at = `keys[${i}]`;
    if (seenTemplates.has(rule.template)) invalid(`${at}.template`, `template "${rule.template}" appears twice in this mapping`);
    seenTemplates.add(rule.template);
    const template = attempt(violations, `${at}.template`, () => compileTemplate(rule.template, 'key', limits.template));
    if (rule.action !== 'warm' && rule.warmFrom !== undefined)
      invalid(`${at}.warmFrom`, `warmFrom only applies to action "warm" (this rule is "${rule.action}")`);
    if (rule.action !== 'warm' && rule.ttlSeconds !== undefined) {
      invalid(`${at}.ttlSeconds`, `ttlSeconds is the TTL of a warm value; for "${rule.action}" set tombstoneTtlSeconds`);
    }
    const source = rule.action === 'warm' ? (rule.warmFrom ?? 'after') : undefined;
    const loaderUrl =
      typeof source === 'object'
        ? attempt(violations, `${at}.warmFrom.loaderUrl`, () => compileTemplate(source.loaderUrl, 'loaderUrl', limits.template))
        : undefined;
    if (template) {
      keys.push({
        template,
        action: rule.action,
        tombstoneTtlSeconds: rule.tombstoneTtlSeconds ?? limits.defaultTombstoneTtlSeconds,
        ttlSeconds: rule.ttlSeconds,
        warmFromAfter: source === 'after',
        loaderUrl,
      });
    }
  });

  const tags: CompiledTemplate[] = [];
  const seenTags = new Set<string>();
  mapping.tags.forEach((source, i) => {
    if (seenTags.has(source)) invalid(`tags[${i}]`, `tag "${source}" appears twice in this mapping`);
    seenTags.add(source);
    const tag = attempt(violations, `tags[${i}]`, () => compileTemplate(source, 'tag', limits.template));
    if (tag) tags.push(tag);
  });

  const namespaces: CompiledTemplate[] = [];
  const seenNamespaces = new Set<string>();
  (mapping.namespaces ?? []).forEach((source, i) => {
    if (seenNamespaces.has(source)) invalid(`namespaces[${i}]`, `namespace "${source}" appears twice in this mapping`);
    seenNamespaces.add(source);
    const namespace = attempt(violations, `namespaces[${i}]`, () => compileTemplate(source, 'namespace', limits.template));
    if (namespace) namespaces.push(namespace);
  });

  const purgeUrls: CompiledTemplate[] = [];
  const purge = mapping.purge;
  (purge?.urls ?? []).forEach((source, i) => {
    const url = attempt(violations, `purge.urls[${i}]`, () => compileTemplate(source, 'purgeUrl', limits.template));
    if (url) purgeUrls.push(url);
  });
  const purgeTags = purge !== undefined && purge.tags !== false;
  if (purge !== undefined && !purgeTags && purgeUrls.length === 0 && (purge.urls ?? []).length === 0) {
    invalid('purge', 'purge needs tags: true (the default) or at least one URL in urls');
  }
  if (purgeTags && mapping.tags.length === 0)
    invalid(
      'purge.tags',
      "purge.tags sends the mapping's tags as surrogate keys, but the mapping has no tags (set purge.tags: false or add tags)",
    );

  if (mapping.keys.length + mapping.tags.length === 0 && namespaces.length === 0 && (mapping.namespaces ?? []).length === 0)
    invalid('keys', 'a mapping needs at least one key, tag or namespace');
  const fanout = mappingFanout(mapping);
  if (fanout > limits.fanoutCap) {
    violations.push({
      field: 'keys',
      code: 'FANOUT_LIMIT',
      message: `${mapping.keys.length} keys + ${mapping.tags.length} tags + ${(mapping.namespaces ?? []).length} namespaces + ${(purge?.urls ?? []).length} purge URLs = ${fanout} per event, over the fan-out cap of ${limits.fanoutCap}`,
    });
  }
  if (violations.length > 0) throw RegistryError.fromViolations(violations);
  return { mapping, keys, tags, namespaces, purgeTags, purgeUrls };
}
