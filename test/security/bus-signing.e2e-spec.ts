// Signed heartbeats: any process that can XADD to the bus stream (every cache client announces
// its fills there) could send a heartbeat or a `bye` in an invalidator's name and so extend what
// the bus vouches for in other readers' L1. With BUS_SIGNING_KEY the real invalidator signs its
// heartbeats and byes; a reader holding the public key (bus.verifyKey) trusts only those, and
// ignores a forged bye. Real invalidator process, real Redis, readers in-process.
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import Redis from 'ioredis';
import { stringify } from 'yaml';
import { encodeBusMessage } from '@app/cache-protocol/bus';
import { spawnInvalidator, InvalidatorProcess } from '../../scripts/support/invalidator-process';
import { invalidatorTestEnv } from '../support/invalidator-env';
import { busMessages, L1Reader, startL1Reader } from '../support/l1-client';
import { eventually, redis, uniqueName } from '../support/stack-env';

function keyPair(): { privateKey: string; publicKey: string } {
  const k = generateKeyPairSync('ed25519');
  // one line each, as an environment variable or a config value holds them
  return {
    privateKey: k.privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64'),
    publicKey: k.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
  };
}

describe('bus: signed heartbeats and byes (real invalidator process)', () => {
  const streamKey = `~bus{${uniqueName('signed')}}`;
  const keys = keyPair();
  const stranger = keyPair();
  let invalidator: InvalidatorProcess | undefined;
  const readers: L1Reader[] = [];
  let db: Redis;

  beforeAll(async () => {
    db = redis();
    const env = await invalidatorTestEnv({
      partitions: 1,
      extra: { BUS_ENABLED: 'true', BUS_STREAM_KEY: streamKey, BUS_HEARTBEAT_MS: '100', BUS_SIGNING_KEY: keys.privateKey },
    });
    writeFileSync(env.mappingsFile, stringify({ mappings: [] }));
    invalidator = await spawnInvalidator(env.env);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(readers.map((r) => r.close()));
    await invalidator?.terminate();
    db?.disconnect();
  }, 60_000);

  it('a reader with the public key trusts the signed heartbeats and ignores a forged bye; one with another key trusts none', async () => {
    const trusting = await startL1Reader({ streamKey, maxStalenessMs: 1000, bus: { streamKey, blockMs: 200, verifyKey: keys.publicKey } });
    const wrongKey = await startL1Reader({
      streamKey,
      maxStalenessMs: 1000,
      bus: { streamKey, blockMs: 200, verifyKey: stranger.publicKey },
    });
    readers.push(trusting, wrongKey);
    await eventually('the trusting reader hears the invalidator', () => trusting.client.l1Stats().publishers.length === 1, 15_000);
    const [source] = trusting.client.l1Stats().publishers;
    expect(source).toMatch(/^invalidator-/);
    // every heartbeat in the stream carries a signature
    const beats = (await busMessages(db, streamKey)).filter((m) => m.kind === 'hb');
    expect(beats.length).toBeGreaterThan(0);
    expect(beats.every((m) => m.kind === 'hb' && typeof m.sig === 'string')).toBe(true);
    // the reader with another key ignores them all
    await eventually('the other reader ignored heartbeats', () => wrongKey.client.l1Stats().ignoredUnsigned > 0, 15_000);
    expect(wrongKey.client.l1Stats().publishers).toEqual([]);

    // a hostile process XADDs a bye in the invalidator's name (unsigned, then signed with another key)
    const ignored0 = trusting.client.l1Stats().ignoredUnsigned;
    await db.xadd(streamKey, '*', 'm', encodeBusMessage({ kind: 'bye', source, at: Date.now() }));
    await db.xadd(streamKey, '*', 'm', encodeBusMessage({ kind: 'bye', source, at: Date.now(), sig: Buffer.alloc(64).toString('base64') }));
    await eventually('both forged byes were ignored', () => trusting.client.l1Stats().ignoredUnsigned >= ignored0 + 2, 15_000);
    expect(trusting.client.l1Stats().publishers).toEqual([source]);
  });
});
