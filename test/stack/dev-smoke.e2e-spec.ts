// README command 1 really works: `npm run dev` (scripts/dev.ts) brings up the stack, registry,
// invalidator, examples, dashboard and traffic, shows keys being invalidated, and stops
// everything it started. While it runs, headless Chromium opens the printed dashboard URL, as
// a person would, and waits for the read side to be drawn: the hit rate per key family (a
// family with reads and its L1 share), the invalidations per second by outcome and the purges.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { readState } from '../../scripts/stack/stack';
import { launchChromium, requireChromium } from '../support/chromium';
import { eventually, uniqueName } from '../support/stack-env';

const ROOT = join(__dirname, '..', '..');
const DEV_DURATION_SECONDS = 30;

/** What a person reads in a table cell, as a number ("1,234" -> 1234, "–" -> NaN). */
const asNumber = (text: string | null | undefined): number => Number((text ?? '').trim().replace(/,/g, ''));

interface Row {
  key: string | null;
  cells: Record<string, string>;
}

/** What the row reader touches of a table cell (this Node project has no DOM types). */
interface Cell {
  getAttribute(name: string): string | null;
  textContent: string | null;
}

/** One panel's rows at one instant (the page rebuilds these tables on every poll). */
function rowsOf(page: Page, tbody: string, keyAttribute: string): Promise<Row[]> {
  return page.locator(`#${tbody} tr`).evaluateAll(
    (trs, attr) =>
      trs.map((tr) => ({
        key: tr.getAttribute(attr),
        cells: Object.fromEntries(
          Array.from(tr.querySelectorAll('td') as ArrayLike<Cell>).map((td) => [
            td.getAttribute('data-column') ?? '',
            (td.textContent ?? '').trim(),
          ]),
        ),
      })),
    keyAttribute,
  );
}

interface ReadSide {
  familiesSub: string;
  families: Row[];
  outcomesSub: string;
  outcomes: Row[];
  purgesSub: string;
  purges: Row[];
  sources: Row[];
}

async function readSide(page: Page): Promise<ReadSide> {
  return {
    familiesSub: await page.locator('#families-sub').innerText({ timeout: 1_000 }),
    families: await rowsOf(page, 'families', 'data-family'),
    outcomesSub: await page.locator('#outcomes-sub').innerText({ timeout: 1_000 }),
    outcomes: await rowsOf(page, 'outcomes', 'data-outcome'),
    purgesSub: await page.locator('#purges-sub').innerText({ timeout: 1_000 }),
    purges: await rowsOf(page, 'purges', 'data-outcome'),
    sources: await rowsOf(page, 'sources', 'data-source'),
  };
}

/** A family with reads whose L1 share is shown as a percentage ("12.5 %"). */
const familiesWithReads = (s: ReadSide) =>
  s.families.filter((r) => asNumber(r.cells.reads) > 0 && /^\d+(\.\d+)? %$/.test(r.cells['l1-share'] ?? ''));

/**
 * Opens the dashboard and waits, up to `timeoutMs`, until the three read-side panels are drawn
 * with live figures. Returns what the page showed; on timeout the error carries the panels' text.
 */
async function dashboardInBrowser(browser: Browser, url: string, timeoutMs: number): Promise<{ title: string; shown: ReadSide }> {
  const page = await browser.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.goto(url);
  let shown: ReadSide | undefined;
  try {
    await eventually(
      'the hit rate per key family (a family with reads and its L1 share), invalidations, purges (purged > 0) and CDC throughput on the page',
      async () => {
        shown = await readSide(page);
        return (
          familiesWithReads(shown).length > 0 &&
          shown.outcomes.some((r) => asNumber(r.cells.rate) > 0) &&
          shown.purges.some((r) => r.key === 'purged' && asNumber(r.cells.rate) > 0) &&
          // The catalog's row changes through Debezium, applied by the CDC invalidator.
          shown.sources.some((r) => r.key === 'cdc:product' && asNumber(r.cells.applied) > 0)
        );
      },
      timeoutMs,
      250,
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}; the page showed ${JSON.stringify(shown)}`);
  }
  if (pageErrors.length > 0) throw new Error(`script errors on the dashboard page: ${pageErrors.join(' · ')}`);
  return { title: await page.title(), shown: shown! };
}

describe('npm run dev (smoke)', () => {
  let browser: Browser | undefined;

  afterAll(async () => {
    await browser?.close();
  });

  it('shows traffic flowing and keys invalidated, draws the dashboard in Chromium, then stops everything', async () => {
    requireChromium(); // before the heavy dev run: a missing browser fails here, saying how to install it
    const launching = launchChromium().then((b) => (browser = b));
    const stack = uniqueName('dev-smoke');
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', join(ROOT, 'scripts/dev.ts')],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          DEV_DURATION_SECONDS: String(DEV_DURATION_SECONDS),
          DEV_STACK_NAME: stack,
          TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    // The browser check, started once the dashboard URL is printed; settles by itself (deadline).
    let inBrowser: Promise<{ ok: true; title: string; shown: ReadSide } | { ok: false; error: string }> | undefined;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      // the main dashboard's line (services' own logs and the CDC group's lag dashboard name other URLs)
      const url = /Dashboard \(lag, throughput, DLQ, purges\) +(http:\/\/127\.0\.0\.1:\d+\/dashboard)/.exec(out)?.[1];
      if (url && !inBrowser) {
        // The dev run stops DEV_DURATION_SECONDS after printing the URLs: that is the deadline.
        inBrowser = launching
          .then((b) => dashboardInBrowser(b, url, DEV_DURATION_SECONDS * 1000))
          .then(
            (r) => ({ ok: true as const, ...r }),
            (e: Error) => ({ ok: false as const, error: e.message }),
          );
      }
    });
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    // The CDC group's own lag monitor: its /lag names the group and a committed offset on Debezium's topic.
    let cdcLag: Promise<string> | undefined;
    child.stdout.on('data', () => {
      const url = /CDC group's lag dashboard +(http:\/\/127\.0\.0\.1:\d+)\/dashboard/.exec(out)?.[1];
      if (url && !cdcLag) {
        let last = '';
        cdcLag = eventually(
          "the CDC group's lag with a committed offset on catalog_products' change topic",
          async () => {
            last = await (await fetch(`${url}/lag`)).text().catch(() => '');
            return (
              /"groupId":"cache-invalidator-cdc"/.test(last) &&
              /"topic":"[a-z_]+\.public\.catalog_products","partition":\d+,"committedOffset":[1-9]/.test(last)
            );
          },
          DEV_DURATION_SECONDS * 1000,
          500,
        ).then(
          () => 'ok',
          (e: Error) => `${e.message}; /lag said ${last.slice(0, 1500)}`,
        );
      }
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect({ code, tail: code === 0 ? '' : out.slice(-3000) }).toEqual({ code: 0, tail: '' });
    const applied = [...out.matchAll(/\[live\] events applied (\d+) {2}keys (\d+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
    expect(applied.length).toBeGreaterThan(3);
    const [lastApplied, lastKeys] = applied[applied.length - 1];
    expect(lastApplied).toBeGreaterThan(20);
    expect(lastKeys).toBeGreaterThan(lastApplied);
    // Varnish in front of the storefront, purged by the invalidator.
    expect(out).toMatch(/Storefront through Varnish \(xkey purges\) +http:\/\/127\.0\.0\.1:\d+\/products/);
    const purges = [...out.matchAll(/\[live\] .* purges (\d+)/g)].map((m) => Number(m[1]));
    expect(purges[purges.length - 1]).toBeGreaterThan(0);

    // The dashboard as Chromium drew it while the dev run was up.
    expect(inBrowser).toBeDefined();
    const page = await inBrowser!;
    if (!page.ok) throw new Error(`the dashboard of npm run dev, in headless Chromium: ${page.error}`);
    expect(page.title).toContain('Cache invalidation');
    // The hit rate per key family, from the storefront's metrics; a family never names a tenant.
    expect(page.shown.familiesSub).toMatch(/^1\/1 readers up/);
    const families = familiesWithReads(page.shown).map((r) => r.key);
    expect(families).toEqual(expect.arrayContaining(['product']));
    expect(page.shown.families.filter((r) => r.key?.includes('demo'))).toEqual([]);
    // ... and the purges through Varnish, one target.
    expect(page.shown.purgesSub).toContain('1 target');
    // Both sources: published events (outbox relay) and the products table through Debezium.
    expect(page.shown.sources.map((r) => r.key).sort()).toEqual(['cdc:product', 'events']);
    expect(out).toMatch(/CDC invalidator \(Debezium, catalog_products\) +http:\/\/127\.0\.0\.1:\d+\/health\/ready/);
    expect(await cdcLag).toBe('ok');

    expect(out).toContain('stopped');
    expect(readState(stack)).toBeUndefined(); // the stack it started is gone
  }, 180_000);
});
