// URLs a team's mapping makes the invalidator call (loader warms) or purge (CDN URL purges):
// parsed once with the WHATWG parser (the same one fetch and the CDN adapters use), after
// template expansion, and refused when the host could reach something that is not the team's
// service: an empty or dot-only host, userinfo, a non-http(s) scheme, `localhost`, or an IP
// literal outside the public unicast ranges (loopback, private, link-local and the cloud
// metadata address 169.254.169.254, carrier-grade NAT, unique-local, multicast, reserved...).
// Operators lift the rule for named hosts, IPs or CIDRs they trust (LOADER_ALLOWED_HOSTS,
// PURGE_ALLOWED_HOSTS). The same rule checks the addresses a host name resolves to, at fetch
// time (DNS rebinding): see `addressProblem`.
//
// Team host patterns (keyspaces: the loader and purge hosts a team may use) are exact host names
// or `*.suffix` (one or more labels under suffix); matching is case-insensitive.
import ipaddr from 'ipaddr.js';
import psl from 'psl';

/** Hosts, IPs or CIDRs an operator trusts although the rules above would refuse them. */
export interface HostAllowList {
  readonly names: ReadonlySet<string>;
  readonly ranges: readonly [ipaddr.IPv4 | ipaddr.IPv6, number][];
}

export const EMPTY_ALLOW_LIST: HostAllowList = { names: new Set(), ranges: [] };

/** A checked URL: `host` is the WHATWG hostname (IPv6 without brackets, lower case). */
export interface TargetUrl {
  url: URL;
  host: string;
}

export class TargetUrlError extends Error {
  readonly code = 'UNSAFE_URL';
}

/** Host names that always mean "this machine" or a cloud's instance metadata. */
const INTERNAL_NAMES = /^(localhost|.*\.localhost|metadata|metadata\.google\.internal|instance-data(\..*)?)$/;

function normaliseHost(host: string): string {
  const lower = host.toLowerCase();
  return lower.startsWith('[') && lower.endsWith(']') ? lower.slice(1, -1) : lower;
}

/**
 * Parses an allow-list variable: comma-separated host names, IP literals or CIDRs. Throws naming
 * the variable and the bad entry.
 */
export function parseHostAllowList(value: string | undefined, variable: string): HostAllowList {
  const names = new Set<string>();
  const ranges: [ipaddr.IPv4 | ipaddr.IPv6, number][] = [];
  for (const raw of (value ?? '').split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    if (entry.includes('/')) {
      try {
        ranges.push(ipaddr.parseCIDR(entry));
      } catch {
        throw new Error(`${variable}: "${entry}" is not a valid CIDR (e.g. 10.0.0.0/8, fd00::/8)`);
      }
      continue;
    }
    const host = normaliseHost(entry);
    if (ipaddr.isValid(host)) {
      const ip = ipaddr.parse(host);
      ranges.push([ip, ip.kind() === 'ipv4' ? 32 : 128]);
    } else if (/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(host)) {
      names.add(host);
    } else {
      throw new Error(`${variable}: "${entry}" is not a host name, IP address or CIDR`);
    }
  }
  return { names, ranges };
}

function inAllowedRange(ip: ipaddr.IPv4 | ipaddr.IPv6, allow: HostAllowList): boolean {
  return allow.ranges.some(([range, bits]) => ip.kind() === range.kind() && ip.match(range, bits));
}

/** Why an IP address may not be called (undefined: public unicast, or allow-listed). */
export function addressProblem(address: string, allow: HostAllowList = EMPTY_ALLOW_LIST): string | undefined {
  const text = normaliseHost(address);
  if (!ipaddr.isValid(text)) return `"${address}" is not an IP address`;
  let ip = ipaddr.parse(text);
  if (inAllowedRange(ip, allow)) return undefined;
  // An IPv4 address written as IPv6 is judged as the IPv4 address it is: IPv4-mapped
  // (::ffff:a.b.c.d) and the deprecated IPv4-compatible form (::a.b.c.d, which ipaddr.js calls
  // unicast; some stacks still route it to the embedded IPv4 address). :: and ::1 are not of it.
  if (ip.kind() === 'ipv6') {
    const v6 = ip as ipaddr.IPv6;
    const compatible = v6.parts.slice(0, 6).every((p) => p === 0) && (v6.parts[6] !== 0 || v6.parts[7] > 1);
    if (v6.isIPv4MappedAddress() || compatible) {
      ip = new ipaddr.IPv4([v6.parts[6] >> 8, v6.parts[6] & 0xff, v6.parts[7] >> 8, v6.parts[7] & 0xff]);
      if (inAllowedRange(ip, allow)) return undefined;
    }
  }
  const range = ip.range();
  if (range === 'unicast') return undefined;
  const what = ip.toString() === '169.254.169.254' || text === 'fd00:ec2::254' ? 'the cloud metadata address' : `a ${range} address`;
  return `${address} is ${what}; only public addresses are called unless an operator allow-lists it`;
}

/** Why a host (WHATWG hostname) may not be called, judged on its text alone; undefined when fine. */
export function hostProblem(hostname: string, allow: HostAllowList = EMPTY_ALLOW_LIST): string | undefined {
  const host = normaliseHost(hostname);
  if (host === '' || /^\.+$/.test(host)) return `host "${hostname}" is empty or only dots`;
  if (host.startsWith('.') || host.endsWith('.') || host.includes('..')) return `host "${hostname}" has an empty label`;
  if (allow.names.has(host)) return undefined;
  if (ipaddr.isValid(host)) return addressProblem(host, allow);
  if (INTERNAL_NAMES.test(host)) return `host "${hostname}" names this machine or a metadata service`;
  return undefined;
}

/**
 * Parses a rendered URL with the WHATWG parser and checks its scheme, userinfo and host. Returns
 * the parsed URL, or throws TargetUrlError saying why.
 */
export function checkTargetUrl(raw: string, allow: HostAllowList = EMPTY_ALLOW_LIST): TargetUrl {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TargetUrlError(`"${raw}" is not a valid URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new TargetUrlError(`"${raw}": scheme ${url.protocol} is not http or https`);
  if (url.username !== '' || url.password !== '') throw new TargetUrlError(`"${raw}": a URL must not carry userinfo (user:password@)`);
  const problem = hostProblem(url.hostname, allow);
  if (problem) throw new TargetUrlError(`"${raw}": ${problem}`);
  return { url, host: normaliseHost(url.hostname) };
}

/** Is `name` itself a public suffix ("co.uk", "github.io"), i.e. has no registrable domain? */
function publicSuffix(name: string): boolean {
  const parsed = psl.parse(name);
  return 'domain' in parsed && parsed.domain === null;
}

/** Checks a host pattern a keyspace declares: an exact host name or "*.suffix". */
export function hostPatternProblem(pattern: unknown): string | undefined {
  if (typeof pattern !== 'string' || pattern.length === 0 || pattern.length > 253)
    return 'a host pattern must be a non-empty string of at most 253 characters';
  const name = pattern.startsWith('*.') ? pattern.slice(2) : pattern;
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(name) && !ipaddr.isValid(normaliseHost(name))) {
    return `host pattern "${pattern}" must be a lower-case host name, an IP address or "*.<host name>"`;
  }
  if (pattern.startsWith('*.') && !name.includes('.'))
    return `host pattern "${pattern}" is too wide: "*." must be followed by at least two labels`;
  // "*.github.io", "*.co.uk": names under a public suffix belong to whoever registers them.
  if (pattern.startsWith('*.') && publicSuffix(name)) {
    return `host pattern "${pattern}" is too wide: "${name}" is a public suffix (anyone can register names under it); name the team's own domain`;
  }
  // WHATWG reads a host whose last label is a number (decimal or 0x) as an IPv4 address, never
  // as a name: "*.2.3.4" would match the IP literals 1.2.3.4, 5.2.3.4...; "1.2.3" or "010.0.0.1"
  // could never match (the parser turns them into 1.2.0.3 and 8.0.0.1). Only an exact dotted quad.
  if (/^(\d+|0x[0-9a-f]*)$/i.test(name.slice(name.lastIndexOf('.') + 1))) {
    const canonical = ipaddr.IPv4.isValidFourPartDecimal(name) && ipaddr.IPv4.parse(name).toString() === name;
    if (pattern.startsWith('*.') || !canonical)
      return `host pattern "${pattern}" ends in a number, which URLs read as an IPv4 address: use an exact IP address in dotted-quad form (e.g. 192.0.2.10)`;
  }
  return undefined;
}

/** Does `hostname` match one of a team's host patterns (exact, or "*.suffix" for names under suffix)? */
export function hostMatches(hostname: string, patterns: readonly string[]): boolean {
  const host = normaliseHost(hostname);
  for (const pattern of patterns) {
    const p = normaliseHost(pattern);
    if (p.startsWith('*.') ? host.endsWith(p.slice(1)) && host.length > p.length - 1 : host === p) return true;
  }
  return false;
}
