// The built-in dashboard, as a person sees it in a real browser (Debian's chromium, headless,
// driven by playwright-core), against the real stack: the real invalidator (child process)
// consuming a real topic, the lag service scraping its /metrics. While it runs the page shows
// partition rows with live numbers in green, a lag chart that keeps moving, throughput, the
// dead letters, apply latency and the mapping count; when the invalidator is stopped, the
// rows turn STOP (red), lag keeps growing, and the page says the invalidator is unreachable.
// The invalidator purges an HTTP cache (a local server taking xkey PURGEs): the purge panel
// shows purged per second and the target.
import { writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Producer } from 'kafkajs';
import pino from 'pino';
import type { Browser, Page } from 'playwright-core';
import { EVENT_HEADERS } from '@app/contracts';
import { LagServer, startLagServer } from '../../apps/lag-monitor/src/http/lag-server';
import { productEvent, publish } from '../support/events';
import { invalidatorTestEnv, SHOP_MAPPINGS } from '../support/invalidator-env';
import { stringify } from 'yaml';
import { InvalidatorProcess, spawnInvalidator } from '../../scripts/support/invalidator-process';
import { launchChromium, requireChromium } from '../support/chromium';
import { eventually, kafka, stackEnv, uniqueName } from '../support/stack-env';

const GREEN = 'rgb(46, 125, 50)';
const RED = 'rgb(198, 40, 40)';

/** What a person reads in a table cell, as a number ("1,234" -> 1234). */
const asNumber = (text: string): number => Number(text.replace(/,/g, ''));

describe('dashboard page in headless Chromium', () => {
  let browser: Browser | undefined;
  let producer: Producer | undefined;
  let invalidator: InvalidatorProcess | undefined;
  let lag: LagServer | undefined;
  let purgeTarget: Server | undefined;
  let purgeRequests = 0;
  let writing = false;
  let writer: Promise<void> = Promise.resolve();

  beforeAll(() => requireChromium());

  afterAll(async () => {
    writing = false;
    await writer;
    await browser?.close();
    await lag?.close();
    if (invalidator && invalidator.child.exitCode === null) await invalidator.kill9();
    await producer?.disconnect();
    await new Promise((resolve) => (purgeTarget ? purgeTarget.close(resolve) : resolve(undefined)));
  });

  it('shows live lag, status colours, a moving chart and the invalidator figures; STOP in red when the invalidator stops', async () => {
    const t = await invalidatorTestEnv({ partitions: 2 });
    producer = kafka('dash-producer').producer();
    await producer.connect();
    // Two messages no invalidator can read: they must show up as dead letters.
    const headers = { [EVENT_HEADERS.schemaVersion]: '1', [EVENT_HEADERS.contentType]: 'application/json' };
    await producer.send({
      topic: t.topic,
      messages: [
        { key: 'bad-1', value: '{not json', headers },
        { key: 'bad-2', value: 'nope', headers },
      ],
    });
    const prefix = uniqueName('dash');
    writing = true;
    writer = (async () => {
      for (let version = 1; writing; version++) {
        // 16 entities: their keys land on both partitions (all on one: odds 1 in 32 768).
        await publish(
          producer,
          t.topic,
          Array.from({ length: 16 }, (_, i) => productEvent(`${prefix}-${i}`, version, { categoryId: 'c1', price: version })),
        );
        await sleep(100);
      }
    })();
    // A purge target answering like Varnish with xkey, and the mapping's tags purged through it.
    purgeTarget = createServer((req, res) => {
      if (req.method === 'PURGE') purgeRequests += 1;
      res.writeHead(req.method === 'PURGE' ? 200 : 405).end();
    });
    await new Promise<void>((resolve) => purgeTarget!.listen(0, '127.0.0.1', resolve));
    const purgeUrl = `http://127.0.0.1:${(purgeTarget.address() as AddressInfo).port}`;
    writeFileSync(t.mappingsFile, stringify({ mappings: SHOP_MAPPINGS.map((m) => ({ ...m, purge: { tags: true } })) }));
    invalidator = await spawnInvalidator({ ...t.env, PURGE_TARGETS: `varnish:${purgeUrl}` });

    lag = await startLagServer({
      port: 0,
      brokers: stackEnv.kafkaBrokers,
      groupId: t.groupId,
      topics: [t.topic],
      intervalMs: 300,
      windowMs: 1_500,
      stopAfterMs: 60_000,
      invalidatorMetricsUrls: [`http://127.0.0.1:${invalidator.port}/metrics`],
      invalidatorWindowMs: 5_000,
      dashboardPollMs: 500,
      logger: pino({ level: 'error' }),
    });

    browser = await launchChromium();
    const page: Page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`${lag.url}/dashboard`);
    expect(await page.title()).toBe(`Consumer lag · ${t.groupId}`);

    const row = (partition: number) => page.locator(`#partitions tr[data-partition="${t.topic}/${partition}"]`);
    const cells = async (partition: number) => (await row(partition).locator('td').allInnerTexts()).map((s) => s.trim());
    const statusText = (partition: number) => row(partition).locator('.status').innerText({ timeout: 1_000 });
    // Reached through the element: this Node project has no DOM globals in its types.
    const colour = (partition: number) =>
      row(partition)
        .locator('.status')
        .evaluate((el): string => el.ownerDocument.defaultView.getComputedStyle(el).backgroundColor);

    // Running: both partition rows OK in green, with numbers that add up.
    await eventually(
      'both partitions OK with a committed offset',
      async () => (await statusText(0)) === 'OK' && (await statusText(1)) === 'OK' && (await cells(0))[2] !== 'none',
      20_000,
    );
    for (const partition of [0, 1]) {
      const [topicCell, partitionCell, committed, end, lagCell, lagSeconds] = await cells(partition);
      expect([topicCell, partitionCell]).toEqual([t.topic, String(partition)]);
      expect(asNumber(end)).toBeGreaterThan(0);
      expect(asNumber(end) - asNumber(committed)).toBe(asNumber(lagCell));
      expect(lagSeconds).toMatch(/^(≥ )?[\d.]+ (ms|s|min|h)$/);
      expect(await colour(partition)).toBe(GREEN);
    }
    expect(await page.locator('#group-state').innerText()).toBe('Stable');
    expect(await page.locator('#group-members').innerText()).toBe('1');

    // The invalidator's figures: throughput, the two dead letters, apply latency, mappings.
    await eventually(
      'throughput, dead letters and latency appear',
      async () =>
        asNumber(await page.locator('#throughput').innerText()) > 0 &&
        (await page.locator('#dead-lettered').innerText()) === '2' &&
        /\d/.test(await page.locator('#latency-p99').innerText()),
      20_000,
    );
    expect(await page.locator('#dead-lettered-sub').innerText()).toContain('BAD_JSON 2');
    expect(await page.locator('#latency-p50').innerText()).toMatch(/^[\d.]+ (ms|s)$/);
    expect(await page.locator('#mappings').innerText()).toBe('1');
    expect(await page.locator('#mappings-sub').innerText()).toBe('from the invalidator');
    expect(await page.locator('#throughput-sub').innerText()).toContain('1/1 instances up');

    // The purge panel: purged per second > 0 through the one target, no failures.
    const purgeRow = (outcome: string) => page.locator(`#purges tr[data-outcome="${outcome}"]`);
    await eventually(
      'purges per second appear',
      async () =>
        (await purgeRow('purged').count()) === 1 && asNumber((await purgeRow('purged').locator('td').nth(1).innerText()).trim()) > 0,
      20_000,
    );
    expect(purgeRequests).toBeGreaterThan(0);
    expect(await purgeRow('purged').locator('td').nth(2).innerText()).toContain(`varnish:${purgeUrl}`);
    expect(asNumber(await purgeRow('failed').locator('td').nth(1).innerText())).toBe(0);
    expect(await page.locator('#purges-sub').innerText()).toContain('1 target');

    // The chart has a line per partition with points, and it moves: more points a moment later.
    const chartPoints = () =>
      page
        .locator('#lag-chart polyline')
        .evaluateAll((lines) => lines.reduce((n, l) => n + (l.getAttribute('points') ?? '').trim().split(/\s+/).filter(Boolean).length, 0));
    const seriesCount = () =>
      page.locator('#lag-chart polyline').evaluateAll((lines) => new Set(lines.map((l) => l.getAttribute('data-series'))).size);
    await eventually(
      'the chart has points for both partitions',
      async () => (await seriesCount()) === 2 && (await chartPoints()) >= 4,
      10_000,
    );
    const before = await chartPoints();
    const updatedBefore = await page.locator('#updated').innerText();
    await eventually(
      'the chart grows and the page says it updated',
      async () => (await chartPoints()) > before && (await page.locator('#updated').innerText()) !== updatedBefore,
      10_000,
    );
    expect(await page.locator('#errors').isVisible()).toBe(false);

    // The invalidator stops (graceful: it leaves the group). Events keep coming. What the
    // operator sees: members 0, both rows STOP in red, lag growing, the invalidator unreachable.
    await invalidator.terminate();
    await eventually('both partitions STOP', async () => (await statusText(0)) === 'STOP' && (await statusText(1)) === 'STOP', 20_000);
    expect(await colour(0)).toBe(RED);
    expect(await colour(1)).toBe(RED);
    expect(await page.locator('#group-members').innerText()).toBe('0');
    expect(await page.locator('#group-status').innerText()).toBe('STOP');
    expect((await cells(0))[8]).toContain('no members');
    const lagAtStop = asNumber(await page.locator('#total-lag').innerText());
    await eventually(
      'lag keeps growing while nobody consumes',
      async () => asNumber(await page.locator('#total-lag').innerText()) > lagAtStop,
      10_000,
    );
    await eventually(
      'the page says the invalidator is unreachable',
      async () =>
        (await page.locator('#errors').isVisible()) &&
        (await page.locator('#errors').innerText()).includes(`127.0.0.1:${invalidator!.port}/metrics`),
      10_000,
    );
    expect(await page.locator('#throughput-sub').innerText()).toContain('0/1 instances up');

    // Switching the chart to seconds redraws it in seconds.
    await page.click('#show-seconds');
    expect(await page.locator('#show-seconds').getAttribute('aria-pressed')).toBe('true');
    expect(await page.locator('#lag-chart text').first().textContent()).toMatch(/ (ms|s|min|h)$/);

    expect(pageErrors).toEqual([]);
  });
});
