// README command 1 really works: `npm run dev` (scripts/dev.ts) brings up the stack, registry,
// invalidator, examples, dashboard and traffic, shows keys being invalidated, and stops
// everything it started.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { readState } from '../../scripts/stack/stack';
import { uniqueName } from '../support/stack-env';

const ROOT = join(__dirname, '..', '..');

describe('npm run dev (smoke)', () => {
  it('shows traffic flowing and keys invalidated, serves the dashboard, then stops everything', async () => {
    const stack = uniqueName('dev-smoke');
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', join(ROOT, 'scripts/dev.ts')],
      {
        cwd: ROOT,
        env: { ...process.env, DEV_DURATION_SECONDS: '30', DEV_STACK_NAME: stack, TS_NODE_PROJECT: join(ROOT, 'tsconfig.json') },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let dashboardHtml = '';
    // The dashboard's purge panel data: the highest purged rate seen while it runs.
    let purgedPerSecond = 0;
    // The hit-rate panel's rows (the storefront's cache-client metrics): the families seen with reads.
    const families = new Set<string>();
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const url = /(http:\/\/127\.0\.0\.1:\d+\/dashboard)/.exec(out)?.[1];
      if (url && !dashboardHtml) {
        dashboardHtml = 'pending';
        fetch(url).then(
          async (r) => (dashboardHtml = r.ok ? await r.text() : `status ${r.status}`),
          (e: Error) => (dashboardHtml = e.message),
        );
      }
      if (url && /\[live\] .* purges [1-9]/.test(d.toString())) {
        fetch(`${url}/data`)
          .then(
            (r) =>
              r.json() as Promise<{
                invalidator: { purges: { perSecondByOutcome: Record<string, number> } };
                cache: { families: { family: string; readsPerSecond: number }[] };
              }>,
          )
          .then((data) => {
            purgedPerSecond = Math.max(purgedPerSecond, data.invalidator.purges.perSecondByOutcome.purged ?? 0);
            for (const f of data.cache.families) if (f.readsPerSecond > 0) families.add(f.family);
          })
          .catch(() => undefined);
      }
    });
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect({ code, tail: code === 0 ? '' : out.slice(-3000) }).toEqual({ code: 0, tail: '' });
    const applied = [...out.matchAll(/\[live\] events applied (\d+) {2}keys (\d+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
    expect(applied.length).toBeGreaterThan(3);
    const [lastApplied, lastKeys] = applied[applied.length - 1];
    expect(lastApplied).toBeGreaterThan(20);
    expect(lastKeys).toBeGreaterThan(lastApplied);
    expect(dashboardHtml).toContain('<html');
    // Varnish in front of the storefront, purged by the invalidator.
    expect(out).toMatch(/Storefront through Varnish \(xkey purges\) +http:\/\/127\.0\.0\.1:\d+\/products/);
    const purges = [...out.matchAll(/\[live\] .* purges (\d+)/g)].map((m) => Number(m[1]));
    expect(purges[purges.length - 1]).toBeGreaterThan(0);
    // ... and its purges on the dashboard.
    expect(dashboardHtml).toContain('Purges per second by outcome');
    expect(purgedPerSecond).toBeGreaterThan(0);
    // ... and the hit rate per key family, from the storefront's metrics; a family never names a tenant.
    expect([...families]).toEqual(expect.arrayContaining(['product']));
    expect([...families].filter((f) => f.includes('demo'))).toEqual([]);
    expect(out).toContain('stopped');
    expect(readState(stack)).toBeUndefined(); // the stack it started is gone
  }, 180_000);
});
