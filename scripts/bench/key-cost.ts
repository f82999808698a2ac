// Redis CPU per invalidated key, by stored state, for the current batch script, the earlier
// three-key script (fixtures/three-key-invalidateKeys.lua) and a bare reference (one GETRANGE and
// one SET ... PX per key, no logic): what the protocol's Lua and commands cost on top of the
// minimum a read-then-write needs. Starts its own redis-server on a free port.
//
//   npm run bench:key-cost [-- --keys 60000 --rounds 5]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { encodeEnvelope, encodeKeyState, LUA_SCRIPTS } from '@app/cache-protocol';
import { startRedisNode, stopRedisNode } from '../stack/redis';

const args = process.argv.slice(2);
const arg = (name: string, fallback: number) => (args.includes(`--${name}`) ? Number(args[args.indexOf(`--${name}`) + 1]) : fallback);
const KEYS = arg('keys', 60_000);
const ROUNDS = arg('rounds', 5);
const PER_CALL = 64;

const BARE = `local r = {}
for i = 1, #KEYS do
  redis.pcall('GETRANGE', KEYS[i], 0, 111)
  redis.call('SET', KEYS[i], '4|0000000000000002|0001765084800000|0000000000000000|........................|', 'PX', '600000')
  r[i] = 1
end
return r`;

const SCRIPTS: Record<string, string> = {
  'single-key (current)': LUA_SCRIPTS.invalidateKeys.lua,
  'three-key (earlier)': readFileSync(join(__dirname, 'fixtures', 'three-key-invalidateKeys.lua'), 'utf8'),
  'bare GETRANGE + SET PX': BARE,
};
type Scenario = 'absent' | 'floor only' | 'older value';

async function cpuSeconds(r: Redis): Promise<number> {
  const info = await r.info('cpu');
  const f = (n: string) => Number(new RegExp(`${n}:([0-9.]+)`).exec(info)?.[1] ?? 0);
  return f('used_cpu_user') + f('used_cpu_sys');
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'key-cost-'));
  const node = await startRedisNode(dir);
  const r = new Redis(node.port, '127.0.0.1');
  try {
    const shas = Object.fromEntries(
      await Promise.all(Object.entries(SCRIPTS).map(async ([name, lua]) => [name, (await r.script('LOAD', lua)) as string])),
    ) as Record<string, string>;
    const keys = Array.from({ length: KEYS }, (_, i) => `product:${i}`);
    const apply = async (name: string, version: number) => {
      const p = r.pipeline();
      for (let i = 0; i < KEYS; i += PER_CALL) {
        const call = keys.slice(i, i + PER_CALL);
        p.evalsha(shas[name], call.length, ...call, ...call.map(() => `t${version}:600000`));
      }
      const failed = (await p.exec())?.find(([error]) => error);
      if (failed) throw failed[0] as Error;
    };
    const seedValues = async (name: string) => {
      const now = Date.now();
      const value = name.startsWith('three')
        ? encodeEnvelope({ version: 1, writtenAt: now, freshForMs: 0, namespaceGeneration: 0, payload: '{"price":0}' })
        : encodeKeyState({
            floor: 0,
            floorUntil: 0,
            leaseUntil: 0,
            token: '',
            entry: {
              version: 1,
              writtenAt: now,
              freshForMs: 0,
              namespaceGeneration: 0,
              payload: '{"price":0}',
              hardUntil: now + 3_600_000,
            },
          });
      const p = r.pipeline();
      for (const k of keys) p.set(k, value, 'PX', 3_600_000);
      await p.exec();
    };
    const results: Record<string, number[]> = {};
    /** Bytes of INFO used_memory per key: what a floor (after the tombstone) and a cached value (the seed) take. */
    const memory: Record<string, number> = {};
    const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await r.info('memory'))?.[1] ?? 0);
    for (const scenario of ['absent', 'floor only', 'older value'] as Scenario[]) {
      for (let round = 0; round < ROUNDS; round += 1) {
        for (const name of Object.keys(SCRIPTS)) {
          await r.flushall();
          const empty = await usedMemory();
          if (scenario === 'floor only') await apply(name, 1);
          if (scenario === 'older value') {
            await seedValues(name);
            memory[`cached value|${name}`] = ((await usedMemory()) - empty) / KEYS;
          }
          const before = await cpuSeconds(r);
          await apply(name, 2);
          (results[`${scenario}|${name}`] ??= []).push((((await cpuSeconds(r)) - before) * 1e6) / KEYS);
          if (scenario === 'absent') memory[`floor after a tombstone|${name}`] = ((await usedMemory()) - empty) / KEYS;
        }
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    console.log(`redis-server CPU µs per invalidated key (tombstone items, ${PER_CALL} keys/EVALSHA, ${KEYS} keys, median of ${ROUNDS})`);
    console.table(
      Object.fromEntries(
        (['absent', 'floor only', 'older value'] as Scenario[]).map((scenario) => {
          const row = Object.fromEntries(Object.keys(SCRIPTS).map((name) => [name, median(results[`${scenario}|${name}`]).toFixed(2)]));
          const ratio = median(results[`${scenario}|single-key (current)`]) / median(results[`${scenario}|three-key (earlier)`]);
          return [scenario, { ...row, 'single / three': `${ratio.toFixed(2)}x` }];
        }),
      ),
    );
    console.log('redis-server used_memory per key (bytes, the payload is 11 bytes; last round)');
    console.table(
      Object.fromEntries(
        ['floor after a tombstone', 'cached value'].map((what) => [
          what,
          Object.fromEntries(
            ['single-key (current)', 'three-key (earlier)'].map((name) => [name, Math.round(memory[`${what}|${name}`] ?? NaN)]),
          ),
        ]),
      ),
    );
  } finally {
    r.disconnect();
    await stopRedisNode(node);
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
