// A local Varnish (Debian's varnishd + the xkey vmod from varnish-modules) in front of one
// backend: loopback only, free port, malloc storage, its own work dir, stopped by pid.
// Purges: `PURGE /path` (that URL) and `PURGE /` with `xkey-purge: tag1 tag2` (every object
// whose `xkey` response header lists one of the tags; `xkey-softpurge` marks them stale
// instead). Only from loopback. Started on demand (tests: test/support/varnish.ts; dev: scripts/dev.ts).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { commandExists, freePort, isOurs, spawnDetached, StackError, stopPid, tail, waitFor } from './processes';

export interface VarnishInfo {
  port: number;
  pid: number;
  dir: string;
  backend: string;
}

export const VARNISH_PACKAGES = ['varnish', 'varnish-modules'];
const XKEY_VMOD_DIRS = ['/usr/lib/x86_64-linux-gnu/varnish/vmods', '/usr/lib/aarch64-linux-gnu/varnish/vmods', '/usr/lib/varnish/vmods'];

function varnishd(): string | undefined {
  if (commandExists('varnishd')) return 'varnishd';
  return existsSync('/usr/sbin/varnishd') ? '/usr/sbin/varnishd' : undefined;
}

function hasXkey(): boolean {
  return XKEY_VMOD_DIRS.some((d) => existsSync(join(d, 'libvmod_xkey.so')));
}

export function ensureVarnishInstalled(): string {
  let bin = varnishd();
  if (bin && hasXkey()) return bin;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot && commandExists('apt-get')) {
    console.error(`[stack] varnish/xkey missing: installing ${VARNISH_PACKAGES.join(' ')} with apt-get`);
    const update = spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    const install = spawnSync('apt-get', ['install', '-y', '-qq', ...VARNISH_PACKAGES], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    bin = varnishd();
    if (update.status === 0 && install.status === 0 && bin && hasXkey()) return bin;
  }
  throw new StackError(
    'VARNISH_MISSING',
    `varnishd with the xkey vmod is not installed. Install it with: sudo apt-get install -y ${VARNISH_PACKAGES.join(' ')}`,
  );
}

/** One xkey key in the VCL's checks (PCRE): printable ASCII without space or comma, the sink's tag rule. */
const XKEY_KEY = '[-!-+.-~]+';
/** A host name or bracketed IPv6 literal, optional port (PCRE). */
const PURGE_HOST = '([a-z0-9_-]+([.][a-z0-9_-]+)*|[[][0-9a-f:.]+[]])(:[0-9]{1,5})?';

/** The VCL: xkey purges and URL purges from loopback; everything else cached as the backend says. */
export function varnishVcl(backendHost: string, backendPort: number): string {
  return `vcl 4.1;
import xkey;
import std;

backend default {
  .host = "${backendHost}";
  .port = "${backendPort}";
  .connect_timeout = 2s;
  .first_byte_timeout = 10s;
}

acl purgers { "127.0.0.1"; "::1"; }

sub vcl_recv {
  if (req.method == "PURGE") {
    if (!client.ip ~ purgers) { return (synth(403, "purge not allowed from " + client.ip)); }
    # A purge names whole keys or one URL, never everything. An xkey header is a list of keys
    # (printable ASCII without space or comma, one space apart: xkey splits on both, so "a,b" would
    # be two keys and an empty header none); x-purge-host is host[:port]. Anything else is refused
    # before it reaches xkey or the cache. A URL purge removes that one object (all its variants).
    if (req.http.xkey-purge && req.http.xkey-softpurge) { return (synth(400, "send xkey-purge or xkey-softpurge, not both")); }
    if (req.http.xkey-purge && req.http.xkey-purge !~ "^${XKEY_KEY}( ${XKEY_KEY})*$") { return (synth(400, "xkey-purge must list whole keys")); }
    if (req.http.xkey-softpurge && req.http.xkey-softpurge !~ "^${XKEY_KEY}( ${XKEY_KEY})*$") { return (synth(400, "xkey-softpurge must list whole keys")); }
    if (req.http.x-purge-host) {
      if (req.http.x-purge-host !~ "^${PURGE_HOST}$") { return (synth(400, "x-purge-host must be host[:port]")); }
      set req.http.host = req.http.x-purge-host;
    }
    if (req.http.xkey-purge) {
      set req.http.n-gone = xkey.purge(req.http.xkey-purge);
      return (synth(200, "xkey purged " + req.http.n-gone));
    }
    if (req.http.xkey-softpurge) {
      set req.http.n-gone = xkey.softpurge(req.http.xkey-softpurge);
      return (synth(200, "xkey soft-purged " + req.http.n-gone));
    }
    return (purge);
  }
  if (req.method != "GET" && req.method != "HEAD") { return (pass); }
  return (hash);
}

sub vcl_backend_response {
  # The backend's Cache-Control decides (s-maxage / max-age, stale-while-revalidate -> grace).
  return (deliver);
}

sub vcl_deliver {
  if (obj.hits > 0) { set resp.http.x-cache = "HIT"; } else { set resp.http.x-cache = "MISS"; }
  # Surrogate keys are for the cache, not for browsers.
  unset resp.http.xkey;
}

sub vcl_synth {
  set resp.http.content-type = "text/plain";
  set resp.body = resp.reason;
  return (deliver);
}
`;
}

function get(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: 'PURGE', headers: { 'xkey-purge': 'stack-probe' }, timeout: 1_000 },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** Starts varnishd in the foreground (-F, detached from us, pid recorded) in front of `backend` ("host:port"). */
export async function startVarnish(
  dir: string,
  backend: string,
  options: { port?: number; timeoutMs?: number } = {},
): Promise<VarnishInfo> {
  const bin = ensureVarnishInstalled();
  mkdirSync(dir, { recursive: true });
  const [host, portText] = backend.split(':');
  const vclPath = join(dir, 'default.vcl');
  writeFileSync(vclPath, varnishVcl(host, Number(portText)));
  const port = options.port ?? (await freePort());
  const workDir = join(dir, 'work');
  mkdirSync(workDir, { recursive: true });
  const logFile = join(dir, 'varnishd.log');
  // -p vsl_space small: the shared log is not needed at that size for a local cache.
  const args = [
    '-F',
    '-a',
    `127.0.0.1:${port}`,
    '-f',
    vclPath,
    '-n',
    workDir,
    '-s',
    'malloc,32m',
    '-T',
    'none',
    '-p',
    'default_grace=10',
    '-p',
    'default_ttl=120',
  ];
  const pid = spawnDetached(bin, args, logFile);
  try {
    await waitFor(
      `varnishd on 127.0.0.1:${port}`,
      async () => {
        if (!isOurs(pid, String(port))) throw new StackError('VARNISH_EXITED', `varnishd exited:\n${tail(logFile)}`);
        return (await get(port, '/')) === 200 ? true : undefined;
      },
      options.timeoutMs ?? 30_000,
      200,
    );
  } catch (error) {
    await stopPid(pid, String(port), 2_000);
    throw error;
  }
  return { port, pid, dir, backend };
}

export async function stopVarnish(info: VarnishInfo): Promise<void> {
  // varnishd -F: the manager; SIGTERM stops it and its child.
  await stopPid(info.pid, String(info.port), 5_000);
}
