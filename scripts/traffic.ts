// A small, bounded traffic generator for the examples: keeps changing products in the catalog
// (price changes, category moves) and reading them back through the storefront. Nothing is
// printed per request; counters go to a summary callback.
//
//   npx ts-node --transpile-only scripts/traffic.ts --catalog-url http://127.0.0.1:3010 \
//     --storefront-url http://127.0.0.1:3020 --writes 5 --reads 50 --duration 30s
//
// Stops after --duration or on SIGINT/SIGTERM and prints the final summary.
import { Command } from 'commander';

export interface TrafficOptions {
  catalogUrl: string;
  storefrontUrl: string;
  /** Product changes per second. Default 5. */
  writesPerSecond?: number;
  /** Storefront reads per second (70% products, 20% category listings, 10% the tenant listing). Default 50. */
  readsPerSecond?: number;
  /** Products the generator creates and then keeps changing. Default 20. */
  products?: number;
  /** Categories the products move between. Default 4. */
  categories?: number;
  tenant?: string;
  /** Prefix of product and category ids, so two runs can share a catalog. Default "demo". */
  idPrefix?: string;
  /** Stop by itself after this long; default: run until stop(). */
  durationMs?: number;
  /** Default 1000. */
  summaryIntervalMs?: number;
  onSummary?: (summary: TrafficSummary) => void;
  /** Requests of each kind in flight at most; beyond it ticks are skipped (counted as `skipped`). Default 32. */
  maxInFlight?: number;
  requestTimeoutMs?: number;
  random?: () => number;
}

export interface TrafficSummary {
  elapsedMs: number;
  writes: number;
  writeErrors: number;
  reads: number;
  readErrors: number;
  /**
   * Product reads that returned a version older than one the catalog had already acknowledged
   * before the read started: the window in which the cache had not been invalidated yet.
   */
  staleReads: number;
  /** Requests not sent because maxInFlight were already waiting (the services are slower than the asked rate). */
  skipped: number;
  lastError?: string;
}

export interface TrafficRun {
  /** Resolves with the final summary after it stopped (duration reached or stop()). */
  readonly done: Promise<TrafficSummary>;
  stop(): Promise<TrafficSummary>;
  summary(): TrafficSummary;
}

/** How many operations should have been started `elapsedMs` into a run at `perSecond`. */
export function operationsDue(perSecond: number, elapsedMs: number): number {
  return Math.floor((perSecond * elapsedMs) / 1000);
}

/** "30s", "2m", "500ms", "1h" or a bare number of seconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) throw new Error(`--duration "${text}" is not a duration like 30s, 2m, 500ms`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(match[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(match[1]) * unit);
}

interface ProductState {
  id: string;
  categoryId: string;
  price: number;
  /** Highest version the catalog acknowledged. */
  ackedVersion: number;
}

export function startTraffic(options: TrafficOptions): TrafficRun {
  const o = {
    writesPerSecond: 5,
    readsPerSecond: 50,
    products: 20,
    categories: 4,
    tenant: 'demo',
    idPrefix: 'demo',
    summaryIntervalMs: 1000,
    maxInFlight: 32,
    requestTimeoutMs: 5000,
    random: Math.random,
    ...options,
  };
  const catalog = o.catalogUrl.replace(/\/+$/, '');
  const storefront = o.storefrontUrl.replace(/\/+$/, '');
  const categories = Array.from({ length: o.categories }, (_, i) => `${o.idPrefix}-c${i}`);
  const products: ProductState[] = [];
  const counters: TrafficSummary = { elapsedMs: 0, writes: 0, writeErrors: 0, reads: 0, readErrors: 0, staleReads: 0, skipped: 0 };
  const inFlight = new Set<Promise<void>>();
  let writesInFlight = 0;
  let readsInFlight = 0;
  let startedAt = Date.now();
  let writesStarted = 0;
  let readsStarted = 0;
  let stopping = false;
  let ticker: NodeJS.Timeout | undefined;
  let summaryTimer: NodeJS.Timeout | undefined;
  let durationTimer: NodeJS.Timeout | undefined;

  const pick = <T>(items: readonly T[]): T => items[Math.floor(o.random() * items.length)];
  const fail = (error: unknown) => (counters.lastError = error instanceof Error ? error.message : String(error));
  const snapshot = (): TrafficSummary => ({ ...counters, elapsedMs: Date.now() - startedAt });

  async function call(method: string, url: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
    const response = await fetch(url, {
      method,
      headers: body === undefined ? { accept: 'application/json' } : { 'content-type': 'application/json', accept: 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(o.requestTimeoutMs),
    });
    const json = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    return { status: response.status, json };
  }

  async function seed(): Promise<void> {
    for (let i = 0; i < o.products; i++) {
      const id = `${o.idPrefix}-p${i}`;
      const created = await call('POST', `${catalog}/products`, {
        id,
        tenant: o.tenant,
        name: `Demo product ${i}`,
        price: 10 + i,
        categoryId: categories[i % categories.length],
      });
      // 409: an earlier run created it; continue from what the catalog has.
      const product = created.status === 409 ? (await call('GET', `${catalog}/products/${id}`)).json : created.json;
      if (typeof product.version !== 'number')
        throw new Error(`catalog did not return product ${id}: ${JSON.stringify(product).slice(0, 200)}`);
      products.push({ id, categoryId: String(product.categoryId), price: Number(product.price), ackedVersion: product.version });
    }
  }

  async function write(): Promise<void> {
    const product = pick(products);
    const move = o.random() < 0.3 && categories.length > 1;
    const result = move
      ? await call('POST', `${catalog}/products/${product.id}/move`, {
          categoryId: pick(categories.filter((c) => c !== product.categoryId)),
        })
      : await call('PATCH', `${catalog}/products/${product.id}`, { price: Math.round((5 + o.random() * 95) * 100) / 100 });
    if (result.status !== 200) throw new Error(`catalog answered ${result.status}: ${JSON.stringify(result.json).slice(0, 200)}`);
    const version = Number(result.json.version);
    if (version > product.ackedVersion) {
      product.ackedVersion = version;
      product.categoryId = String(result.json.categoryId);
      product.price = Number(result.json.price);
    }
  }

  async function read(): Promise<void> {
    const dice = o.random();
    if (dice < 0.7) {
      const product = pick(products);
      const ackedBefore = product.ackedVersion;
      const result = await call('GET', `${storefront}/products/${product.id}`);
      if (result.status !== 200) throw new Error(`storefront answered ${result.status}: ${JSON.stringify(result.json).slice(0, 200)}`);
      if (Number(result.json.version) < ackedBefore) counters.staleReads++;
    } else {
      // Category listings (invalidated by key) and the tenant listing (invalidated by tag).
      const path = dice < 0.9 ? `/categories/${pick(categories)}/products` : `/tenants/${o.tenant}/products`;
      const result = await call('GET', storefront + path);
      if (result.status !== 200) throw new Error(`storefront answered ${result.status}: ${JSON.stringify(result.json).slice(0, 200)}`);
    }
  }

  function launch(kind: 'write' | 'read'): void {
    const operation = (kind === 'write' ? write() : read()).then(
      () => void (kind === 'write' ? counters.writes++ : counters.reads++),
      (error: unknown) => {
        if (kind === 'write') counters.writeErrors++;
        else counters.readErrors++;
        fail(error);
      },
    );
    if (kind === 'write') writesInFlight++;
    else readsInFlight++;
    const tracked = operation.finally(() => {
      if (kind === 'write') writesInFlight--;
      else readsInFlight--;
      inFlight.delete(tracked);
    });
    inFlight.add(tracked);
  }

  function tick(): void {
    const elapsed = Date.now() - startedAt;
    for (const [kind, rate] of [
      ['write', o.writesPerSecond],
      ['read', o.readsPerSecond],
    ] as const) {
      const due = operationsDue(rate, elapsed);
      while ((kind === 'write' ? writesStarted : readsStarted) < due) {
        if (kind === 'write') writesStarted++;
        else readsStarted++;
        if ((kind === 'write' ? writesInFlight : readsInFlight) >= o.maxInFlight) counters.skipped++;
        else launch(kind);
      }
    }
  }

  let resolveDone!: (summary: TrafficSummary) => void;
  const done = new Promise<TrafficSummary>((resolve) => (resolveDone = resolve));

  async function stop(): Promise<TrafficSummary> {
    if (!stopping) {
      stopping = true;
      [ticker, summaryTimer, durationTimer].forEach((t) => t && clearTimeout(t));
      await Promise.allSettled([...inFlight]);
      const final = snapshot();
      o.onSummary?.(final);
      resolveDone(final);
    }
    return done;
  }

  const seeding: Promise<void> = seed().then(
    () => {
      if (stopping) return;
      startedAt = Date.now();
      ticker = setInterval(tick, 20);
      summaryTimer = setInterval(() => o.onSummary?.(snapshot()), o.summaryIntervalMs);
      if (o.durationMs !== undefined) durationTimer = setTimeout(() => void stop(), o.durationMs);
    },
    (error: unknown) => {
      fail(error);
      counters.writeErrors++;
      void stop();
    },
  );
  inFlight.add(seeding); // stop() waits for the seeding requests too

  return { done, stop, summary: snapshot };
}

function formatSummary(s: TrafficSummary): string {
  const seconds = Math.max(s.elapsedMs / 1000, 0.001);
  const rate = (n: number) => (n / seconds).toFixed(1);
  return `traffic ${seconds.toFixed(0)}s  writes ${s.writes} (${rate(s.writes)}/s, ${s.writeErrors} err)  reads ${s.reads} (${rate(s.reads)}/s, ${s.readErrors} err)  stale ${s.staleReads}  skipped ${s.skipped}${s.lastError ? `  last error: ${s.lastError}` : ''}`;
}

async function main(): Promise<void> {
  const program = new Command()
    .name('traffic')
    .description('changes products in example-catalog and reads them through example-storefront')
    .option('--catalog-url <url>', 'example-catalog base URL', process.env.CATALOG_URL)
    .option('--storefront-url <url>', 'example-storefront base URL', process.env.STOREFRONT_URL)
    .option('--writes <perSecond>', 'product changes per second', '5')
    .option('--reads <perSecond>', 'storefront reads per second', '50')
    .option('--products <n>', 'products to create and change', '20')
    .option('--categories <n>', 'categories to move them between', '4')
    .option('--tenant <tenant>', 'tenant of the products', 'demo')
    .option('--prefix <prefix>', 'id prefix of products and categories', 'demo')
    .option('--duration <duration>', 'stop after this long (30s, 2m); default: until Ctrl-C')
    .parse();
  const opts = program.opts<Record<string, string | undefined>>();
  if (!opts.catalogUrl || !opts.storefrontUrl)
    program.error('--catalog-url and --storefront-url (or CATALOG_URL and STOREFRONT_URL) are required');
  const run = startTraffic({
    catalogUrl: opts.catalogUrl!,
    storefrontUrl: opts.storefrontUrl!,
    writesPerSecond: Number(opts.writes),
    readsPerSecond: Number(opts.reads),
    products: Number(opts.products),
    categories: Number(opts.categories),
    tenant: opts.tenant,
    idPrefix: opts.prefix,
    durationMs: opts.duration ? parseDuration(opts.duration) : undefined,
    onSummary: (s) => console.log(formatSummary(s)),
  });
  process.once('SIGINT', () => void run.stop());
  process.once('SIGTERM', () => void run.stop());
  const final = await run.done;
  process.exitCode = final.writes + final.reads > 0 ? 0 : 1;
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
