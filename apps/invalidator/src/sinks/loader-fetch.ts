// The loader's HTTP client: a loader URL comes from a team's mapping (hostile input), so every
// call is checked twice before a byte is sent and bounded while the answer is read.
//   1. The URL, by the rules of libs/registry-core/src/url/target-url.ts (`checkTargetUrl`):
//      scheme, userinfo, internal names and IP literals (loopback, private, link-local, the
//      metadata address...) unless LOADER_ALLOWED_HOSTS lifts them. (LoaderWarmer does this.)
//   2. The addresses the host name RESOLVES to (`checkedLookup`, the same `addressProblem` rule),
//      at connect time, inside the socket's own lookup: the socket connects only to an address
//      that was checked, so a name that resolves to a public address when checked and to
//      127.0.0.1 a moment later (DNS rebinding) cannot slip through.
// The answer: redirects are never followed (a 3xx is a failed answer), a Content-Length over the
// limit is refused before reading, and the body is streamed and cut at the limit, so a huge
// answer costs at most `maxBytes` of memory.
import { promises as dns } from 'node:dns';
import type { LookupAddress, LookupOptions } from 'node:dns';
import { Agent } from 'undici';
import { addressProblem, HostAllowList } from '@app/registry-core/url/target-url';

/** Resolves a host name to all its addresses (`dns.lookup` with `all: true` by default). */
export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

export const systemResolver: Resolver = (hostname) => dns.lookup(hostname, { all: true, verbatim: true });

/** A host name that resolves only to addresses the rules refuse: nothing is connected. */
export class AddressRefusedError extends Error {
  readonly code = 'ADDRESS_REFUSED';
}

/** The answer is larger than the limit (declared or read). */
export class BodyTooLargeError extends Error {}

type LookupCallback = (error: Error | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for net/tls.connect: resolves with `resolve`, drops every address `addressProblem`
 * refuses and hands the socket only the checked ones (all of them when asked for `all`, as
 * autoSelectFamily does). None left: AddressRefusedError naming the host and why.
 */
export function checkedLookup(allow: HostAllowList, resolve: Resolver = systemResolver) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family;
    resolve(hostname).then(
      (resolved) => {
        const candidates = family === 4 || family === 6 ? resolved.filter((a) => a.family === family) : resolved;
        const checked = candidates.filter((a) => addressProblem(a.address, allow) === undefined);
        if (checked.length === 0) {
          const why = candidates.length === 0 ? 'no address' : candidates.map((a) => addressProblem(a.address, allow)).join('; ');
          return callback(new AddressRefusedError(`host ${hostname} resolves to ${why}`), '', 0);
        }
        if (options.all) return callback(null, checked);
        callback(null, checked[0].address, checked[0].family);
      },
      (error: Error) => callback(error, '', 0),
    );
  };
}

/** An undici dispatcher whose sockets connect only to checked addresses. */
export function checkedAgent(allow: HostAllowList, resolve?: Resolver): Agent {
  return new Agent({ connect: { lookup: checkedLookup(allow, resolve) } });
}

/** Is `error` (or one of its causes: undici wraps connect errors in "fetch failed") an AddressRefusedError? */
export function refusedAddress(error: unknown): AddressRefusedError | undefined {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth += 1) {
    if (e instanceof AddressRefusedError) return e;
  }
  return undefined;
}

interface BodyResponse {
  headers: { get(name: string): string | null };
  body: ReadableStream<Uint8Array> | null;
}

/** Reads the body, at most `maxBytes`: refused on a larger Content-Length, cut (and the connection dropped) past the limit. */
export async function readBounded(response: BodyResponse, maxBytes: number): Promise<Buffer> {
  const declared = response.headers.get('content-length');
  if (declared !== null && Number(declared) > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw new BodyTooLargeError(`Content-Length ${declared} is over the ${maxBytes} bytes limit`);
  }
  if (!response.body) return Buffer.alloc(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new BodyTooLargeError(`body over the ${maxBytes} bytes limit`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size);
}
