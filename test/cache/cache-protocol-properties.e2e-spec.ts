// Property-based: random interleavings of writes to the source of truth, invalidation events
// applied late, out of order and twice, tag invalidations, and readers that take a lease, load
// and fill at arbitrary moments, all against the real redis-server. Each script is atomic in
// Redis, so an interleaving of whole operations is exactly what concurrent clients can produce;
// the stress test at the end adds real concurrency inside the multi-step tag invalidation.
//
// What must hold after every step:
//  - the cached data is never older than the newest invalidation event applied so far;
//  - a fill that obtained its lease before an invalidation that changed something (or, for an
//    aggregate key, before any invalidation) never lands;
//  - the stored version never moves backwards;
//  - applying the same effect twice changes nothing the second time.
//
// The interleavings also evict or expire the key (DEL: value, floor and lease go together, as
// they live in one key), let time pass for each part of the key's state on its own (the value's
// hard TTL, the floor's TTL, the lease's TTL: their deadlines in the key are moved to the past),
// evict the tag's epoch record or member set, and replay old events (warms included). The model, checked on what a reader is actually SERVED (leaseGet):
//  - never a version older than the newest applied invalidation or warm, and never a tagged
//    value after its tag's invalidation, whatever expired or was evicted in between;
//  - no exception for a lost floor: a warm replaces a cached value and never creates one, so a
//    replayed older warm cannot land even once the value and the tombstone are both gone.
import fc from 'fast-check';
import type Redis from 'ioredis';
import {
  CacheProtocol,
  EffectOutcome,
  encodeEnvelope,
  encodeKeyState,
  invalidateKeysScript,
  invalidateScript,
  KeyEffect,
  Lease,
  TagEpoch,
  tagMembersKey,
  tagStateKey,
} from '@app/cache-protocol';
import { redis, uniqueName } from '../support/stack-env';

type Mode = 'versioned-tombstone' | 'versioned-delete' | 'aggregate';

type Step =
  | { t: 'write' }
  | { t: 'apply'; picks: number[]; warm: boolean; twice: boolean }
  | { t: 'tagInvalidate' }
  | { t: 'lease'; reader: number }
  | { t: 'load'; reader: number }
  | { t: 'fill'; reader: number }
  | { t: 'expire'; part: Part }
  | { t: 'evict'; what: Evicted };

/** A part of the key's state whose deadline passes on its own. */
type Part = 'value' | 'floor' | 'lease';
type Evicted = 'key' | 'tagState' | 'tagMembers';

// Where each deadline sits in a format-4 key (lua/includes/keyState.lua): 16 digits each.
const DEADLINE_OFFSET: Record<Part, number> = { floor: 19, lease: 36, value: 95 };

const READERS = 3;
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.constant<Step>({ t: 'write' }) },
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant('apply' as const),
      picks: fc.array(fc.nat(), { minLength: 1, maxLength: 3 }),
      warm: fc.boolean(),
      twice: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.constant<Step>({ t: 'tagInvalidate' }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('lease' as const), reader: fc.nat(READERS - 1) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('load' as const), reader: fc.nat(READERS - 1) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('fill' as const), reader: fc.nat(READERS - 1) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('expire' as const), part: fc.constantFrom<Part>('value', 'floor', 'lease') }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('evict' as const),
      what: fc.constantFrom<Evicted>('key', 'key', 'tagState', 'tagMembers'),
    }),
  },
);

interface WriteEvent {
  /** Position in the source of truth's history (what data "as of" this event means). */
  seq: number;
  /** The version the event carries: = seq for the entity's own key; unrelated numbers for an aggregate. */
  version: number;
}

interface Reader {
  lease?: Lease;
  epochs?: TagEpoch[];
  leaseStep?: number;
  loadedSeq?: number;
}

const payloadOf = (seq: number) => `seq:${seq}`;
const seqOf = (payload: string) => Number(payload.slice(4));

describe('cache protocol properties (random interleavings, real redis-server)', () => {
  let r: Redis;
  let p: CacheProtocol;

  beforeAll(() => {
    r = redis();
    p = new CacheProtocol(r, { maxKeysPerScriptCall: 2 });
  });
  afterAll(() => r.disconnect());

  async function run(mode: Mode, steps: Step[], aggregateVersions: number[]): Promise<void> {
    const key = uniqueName(`prop-${mode}`);
    const tag = uniqueName('prop-tag');
    let seq = 0;
    const events: WriteEvent[] = [];
    const readers: Reader[] = Array.from({ length: READERS }, () => ({}));
    /** Newest source-of-truth position an applied invalidation (key or tag) stands for. */
    let newestAppliedSeq = 0;
    /** Step of the last invalidation that changed something / of any invalidation. */
    let lastChangingInvalidation = -1;
    let lastAnyInvalidation = -1;
    let highestStoredVersion = -1;
    /** Highest version a floor (tombstone or warm) was applied with since the tombstone was last evicted. */
    let floorSinceEviction = 0;
    /** Seqs of older warms that landed because their floor was evicted (the documented limit). */
    const landedOnLostFloor = new Set<number>();
    /** Redis time (ms) when the tag was last invalidated: no tagged value written before it may be served. */
    let tagInvalidatedAt = 0;

    const check = async (step: number, what: string) => {
      // What a reader is served (tag epochs checked, a value of a moved tag dropped), not what is stored.
      const got = await p.leaseGet(key, { leaseTtlMs: 60_000, token: 'probe' });
      if (got.kind === 'miss' || (got.kind === 'stale' && got.lease)) await p.releaseLease({ key, token: 'probe' });
      if (got.kind !== 'hit' && got.kind !== 'stale') return;
      const dataSeq = seqOf(got.entry.payload);
      if (got.entry.tags && got.entry.writtenAt < tagInvalidatedAt) {
        throw new Error(
          `step ${step} (${what}): served a value reached through the tag, written at ${got.entry.writtenAt}, after the tag was invalidated at ${tagInvalidatedAt}`,
        );
      }
      if (landedOnLostFloor.has(dataSeq)) return;
      if (dataSeq < newestAppliedSeq)
        throw new Error(`step ${step} (${what}): served data of seq ${dataSeq} is older than applied invalidation seq ${newestAppliedSeq}`);
      if (mode !== 'aggregate') {
        if (got.entry.version < highestStoredVersion)
          throw new Error(`step ${step} (${what}): version moved back from ${highestStoredVersion} to ${got.entry.version}`);
        highestStoredVersion = got.entry.version;
      }
    };

    for (let i = 0; i < steps.length; i += 1) {
      const step = steps[i];
      switch (step.t) {
        case 'write': {
          seq += 1;
          events.push({ seq, version: mode === 'aggregate' ? aggregateVersions[seq % aggregateVersions.length] : seq });
          break;
        }
        case 'apply': {
          if (events.length === 0) break;
          const picked = step.picks.map((n) => events[n % events.length]);
          const effects = picked.map((e): KeyEffect => {
            if (mode === 'versioned-tombstone' && step.warm)
              return {
                key,
                version: e.version,
                action: 'warm',
                tombstoneTtlMs: 60_000,
                value: payloadOf(e.seq),
                ttlMs: 60_000,
                tags: [tag],
              };
            return { key, version: e.version, action: mode === 'versioned-delete' ? 'delete' : 'tombstone', tombstoneTtlMs: 60_000 };
          });
          const apply = async (): Promise<EffectOutcome[]> => {
            const outcomes = await p.applyKeyEffects(effects);
            outcomes.forEach((o, n) => {
              if (effects[n].action !== 'warm') lastAnyInvalidation = i;
              if (o === 'deleted' || o === 'tombstoned') lastChangingInvalidation = i;
              if (o === 'warmed' && picked[n].seq < newestAppliedSeq) {
                // A warm only replaces a cached value, so not even a lost floor lets an older one land.
                throw new Error(
                  `step ${i}: a replayed warm of version ${picked[n].version} landed after seq ${newestAppliedSeq} was applied (floor since eviction ${floorSinceEviction})`,
                );
              }
            });
            for (const e of effects) if (mode === 'versioned-tombstone') floorSinceEviction = Math.max(floorSinceEviction, e.version);
            return outcomes;
          };
          await apply();
          for (const e of picked) newestAppliedSeq = Math.max(newestAppliedSeq, e.seq);
          if (step.twice) {
            const before = await p.inspect(key);
            await apply();
            const after = await p.inspect(key);
            expect({ entry: after.entry, tombstone: after.tombstoneVersion }).toEqual({
              entry: before.entry,
              tombstone: before.tombstoneVersion,
            });
          }
          break;
        }
        case 'tagInvalidate': {
          // As the invalidator applies one event: its key effect (for the entity's own key; an
          // aggregate key is only reached through the tag), then its tags.
          const newest = events[events.length - 1];
          if (mode !== 'aggregate' && newest) {
            await p.applyKeyEffects([
              { key, version: newest.version, action: mode === 'versioned-delete' ? 'delete' : 'tombstone', tombstoneTtlMs: 60_000 },
            ]);
            if (mode === 'versioned-tombstone') floorSinceEviction = Math.max(floorSinceEviction, newest.version);
          }
          await p.invalidateTags([{ tag, version: seq, tombstoneTtlMs: 60_000 }]);
          const [sec, usec] = await r.time();
          tagInvalidatedAt = Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
          newestAppliedSeq = Math.max(newestAppliedSeq, seq);
          lastAnyInvalidation = i;
          lastChangingInvalidation = i;
          break;
        }
        case 'lease': {
          const reader = readers[step.reader];
          if (reader.lease) break;
          const got = await p.leaseGet(key, { leaseTtlMs: 60_000 });
          if (got.kind === 'miss') {
            reader.lease = got.lease;
            reader.leaseStep = i;
            reader.epochs = await p.readTagEpochs([tag]);
            reader.loadedSeq = undefined;
          }
          break;
        }
        case 'load': {
          const reader = readers[step.reader];
          if (reader.lease && reader.loadedSeq === undefined) reader.loadedSeq = seq;
          break;
        }
        case 'expire': {
          // time passes for one part: its deadline moves to the past (the key's TTL, the latest
          // of them, is left as it is: the scripts must judge each part by its own deadline)
          const raw = await r.getrange(key, 0, DEADLINE_OFFSET.value + 15);
          const present = step.part === 'value' ? raw.length > 78 : raw.length >= 78;
          if (raw.startsWith('4|') && present) await r.setrange(key, DEADLINE_OFFSET[step.part], '0000000000000001');
          if (step.part === 'floor') floorSinceEviction = 0;
          break;
        }
        case 'evict': {
          const victim = { key, tagState: tagStateKey(tag), tagMembers: tagMembersKey(tag) }[step.what];
          await r.del(victim); // the key: value, floor and lease go together
          if (step.what === 'key') floorSinceEviction = 0;
          break;
        }
        case 'fill': {
          const reader = readers[step.reader];
          if (!reader.lease || reader.loadedSeq === undefined) break;
          const version = mode === 'aggregate' ? 0 : reader.loadedSeq;
          const outcome = await p.fill(reader.lease, version, payloadOf(reader.loadedSeq), { ttlMs: 60_000, tags: reader.epochs });
          if (outcome === 'filled' && reader.loadedSeq < newestAppliedSeq)
            throw new Error(`step ${i}: a fill of seq ${reader.loadedSeq} landed after the invalidation of seq ${newestAppliedSeq}`);
          if (outcome === 'filled') landedOnLostFloor.delete(reader.loadedSeq);
          const guard = mode === 'aggregate' ? lastAnyInvalidation : lastChangingInvalidation;
          if (outcome === 'filled' && guard > (reader.leaseStep ?? 0)) {
            throw new Error(
              `step ${i}: a fill whose lease was taken at step ${reader.leaseStep} landed after the invalidation at step ${guard}`,
            );
          }
          readers[step.reader] = {};
          break;
        }
      }
      await check(i, step.t);
    }
  }

  const scenario = (mode: Mode) =>
    fc.asyncProperty(
      fc.array(stepArb, { minLength: 5, maxLength: 30 }),
      fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 4 }),
      (steps, versions) => run(mode, steps, versions),
    );

  it('versioned keys with tombstones and warm rewrites', async () => {
    await fc.assert(scenario('versioned-tombstone'), { numRuns: 1000 });
  });

  it('versioned keys invalidated by plain delete (no tombstone)', async () => {
    await fc.assert(scenario('versioned-delete'), { numRuns: 200 });
  });

  it('aggregate keys (version 0), invalidated with versions of unrelated entities', async () => {
    await fc.assert(scenario('aggregate'), { numRuns: 500 });
  });

  it('a tag invalidation racing many concurrent fills never leaves data older than it', async () => {
    const tag = uniqueName('race-tag');
    const keys = Array.from({ length: 40 }, () => uniqueName('race-key'));
    let seq = 0;
    for (let round = 0; round < 15; round += 1) {
      // Readers take leases and read the tag epoch at the current seq, then the source changes
      // and its tag invalidation runs while the readers join the tag and fill.
      const loadedSeq = seq;
      const readers = await Promise.all(
        keys.map(async (key) => {
          const got = await p.leaseGet(key, { leaseTtlMs: 60_000 });
          return got.kind === 'miss' ? { lease: got.lease, epochs: await p.readTagEpochs([tag]) } : undefined;
        }),
      );
      seq += 1;
      await Promise.all([
        p.invalidateTags([{ tag, version: seq, tombstoneTtlMs: 60_000 }]),
        ...readers.map((rd) => rd && p.fill(rd.lease, 0, payloadOf(loadedSeq), { ttlMs: 60_000, tags: rd.epochs })),
      ]);
      const states = await Promise.all(keys.map((k) => p.inspect(k)));
      for (const s of states) if (s.entry) expect(seqOf(s.entry.payload)).toBeGreaterThanOrEqual(seq);
    }
  });

  // The batch scripts write a tombstone in one SET ... GET and repair the state only when it
  // was not the right one; invalidate-1 reads first (GETRANGE) and writes once. Both must leave
  // the same state and answer the same outcome from any stored state.
  it('the one-command tombstone and the read-first invalidation agree from any stored state', async () => {
    const [sec] = await r.time();
    const now = Number(sec) * 1000;
    const HOUR = 3_600_000;
    const at = fc.constantFrom(0, now - HOUR, now + HOUR, now + 2 * HOUR);
    const stored = fc.oneof(
      fc.constant<string | undefined>(undefined),
      fc.constant('not an envelope'),
      fc.constant('<a hash>'), // another type than a string
      fc.constant('1|12345678901234567|1|0|0|a version too long for the 16-digit field'),
      fc
        .integer({ min: 0, max: 6 })
        .map((v) => encodeEnvelope({ version: v, writtenAt: now, freshForMs: 0, namespaceGeneration: 0, payload: `old v${v}` })),
      fc
        .record({
          floor: fc.integer({ min: 0, max: 6 }),
          floorUntil: at,
          leaseUntil: at,
          token: fc.constantFrom('', 'reader-1'),
          value: fc.option(fc.record({ version: fc.integer({ min: 0, max: 6 }), hardUntil: at }), { nil: undefined }),
        })
        .map((st) =>
          encodeKeyState({
            floor: st.floor,
            floorUntil: st.floorUntil,
            leaseUntil: st.leaseUntil,
            token: st.token,
            entry: st.value && { ...st.value, writtenAt: now, freshForMs: 0, namespaceGeneration: 0, payload: `v${st.value.version}` },
          }),
        ),
    );
    await fc.assert(
      fc.asyncProperty(stored, fc.integer({ min: 1, max: 6 }), fc.constantFrom(60_000, 3 * HOUR), async (raw, version, ttl) => {
        const a = uniqueName('agree-batch');
        const b = uniqueName('agree-single');
        if (raw === '<a hash>') await Promise.all([r.hset(a, 'f', 'x'), r.hset(b, 'f', 'x')]);
        else if (raw !== undefined) await Promise.all([r.set(a, raw, 'PX', 4 * HOUR), r.set(b, raw, 'PX', 4 * HOUR)]);
        const [batch] = await invalidateKeysScript.run(r, [a], [`t${version}:${ttl}`]);
        const single = await invalidateScript.run(r, b, version, ttl, true);
        const [sa, sb] = await Promise.all([p.inspect(a), p.inspect(b)]);
        const outcomes: Record<number, EffectOutcome> = { 1: 'deleted', 2: 'tombstoned', 4: 'skipped-older' };
        expect({ outcome: outcomes[batch], entry: sa.entry, floor: sa.tombstoneVersion, lease: sa.leaseToken }).toEqual({
          outcome: single,
          entry: sb.entry,
          floor: sb.tombstoneVersion,
          lease: sb.leaseToken,
        });
        expect(Math.abs((sa.tombstoneTtlMs ?? 0) - (sb.tombstoneTtlMs ?? 0))).toBeLessThan(1_000);
      }),
      { numRuns: 500 },
    );
  });
});
