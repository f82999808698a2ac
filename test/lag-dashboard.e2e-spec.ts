// The built-in dashboard, as a person sees it in a real browser (Debian's chromium, headless,
// driven by playwright-core): against a real broker, with a consumer that keeps up on one
// partition and is stuck on the other, the page shows partition rows with live numbers, the
// status colours, a lag chart with points that keeps moving, and the invalidator's
// throughput, dead letters, apply latency and the mapping count.
//
// The invalidator app is not runnable yet (the lead is writing it), so a stand-in consumer
// exports the invalidator's real metric set (InvalidatorMetrics) on its own /metrics; the
// lag service scrapes it exactly as it would scrape the invalidator.
import { existsSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Consumer, Producer } from 'kafkajs';
import pino from 'pino';
import { Browser, chromium } from 'playwright-core';
import { Registry } from 'prom-client';
import { InvalidatorMetrics } from '../apps/invalidator/src/metrics/invalidator-metrics';
import { LagServer, startLagServer } from '../libs/observability/src';
import { createTopic, eventually, kafka, stackEnv, uniqueName } from './support/stack-env';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

interface StandIn {
  url: string;
  close(): Promise<void>;
}

/** Consumes like the invalidator and exports its metric names; stuck (paused) on partition 1. */
async function startStandInInvalidator(topic: string, groupId: string): Promise<StandIn> {
  const registry = new Registry();
  const metrics = new InvalidatorMetrics(registry);
  metrics.mappings.set(3);
  const consumer: Consumer = kafka('standin-invalidator').consumer({ groupId, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let pausedStuckPartition = false;
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      metrics.consumed.inc();
      try {
        const event = JSON.parse(String(message.value)) as { occurredAt: string };
        const started = process.hrtime.bigint();
        metrics.applied.inc();
        metrics.eventAge.observe((Date.now() - Date.parse(event.occurredAt)) / 1000);
        metrics.applyDuration.observe(Number(process.hrtime.bigint() - started) / 1e9);
      } catch {
        metrics.deadLettered.inc({ reason: 'BAD_JSON' });
      }
      if (partition === 1 && !pausedStuckPartition) {
        pausedStuckPartition = true;
        consumer.pause([{ topic, partitions: [1] }]);
      }
    },
  });
  const server: Server = createServer((req, res) => {
    void registry.metrics().then((text) => {
      res.setHeader('Content-Type', registry.contentType);
      res.end(text);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      await consumer.disconnect();
      await new Promise((r) => server.close(r));
    },
  };
}

describe('dashboard page in headless Chromium', () => {
  let browser: Browser | undefined;
  let producer: Producer | undefined;
  let standIn: StandIn | undefined;
  let lag: LagServer | undefined;
  let writing = false;
  let writer: Promise<void> = Promise.resolve();

  beforeAll(() => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`Chromium is not installed at ${CHROMIUM}: the dashboard test needs Debian's chromium package (apt-get install -y chromium; .ci/run installs it). It never downloads a browser.`);
    }
  });

  afterAll(async () => {
    writing = false;
    await writer;
    await browser?.close();
    await lag?.close();
    await standIn?.close();
    await producer?.disconnect();
  });

  it('shows live lag per partition, status colours, a moving chart and the invalidator figures', async () => {
    const topic = uniqueName('dash-topic');
    const groupId = uniqueName('dash-group');
    await createTopic(topic, 2);
    producer = kafka('dash-producer').producer();
    await producer.connect();
    // Two messages no invalidator can read: they must show up as dead letters.
    await producer.send({ topic, messages: [{ partition: 0, value: '{not json' }, { partition: 0, value: 'nope' }] });
    writing = true;
    writer = (async () => {
      for (let i = 0; writing; i++) {
        const occurredAt = new Date(Date.now() - 25).toISOString();
        await producer!.send({ topic, messages: [0, 1].map((partition) => ({ partition, value: JSON.stringify({ i, occurredAt }) })) });
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    standIn = await startStandInInvalidator(topic, groupId);

    lag = await startLagServer({
      port: 0,
      brokers: stackEnv.kafkaBrokers,
      groupId,
      topics: [topic],
      intervalMs: 300,
      windowMs: 1_500,
      stopAfterMs: 60_000,
      invalidatorMetricsUrls: [`${standIn.url}/metrics`],
      invalidatorWindowMs: 5_000,
      mappingCount: () => 7,
      dashboardPollMs: 500,
      logger: pino({ level: 'error' }),
    });

    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`${lag.url}/dashboard`);
    expect(await page.title()).toBe(`Consumer lag · ${groupId}`);

    // Partition rows with numbers; the stuck partition turns STALL (orange), the other stays OK (green).
    const row = (partition: number) => page.locator(`#partitions tr[data-partition="${topic}/${partition}"]`);
    const statusText = (partition: number) => row(partition).locator('.status').innerText({ timeout: 1_000 });
    await eventually('partition 0 shows OK and the stuck partition 1 shows STALL', async () => (await statusText(0)) === 'OK' && (await statusText(1)) === 'STALL', 20_000);
    const cells = async (partition: number) => (await row(partition).locator('td').allInnerTexts()).map((s) => s.trim());
    const [topicCell, partitionCell, committed, end, lagCell, lagSeconds] = await cells(1);
    expect([topicCell, partitionCell]).toEqual([topic, '1']);
    expect(Number(end.replace(/,/g, ''))).toBeGreaterThan(0);
    expect(Number(lagCell.replace(/,/g, ''))).toBeGreaterThan(0);
    expect(Number(end.replace(/,/g, '')) - (committed === 'none' ? 0 : Number(committed.replace(/,/g, '')))).toBe(Number(lagCell.replace(/,/g, '')));
    expect(lagSeconds).toMatch(/^(≥ )?[\d.]+ (ms|s|min|h)$/);
    // Reached through the element: this Node project has no DOM globals in its types.
    const colour = (partition: number) => row(partition).locator('.status').evaluate((el): string => el.ownerDocument.defaultView.getComputedStyle(el).backgroundColor);
    expect(await colour(0)).toBe('rgb(46, 125, 50)');
    expect(await colour(1)).toBe('rgb(239, 108, 0)');
    expect(await page.locator('#group-status').innerText()).toBe('STALL');
    expect(await page.locator('#group-members').innerText()).toBe('1');

    // The invalidator's figures: throughput, two dead letters, apply latency, mappings from the registry.
    await eventually('throughput and latency figures appear', async () => Number(await page.locator('#throughput').innerText()) > 0 && /\d/.test(await page.locator('#latency-p99').innerText()), 20_000);
    expect(await page.locator('#dead-lettered').innerText()).toBe('2');
    expect(await page.locator('#dead-lettered-sub').innerText()).toContain('BAD_JSON 2');
    expect(await page.locator('#latency-p50').innerText()).toMatch(/^[\d.]+ (ms|s)$/);
    expect(await page.locator('#mappings').innerText()).toBe('7');
    expect(await page.locator('#mappings-sub').innerText()).toBe('from the registry');

    // The chart has a line per partition with points, and it moves: more points a moment later.
    const chartPoints = () => page.locator('#lag-chart polyline').evaluateAll((lines) => lines.reduce((n, l) => n + (l.getAttribute('points') ?? '').trim().split(/\s+/).filter(Boolean).length, 0));
    const seriesCount = () => page.locator('#lag-chart polyline').evaluateAll((lines) => new Set(lines.map((l) => l.getAttribute('data-series'))).size);
    await eventually('the chart has points for both partitions', async () => (await seriesCount()) === 2 && (await chartPoints()) >= 4, 10_000);
    const before = await chartPoints();
    const updatedBefore = await page.locator('#updated').innerText();
    await eventually('the chart grows and the page says it updated', async () => (await chartPoints()) > before && (await page.locator('#updated').innerText()) !== updatedBefore, 10_000);
    const stuckLagNow = Number((await cells(1))[4].replace(/,/g, ''));
    expect(stuckLagNow).toBeGreaterThan(Number(lagCell.replace(/,/g, '')));

    // Switching the chart to seconds redraws it in seconds.
    await page.click('#show-seconds');
    expect(await page.locator('#show-seconds').getAttribute('aria-pressed')).toBe('true');
    expect(await page.locator('#lag-chart text').first().textContent()).toMatch(/ (ms|s|min|h)$/);

    expect(await page.locator('#errors').isVisible()).toBe(false);
    expect(pageErrors).toEqual([]);
  });
});
