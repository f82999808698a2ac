// Micro-benchmark: cost of MappingResolver.resolve() per event, the invalidator's per-event
// registry work. Run:
//   npx ts-node --transpile-only -r tsconfig-paths/register libs/registry-core/bench/resolve.bench.ts
// Prints ns/event and events/s per scenario (median of several rounds, after warm-up).
import type { EntityUpdated } from '@app/contracts';
import { Mapping, MappingSetResolver } from '@app/registry-core';

const EVENTS = 200_000;
const ROUNDS = 7;

const catalog: Mapping = {
  id: 'catalog.product',
  entityType: 'product',
  owner: 'catalog',
  version: 1,
  keys: [
    { template: 'product:{entityId}', action: 'warm', warmFrom: 'after', ttlSeconds: 3600 },
    { template: 'category:{after.categoryId}:products', action: 'delete' },
    { template: 'category:{before.categoryId}:products', action: 'delete' },
  ],
  tags: ['tenant:{tenant}:products'],
};

function events(n: number, entityTypes: string[], tenants: string[]): EntityUpdated[] {
  return Array.from({ length: n }, (_, i) => ({
    eventId: `e${i}`,
    entityType: entityTypes[i % entityTypes.length],
    entityId: `p${i % 50_000}`,
    version: i + 1,
    tenant: tenants[i % tenants.length],
    occurredAt: '2026-01-01T00:00:00.000Z',
    before: { name: 'Lamp', price: 19.5, categoryId: `c${i % 97}` },
    after: { name: 'Lamp', price: 20, categoryId: `c${(i + 1) % 97}` },
  }));
}

function measure(name: string, resolver: MappingSetResolver, batch: EntityUpdated[]): void {
  let sink = 0;
  const run = () => {
    const started = process.hrtime.bigint();
    for (let i = 0; i < batch.length; i++) {
      const r = resolver.resolve(batch[i]);
      sink += r.keys.length + r.tags.length;
    }
    return Number(process.hrtime.bigint() - started) / batch.length;
  };
  run();
  run(); // warm-up: let V8 optimise the closures
  const rounds = Array.from({ length: ROUNDS }, run).sort((a, b) => a - b);
  const median = rounds[Math.floor(ROUNDS / 2)];
  const perEvent = sink / (batch.length * (ROUNDS + 2));
  console.log(
    `${name.padEnd(58)} ${median.toFixed(0).padStart(6)} ns/event  ${(1e9 / median / 1e6).toFixed(2).padStart(5)} M events/s  (${perEvent.toFixed(1)} keys+tags/event, min ${rounds[0].toFixed(0)} ns, max ${rounds[ROUNDS - 1].toFixed(0)} ns)`,
  );
}

function main(): void {
  console.log(`node ${process.version}, ${EVENTS} events per round, median of ${ROUNDS} rounds\n`);

  const one = MappingSetResolver.compile([catalog]);
  measure('catalog: 3 keys (1 warm from after) + 1 tag', one, events(EVENTS, ['product'], ['acme', 'globex']));

  const deleteOnly = MappingSetResolver.compile([
    { ...catalog, keys: catalog.keys.map((k) => ({ template: k.template, action: 'delete' as const })) },
  ]);
  measure('same, delete only (no JSON.stringify of after)', deleteOnly, events(EVENTS, ['product'], ['acme']));

  // 50 entity types x 4 mappings each (one tenant-specific): lookups in a bigger index.
  const many: Mapping[] = [];
  const types = Array.from({ length: 50 }, (_, i) => `type${i}`);
  for (const type of types) {
    for (let m = 0; m < 4; m++) {
      many.push({
        ...catalog,
        id: `${type}.m${m}`,
        entityType: type,
        tenant: m === 3 ? 'acme' : undefined,
        keys: catalog.keys.map((k) => ({ ...k, template: `${type}:m${m}:${k.template}` })),
        tags: [`${type}:m${m}:tenant:{tenant}`],
      });
    }
  }
  measure(
    '200 mappings / 50 types, 3-4 mappings match each event',
    MappingSetResolver.compile(many),
    events(EVENTS, types, ['acme', 'globex']),
  );

  measure('no mapping for the entity type', one, events(EVENTS, ['order'], ['acme']));

  const started = process.hrtime.bigint();
  MappingSetResolver.compile(many);
  console.log(
    `\ncompile of the 200-mapping set (done once per change): ${(Number(process.hrtime.bigint() - started) / 1e6).toFixed(1)} ms`,
  );
}

main();
