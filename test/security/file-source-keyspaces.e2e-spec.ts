// MAPPINGS_SOURCE=file enforces keyspaces like the compacted topic does: the file declares them
// next to its mappings (`keyspaces: { prefixes, entityTypes }`, the registry's keyspaces file
// format), a mapping outside its owner's keyspaces dead-letters its events (FOREIGN_KEYSPACE),
// a granted team may map the entity type inside its own prefixes, a bad declaration stops
// startup naming the file and the field, and with KEYSPACES_REQUIRED=true a file declaring no
// keyspace stops startup naming the variable. Real invalidator processes, real Kafka + Redis.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import type { Producer } from 'kafkajs';
import { stringify } from 'yaml';
import { CacheProtocol } from '@app/cache-protocol';
import { DLQ_HEADERS } from '@app/contracts';
import { InvalidatorProcess, spawnInvalidator } from '../../scripts/support/invalidator-process';
import { readDlqTopic } from '../support/dlq';
import { productEvent, publish } from '../support/events';
import { fillVersion, invalidatorTestEnv, InvalidatorTestEnv, SHOP_MAPPINGS } from '../support/invalidator-env';
import { eventually, kafka, redis, uniqueName } from '../support/stack-env';

const dir = mkdtempSync(join(tmpdir(), 'file-keyspaces-'));
function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, stringify(content));
  return path;
}

const KEYSPACES = {
  prefixes: {
    'product:': 'catalog',
    'product-summary:': 'catalog',
    'category:': 'catalog',
    'tenant:': 'catalog',
    'promo:': 'promo',
    'search:': 'search',
  },
  entityTypes: { product: { team: 'catalog', grants: ['search'] }, campaign: 'promo' },
};
/** The attack: promo's own entity type, catalog's key, warmed for 30 days. */
const PROMO_STEAL = {
  id: 'promo.steal',
  entityType: 'campaign',
  owner: 'promo',
  keys: [
    { template: 'product:{entityId}', action: 'warm', warmFrom: 'after', ttlSeconds: 2_592_000 },
    { template: 'promo:{entityId}', action: 'delete' },
  ],
  tags: [],
};
/** search was granted `product`: its own keys for catalog's entity type are fine. */
const SEARCH_INDEX = {
  id: 'search.product',
  entityType: 'product',
  owner: 'search',
  keys: [{ template: 'search:product:{entityId}', action: 'tombstone', tombstoneTtlSeconds: 600 }],
  tags: [],
};

/** Starts an invalidator expected to refuse its config; resolves with its exit code and output. */
async function refusedStart(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const proc = await spawnInvalidator(env, { waitReady: false });
  const code = await Promise.race([proc.exited, new Promise<'running'>((r) => setTimeout(() => r('running'), 60_000))]);
  if (code === 'running') await proc.kill9();
  return { code: code === 'running' ? null : code, output: proc.output() };
}

describe('MAPPINGS_SOURCE=file with keyspaces (real Kafka + Redis, invalidator processes)', () => {
  let t: InvalidatorTestEnv;
  let proc: InvalidatorProcess | undefined;
  let producer: Producer;
  let r: Redis;
  let protocol: CacheProtocol;

  beforeAll(async () => {
    t = await invalidatorTestEnv({ partitions: 1 });
    producer = kafka('e2e-file-ks-producer').producer();
    await producer.connect();
    r = redis();
    protocol = new CacheProtocol(r);
  });

  afterAll(async () => {
    await producer?.disconnect();
    if (proc && proc.child.exitCode === null) await proc.terminate();
    r?.disconnect();
  });

  it("dead-letters (FOREIGN_KEYSPACE) an event whose mapping in the file writes another team's keys; owner and granted team are applied", async () => {
    const mappingsFile = file('with-keyspaces.yaml', { keyspaces: KEYSPACES, mappings: [...SHOP_MAPPINGS, PROMO_STEAL, SEARCH_INDEX] });
    proc = await spawnInvalidator({ ...t.env, MAPPINGS_FILE: mappingsFile, KEYSPACES_REQUIRED: 'true' });

    const id = uniqueName('p');
    await fillVersion(protocol, `product:${id}`, 4, JSON.stringify({ price: 4, by: 'catalog' }));
    const attack = { ...productEvent(id, Number.MAX_SAFE_INTEGER, { price: 0, by: 'promo' }), entityType: 'campaign' };
    await publish(producer, t.topic, [attack]);
    await eventually('the attack is dead-lettered', async () => (await readDlqTopic(t.dlqTopic)).length === 1, 30_000, 200);
    const [letter] = await readDlqTopic(t.dlqTopic);
    expect(letter.headers[DLQ_HEADERS.reasonCode]).toBe('FOREIGN_KEYSPACE');
    expect(letter.headers[DLQ_HEADERS.reason]).toContain('prefix "product:" is owned by team "catalog"');
    const untouched = await protocol.inspect(`product:${id}`);
    expect(untouched.entry?.version).toBe(4);
    expect((await protocol.inspect(`promo:${id}`)).tombstoneVersion).toBeUndefined();

    // catalog's own event, and search's granted mapping of the same entity type, are applied.
    await publish(producer, t.topic, [productEvent(id, 5, { price: 5 })]);
    await eventually(
      'catalog and search keys applied',
      async () =>
        (await protocol.inspect(`product-summary:${id}`)).tombstoneVersion === 5 &&
        (await protocol.inspect(`search:product:${id}`)).tombstoneVersion === 5,
    );
    expect(await readDlqTopic(t.dlqTopic)).toHaveLength(1);
    await proc.terminate();
  });

  it('a bad keyspace declaration stops startup (exit 78) naming the file and the field', async () => {
    const cases: { name: string; keyspaces: unknown; field: RegExp }[] = [
      {
        name: 'bad-prefix.yaml',
        keyspaces: { prefixes: { '~x:': 'catalog' }, entityTypes: { product: 'catalog' } },
        field: /keyspaces\.prefixes\["~x:"\]/,
      },
      { name: 'bad-team.yaml', keyspaces: { prefixes: { 'product:': 'no such team!' } }, field: /keyspaces\.prefixes\["product:"\]/ },
      {
        name: 'bad-grant.yaml',
        keyspaces: { entityTypes: { product: { team: 'catalog', grants: ['ok', 'b a d'] } } },
        field: /keyspaces\.entityTypes\.product\.grants\[1\]/,
      },
      {
        name: 'overlap.yaml',
        keyspaces: { prefixes: { 'product:': 'catalog', 'product:x': 'promo' } },
        field: /keyspaces\.prefixes\["product:x"\].*overlaps prefix "product:"/,
      },
      { name: 'unknown-field.yaml', keyspaces: { prefix: { 'product:': 'catalog' } }, field: /keyspaces\.prefix\b/ },
    ];
    for (const c of cases) {
      const path = file(c.name, { keyspaces: c.keyspaces, mappings: SHOP_MAPPINGS });
      const { code, output } = await refusedStart({ ...t.env, MAPPINGS_FILE: path, KEYSPACES_REQUIRED: 'false' });
      expect({ case: c.name, code }).toEqual({ case: c.name, code: 78 });
      expect(output).toContain(path);
      expect(output).toMatch(c.field);
    }
  });

  it('KEYSPACES_REQUIRED=true with a file that declares no keyspace stops startup (exit 78) naming the variable and the file', async () => {
    const path = file('no-keyspaces.yaml', { mappings: SHOP_MAPPINGS });
    const { code, output } = await refusedStart({ ...t.env, MAPPINGS_FILE: path, KEYSPACES_REQUIRED: 'true' });
    expect(code).toBe(78);
    expect(output).toMatch(/KEYSPACES_REQUIRED/);
    expect(output).toContain(path);
  });
});
