// THE agreement with Redis, as one class both sides use: the invalidator (applyKeyEffects,
// invalidateTags) and the read side (leaseGet, fill, via libs/cache-client). Every operation
// is idempotent and never moves a key backwards in version; see README.md for each contract.
import { randomBytes } from 'node:crypto';
import type { EffectOutcome, KeyEffect, TagEffect } from './effects';
import { CacheProtocolError } from './errors';
import { decodeEnvelope, decodeKeyState, Envelope, storedHeadOf, TagStamp, tagStampsText } from './envelope';
import { KeyBatchRunner } from './key-batch';
import { EffectLimits, isTtl, isVersion, keyEffectItem, keyEffectProblem, lifetimeOf, warmFloorTtlMs } from './key-effects';
import { DEFAULT_MAX_KEY_BYTES, keyProblem, legacyTombstoneKey, namespaceKey, tagMembersKey, tagStateKey, validateKey } from './key-layout';
import { NamespaceBump, runNamespaceBumps } from './namespace-bump';
import { effectOutcomeOf, FillOutcome, Lease, LeaseGetResult, WARM_DEGRADED_OOM } from './outcomes';
import {
  defineProtocolCommands,
  fillScript,
  invalidateScript,
  isCluster,
  isOomError,
  leaseGetScript,
  NamespaceBumpResult,
  RedisConnection,
  releaseLeaseScript,
  tagEpochScript,
  tagJoinScript,
  warmScript,
} from './scripts';
import { closeTagEpochs, freshTagEpoch, scanClosedEpochs } from './tag-invalidation';

export interface CacheProtocolOptions {
  /** Keys (effects) per EVALSHA of the batch script. Default 64. */
  maxKeysPerScriptCall?: number;
  /** SSCAN COUNT per step of a tag invalidation: the most work one step asks of Redis. Default 256. */
  tagScanCount?: number;
  /** Tags whose members are scanned at the same time by one invalidateTags call (their commands share the connection, so this is pipelining depth). Default 128. */
  tagConcurrency?: number;
  /** Longest key, tag or namespace in UTF-8 bytes. Default 512. */
  maxKeyBytes?: number;
  /** Largest value (payload) accepted by warm and fill; larger ones are refused, never truncated. Default 1 MiB. */
  maxValueBytes?: number;
  /** TTL of a warm effect without ttlMs. Default 1 hour. */
  defaultWarmTtlMs?: number;
  /** Minimum lifetime of a tag's epoch record. Default 24 hours. */
  tagStateTtlMs?: number;
  /**
   * Read side: also honour version floors an earlier version of the invalidator left in its own
   * key (`~t{K}`), on a miss and at fill (one GET of a key that is usually absent). Keep it on
   * while a rollout runs and for one tombstone TTL plus the longest warm hard TTL after the last
   * earlier invalidator stopped (docs/protocol-format.md, "Rollout"). Default true.
   */
  legacyFloors?: boolean;
}

/** A tag and the epoch read before loading (pass to fill). '' = the tag had no state yet. */
export interface TagEpoch {
  tag: string;
  epoch: string;
}

export interface FillOptions {
  /** How long the value is fresh (hard TTL when staleWhileRevalidateMs is 0). */
  ttlMs: number;
  /** After ttlMs the value is served stale this long while one reader refreshes it. Default 0. */
  staleWhileRevalidateMs?: number;
  /** Tags with the epochs read (readTagEpochs) before the loader ran. */
  tags?: TagEpoch[];
  /** Namespace generation read before the loader ran. Default 0. */
  namespaceGeneration?: number;
  /** How long the loader took (ms, integer >= 0): stored with the value (its loadMs field) for early refresh. Default: not stored. */
  loadMs?: number;
}

export interface WarmOptions {
  tags?: string[];
  /** The version floor (tombstone) a warm leaves outlives the value by this long. Default: the value's hard TTL. */
  tombstoneTtlMs?: number;
  staleWhileRevalidateMs?: number;
  namespaceGeneration?: number;
}

export interface LeaseGetOptions {
  /** How long the lease blocks other loaders when its holder never fills. */
  leaseTtlMs: number;
  /**
   * Token to ask with (1-24 characters of [A-Za-z0-9_-], else TOKEN_INVALID: it is stored in a fixed 24-byte field);
   * reuse it when asking again so a lease you hold comes back to you.
   */
  token?: string;
  /** Values of an older namespace generation read as a miss. Default 0. */
  minNamespaceGeneration?: number;
  /**
   * Early refresh (XFetch): -beta * ln(random()), drawn per read. A fresh value that recorded its
   * load time (fill's loadMs; never an earlier-format value) whose remaining freshness is at most
   * loadMs * this factor answers a hit with the refresh lease.
   * Default 0 (off).
   */
  earlyRefreshFactor?: number;
}

/** Everything stored for one key, for tests and debugging. */
export interface KeyInspection {
  entry?: Envelope;
  /** A value that is not an envelope. */
  foreign?: boolean;
  valueTtlMs?: number;
  tombstoneVersion?: number;
  tombstoneTtlMs?: number;
  leaseToken?: string;
}

const DEFAULTS = {
  maxKeysPerScriptCall: 64,
  tagScanCount: 256,
  tagConcurrency: 128,
  maxKeyBytes: DEFAULT_MAX_KEY_BYTES,
  maxValueBytes: 1024 * 1024,
  defaultWarmTtlMs: 3_600_000,
  tagStateTtlMs: 86_400_000,
  legacyFloors: true,
} satisfies Required<CacheProtocolOptions>;

/** What a lease token may be: it is stored in a fixed 24-byte field of the key (lua/includes/keyState.lua). */
const LEASE_TOKEN = /^[A-Za-z0-9_-]{1,24}$/;

function checkToken(token: unknown): void {
  if (typeof token !== 'string' || !LEASE_TOKEN.test(token))
    throw new CacheProtocolError('TOKEN_INVALID', `lease token ${JSON.stringify(token)} is not 1-24 characters of [A-Za-z0-9_-]`);
}

// Tokens only need to be unique: a random per-process prefix plus a counter (no syscall per read).
const TOKEN_PREFIX = randomBytes(9).toString('base64url');
let tokenCounter = 0;

export function newLeaseToken(): string {
  tokenCounter = tokenCounter >= Number.MAX_SAFE_INTEGER ? 1 : tokenCounter + 1;
  return TOKEN_PREFIX + tokenCounter.toString(36);
}

export class CacheProtocol {
  private readonly settings: Required<CacheProtocolOptions>;
  private readonly limits: EffectLimits;
  private readonly runner: KeyBatchRunner;
  private readonly cluster: boolean;

  constructor(
    readonly redis: RedisConnection,
    options: CacheProtocolOptions = {},
  ) {
    this.settings = { ...DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) };
    for (const name of [
      'maxKeysPerScriptCall',
      'tagScanCount',
      'tagConcurrency',
      'maxKeyBytes',
      'maxValueBytes',
      'defaultWarmTtlMs',
      'tagStateTtlMs',
    ] as const) {
      if (!isTtl(this.settings[name]))
        throw new CacheProtocolError('TTL_INVALID', `option ${name} must be a positive integer, got ${String(this.settings[name])}`);
    }
    this.limits = {
      maxKeyBytes: this.settings.maxKeyBytes,
      maxValueBytes: this.settings.maxValueBytes,
      defaultWarmTtlMs: this.settings.defaultWarmTtlMs,
    };
    defineProtocolCommands(redis);
    this.runner = new KeyBatchRunner(redis, this.settings.maxKeysPerScriptCall);
    this.cluster = isCluster(redis);
  }

  // ---- invalidator side ------------------------------------------------------------------

  /** Why applyKeyEffects would refuse `effect` (undefined when it is fine). Lets a caller dead-letter it first. */
  checkKeyEffect(effect: KeyEffect): CacheProtocolError | undefined {
    // (applyKeyEffects checks again: remembering checked effects in a WeakSet cost more than the check, 4% of the CPU in a profile)
    return keyEffectProblem(effect, this.limits);
  }

  /** Why invalidateTags would refuse `tag` (undefined when it is fine). */
  checkTag(tag: string): CacheProtocolError | undefined {
    return keyProblem(tag, this.settings.maxKeyBytes, 'tag');
  }

  /**
   * Applies the effects of many keys: grouped by cluster slot (standalone: in order), up to
   * maxKeysPerScriptCall keys per EVALSHA, one pipeline per node, no await per key.
   * Result[i] is the outcome of effects[i]. Throws CacheProtocolError (retriable: false, with
   * `index`) for a bad effect before touching Redis; rejects when Redis fails, and then the
   * whole call is safe to run again.
   */
  async applyKeyEffects(effects: KeyEffect[]): Promise<EffectOutcome[]> {
    for (let i = 0; i < effects.length; i += 1) {
      const problem = keyEffectProblem(effects[i], this.limits);
      if (problem) throw new CacheProtocolError(problem.code, `effect ${i}: ${problem.message}`, false, i);
    }
    const { refused, stamps } = await this.joinWarmTags(effects);
    const items = effects.map((e, i) => keyEffectItem(e, this.limits, stamps.get(i) ?? ''));
    // A warm whose tags could not be joined (Redis at maxmemory) must not land: invalidate instead.
    for (const i of refused) items[i] = { key: items[i].key, argv: items[i].degraded ?? items[i].argv };
    const codes = await this.runner.run(items);
    for (const i of refused) codes[i] = WARM_DEGRADED_OOM;
    return codes.map(effectOutcomeOf);
  }

  /**
   * Invalidates every key of each tag: closes all their epochs first (many tags per script call,
   * tagBumps-1n), then scans only the tags that have members to invalidate, in bounded SSCAN
   * steps, tagConcurrency tags at a time. Safe to run again (see docs/design.md "Tags").
   */
  async invalidateTags(tags: TagEffect[]): Promise<{ keysInvalidated: number }> {
    const ttlByTag = new Map<string, number>();
    tags.forEach((t, i) => {
      const problem = keyProblem(t.tag, this.settings.maxKeyBytes, 'tag');
      if (problem) throw new CacheProtocolError(problem.code, `tag ${i}: ${problem.message}`, false, i);
      if (!isTtl(t.tombstoneTtlMs))
        throw new CacheProtocolError('TTL_INVALID', `tag ${i} "${t.tag}": tombstoneTtlMs is not a positive integer`, false, i);
      ttlByTag.set(t.tag, Math.max(ttlByTag.get(t.tag) ?? 0, t.tombstoneTtlMs));
    });
    if (ttlByTag.size === 0) return { keysInvalidated: 0 };
    const unique = [...ttlByTag].map(([tag, tombstoneTtlMs]) => ({
      tag,
      tombstoneTtlMs,
      stateTtlMs: Math.max(this.settings.tagStateTtlMs, tombstoneTtlMs),
    }));
    const closed = await closeTagEpochs(this.redis, unique, this.settings.maxKeysPerScriptCall);
    const toScan = unique.map((_, i) => i).filter((i) => closed[i].scannedThrough < closed[i].closing);
    let keysInvalidated = 0;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < toScan.length) {
        const i = toScan[next++];
        // (not `keysInvalidated += await ...`: that reads the sum before the await and loses the other workers' counts)
        const n = await scanClosedEpochs(this.redis, this.runner, unique[i].tag, closed[i], unique[i].tombstoneTtlMs, {
          scanCount: this.settings.tagScanCount,
          maxKeyBytes: this.settings.maxKeyBytes,
        });
        keysInvalidated += n;
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.settings.tagConcurrency, toScan.length) }, worker));
    return { keysInvalidated };
  }

  /** Version-guarded invalidation of one key (invalidate-1.lua). */
  async invalidate(key: string, version: number, tombstoneTtlMs: number, options: { tombstone?: boolean } = {}): Promise<EffectOutcome> {
    validateKey(key, this.settings.maxKeyBytes);
    if (!isVersion(version)) throw new CacheProtocolError('VERSION_INVALID', `version ${String(version)} is not an integer in 0..2^53-1`);
    if (!isTtl(tombstoneTtlMs))
      throw new CacheProtocolError('TTL_INVALID', `tombstoneTtlMs ${String(tombstoneTtlMs)} is not a positive integer`);
    return invalidateScript.run(this.redis, key, version, tombstoneTtlMs, options.tombstone ?? true);
  }

  /**
   * Version-guarded rewrite of one key (warm-1.lua); joins `tags` first. Replaces a cached value,
   * never creates one: on an uncached key it only raises the floor ('tombstoned'). When Redis is at
   * maxmemory (noeviction) it invalidates instead (a tombstone of `version`) and answers
   * 'warm-degraded-oom'.
   */
  async warm(key: string, version: number, value: string, ttlMs: number, options: WarmOptions = {}): Promise<EffectOutcome> {
    const effect: KeyEffect = {
      key,
      version,
      action: 'warm',
      tombstoneTtlMs: options.tombstoneTtlMs ?? 1,
      value,
      ttlMs,
      tags: options.tags,
      ...pickDefined(options),
    };
    const problem = keyEffectProblem(effect, this.limits);
    if (problem) throw problem;
    if (options.tombstoneTtlMs !== undefined && !isTtl(options.tombstoneTtlMs))
      throw new CacheProtocolError('TTL_INVALID', `tombstoneTtlMs ${String(options.tombstoneTtlMs)} is not a positive integer`);
    const { hardTtlMs, freshForMs } = lifetimeOf(ttlMs, options.staleWhileRevalidateMs);
    const floorTtlMs = warmFloorTtlMs(hardTtlMs, options.tombstoneTtlMs ?? hardTtlMs);
    const degrade = async (): Promise<EffectOutcome> => {
      await invalidateScript.run(this.redis, key, version, floorTtlMs, version > 0);
      return 'warm-degraded-oom';
    };
    const joined = await this.joinWarmTags([effect]);
    if (joined.refused.length > 0) return degrade();
    try {
      return await warmScript.run(
        this.redis,
        key,
        version,
        hardTtlMs,
        freshForMs,
        options.namespaceGeneration ?? 0,
        floorTtlMs,
        joined.stamps.get(0) ?? '',
        value,
      );
    } catch (error) {
      if (isOomError(error)) return degrade();
      throw error;
    }
  }

  // ---- read side -------------------------------------------------------------------------

  /** Hit, stale (maybe with the refresh lease), miss with the lease, or wait (leaseGet-2.lua). */
  async leaseGet(key: string, options: LeaseGetOptions): Promise<LeaseGetResult> {
    validateKey(key, this.settings.maxKeyBytes);
    if (!isTtl(options.leaseTtlMs))
      throw new CacheProtocolError('TTL_INVALID', `leaseTtlMs ${String(options.leaseTtlMs)} is not a positive integer`);
    const token = options.token ?? newLeaseToken();
    checkToken(token);
    const legacy = this.settings.legacyFloors;
    const minGeneration = options.minNamespaceGeneration ?? 0;
    // Standalone: the script checks a tagged value's epochs itself (one call per read).
    const early = options.earlyRefreshFactor ?? 0;
    if (!this.cluster) return leaseGetScript.run(this.redis, key, token, options.leaseTtlMs, minGeneration, true, '', early, legacy);
    // Cluster: tag states live in other slots, so a tagged value's epochs are read here (one
    // HGET per tag, in parallel, only for tagged hits); when one moved or its state is gone the
    // value is dropped (only if it is still the same envelope) and the read becomes a miss.
    const got = await leaseGetScript.run(this.redis, key, token, options.leaseTtlMs, minGeneration, false, '', early, legacy);
    if ((got.kind !== 'hit' && got.kind !== 'stale') || !got.entry.tags) return got;
    if (await this.tagsCurrent(got.entry.tags)) return got;
    return leaseGetScript.run(this.redis, key, token, options.leaseTtlMs, minGeneration, false, storedHeadOf(got.entry), 0, legacy);
  }

  /** Every tag still has the epoch the value recorded (a missing state counts as invalidated). */
  private async tagsCurrent(tags: TagStamp[]): Promise<boolean> {
    const epochs = await Promise.all(tags.map((t) => this.redis.hget(t.stateKey, 'e')));
    return tags.every((t, i) => epochs[i] === t.epoch);
  }

  /** Epochs of `tags` now; read them before loading and pass them to fill. */
  async readTagEpochs(tags: string[]): Promise<TagEpoch[]> {
    tags.forEach((t) => validateKey(t, this.settings.maxKeyBytes, 'tag'));
    // Creates a missing state: the value must record an epoch that exists (see leaseGet).
    const epochs = await Promise.all(
      tags.map((t) => tagEpochScript.run(this.redis, tagStateKey(t), freshTagEpoch(), this.settings.tagStateTtlMs)),
    );
    return tags.map((tag, i) => ({ tag, epoch: epochs[i] }));
  }

  /**
   * Stores what a lease holder loaded (fill-2.lua), after joining its tags (tagJoin-2.lua):
   * lands only with a live lease, a version not older than the tombstone or stored value, and
   * tags not invalidated since their epochs were read.
   */
  async fill(lease: Lease, version: number, value: string, options: FillOptions): Promise<FillOutcome> {
    validateKey(lease.key, this.settings.maxKeyBytes);
    checkToken(lease.token);
    if (!isVersion(version)) throw new CacheProtocolError('VERSION_INVALID', `version ${String(version)} is not an integer in 0..2^53-1`);
    if (!isTtl(options.ttlMs)) throw new CacheProtocolError('TTL_INVALID', `ttlMs ${String(options.ttlMs)} is not a positive integer`);
    this.checkValueSize(lease.key, value);
    const { hardTtlMs, freshForMs } = lifetimeOf(options.ttlMs, options.staleWhileRevalidateMs);
    const tags = options.tags ?? [];
    try {
      if (tags.some((t) => t.epoch === '')) {
        // an epoch read by an older library (state was missing): cannot be recorded, do not fill
        await this.releaseLease(lease);
        return 'tag-invalidated';
      }
      if (tags.length > 0) {
        const joined = await Promise.all(
          tags.map((t) => tagJoinScript.run(this.redis, tagStateKey(t.tag), tagMembersKey(t.tag), t.epoch, lease.key, hardTtlMs, 0)),
        );
        if (joined.includes(undefined)) {
          await this.releaseLease(lease);
          return 'tag-invalidated';
        }
      }
      const stamps = tagStampsText(tags.map((t) => ({ stateKey: tagStateKey(t.tag), epoch: t.epoch })));
      const loadMs = options.loadMs === undefined ? undefined : Math.max(0, Math.round(options.loadMs));
      return await fillScript.run(
        this.redis,
        lease.key,
        lease.token,
        version,
        hardTtlMs,
        freshForMs,
        options.namespaceGeneration ?? 0,
        stamps,
        value,
        loadMs,
        this.settings.legacyFloors,
      );
    } catch (error) {
      if (!isOomError(error)) throw error;
      // Redis is at maxmemory (noeviction): the value stays uncached; free the lease for others.
      await this.releaseLease(lease);
      return 'refused-oom';
    }
  }

  /** Gives a lease back early (the loader failed) so waiters need not wait for its TTL. */
  async releaseLease(lease: Lease): Promise<boolean> {
    checkToken(lease.token);
    return releaseLeaseScript.run(this.redis, lease);
  }

  // ---- namespaces ------------------------------------------------------------------------

  /** Invalidates everything filled under `namespace` (a key prefix the readers declare): returns the new generation. */
  async bumpNamespace(namespace: string): Promise<number> {
    validateKey(namespace, this.settings.maxKeyBytes, 'namespace');
    return this.redis.incr(namespaceKey(namespace));
  }

  /**
   * Event-driven bumps, once per (entity, version) and replay-safe (namespaceBump-2.lua; see
   * namespace-bump.ts). Result[i] answers bumps[i]. Throws CacheProtocolError for a bad bump
   * before touching Redis; rejects when Redis fails, and then the whole call is safe to run again.
   */
  bumpNamespaces(bumps: readonly NamespaceBump[]): Promise<NamespaceBumpResult[]> {
    return runNamespaceBumps(this.redis, bumps, this.settings.maxKeyBytes);
  }

  async namespaceGeneration(namespace: string): Promise<number> {
    validateKey(namespace, this.settings.maxKeyBytes, 'namespace');
    return Number((await this.redis.get(namespaceKey(namespace))) ?? 0);
  }

  // ---- debugging -------------------------------------------------------------------------

  async inspect(key: string): Promise<KeyInspection> {
    validateKey(key, this.settings.maxKeyBytes);
    const [raw, ttl, legacyFloor, legacyFloorTtl, time] = await Promise.all([
      this.redis.get(key).catch(() => null),
      this.redis.pttl(key),
      this.redis.get(legacyTombstoneKey(key)),
      this.redis.pttl(legacyTombstoneKey(key)),
      this.redis.time(),
    ]);
    const now = Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000);
    const out: KeyInspection = {};
    if (raw !== null) {
      try {
        const state = decodeKeyState(raw);
        if (!state) {
          out.entry = decodeEnvelope(raw); // an earlier format: a value alone, its TTL the key's
          out.valueTtlMs = ttl;
        } else {
          if (state.entry && (state.entry.hardUntil ?? 0) > now) {
            out.entry = state.entry;
            out.valueTtlMs = (state.entry.hardUntil ?? 0) - now;
          }
          if (state.floor > 0 && state.floorUntil > now) {
            out.tombstoneVersion = state.floor;
            out.tombstoneTtlMs = state.floorUntil - now;
          }
          if (state.token !== '' && state.leaseUntil > now) out.leaseToken = state.token;
        }
      } catch {
        out.foreign = true;
      }
    }
    // a floor an earlier version left beside the key still counts (the read side honours it)
    if (legacyFloor !== null && Number(legacyFloor) > (out.tombstoneVersion ?? 0)) {
      out.tombstoneVersion = Number(legacyFloor);
      out.tombstoneTtlMs = legacyFloorTtl;
    }
    return out;
  }

  private checkValueSize(key: string, value: string): void {
    if (typeof value !== 'string') throw new CacheProtocolError('VALUE_MISSING', `value of "${key}" is not a string`);
    if (value.length > this.settings.maxValueBytes || Buffer.byteLength(value, 'utf8') > this.settings.maxValueBytes) {
      throw new CacheProtocolError(
        'VALUE_TOO_LARGE',
        `value of "${key}" is larger than ${this.settings.maxValueBytes} bytes (option maxValueBytes)`,
      );
    }
  }

  /**
   * Warm values join their tags before they land, so a tag invalidation running meanwhile finds
   * them. Returns the indices of warms whose joins Redis refused for lack of memory: they must
   * not land (a tag invalidation would not find them) and are invalidated instead.
   */
  private async joinWarmTags(effects: KeyEffect[]): Promise<{ refused: number[]; stamps: Map<number, string> }> {
    const joins: Promise<{ i: number; stamp?: TagStamp }>[] = [];
    effects.forEach((e, i) => {
      if (e.action !== 'warm' || !e.tags?.length) return;
      const { hardTtlMs } = lifetimeOf(e.ttlMs ?? this.settings.defaultWarmTtlMs, e.staleWhileRevalidateMs);
      for (const tag of [...new Set(e.tags)]) {
        const stateKey = tagStateKey(tag);
        joins.push(
          tagJoinScript.run(this.redis, stateKey, tagMembersKey(tag), '*', e.key, hardTtlMs, freshTagEpoch()).then(
            (epoch) => ({ i, stamp: epoch === undefined ? undefined : { stateKey, epoch } }),
            (error: unknown) => {
              if (isOomError(error)) return { i };
              throw error;
            },
          ),
        );
      }
    });
    const refused = new Set<number>();
    const byEffect = new Map<number, TagStamp[]>();
    for (const { i, stamp } of await Promise.all(joins)) {
      if (!stamp) refused.add(i);
      else byEffect.set(i, [...(byEffect.get(i) ?? []), stamp]);
    }
    // The value records the epoch it joined at: a tag invalidation after the join makes it a miss.
    const stamps = new Map<number, string>();
    for (const [i, list] of byEffect) if (!refused.has(i)) stamps.set(i, tagStampsText(list));
    return { refused: [...refused], stamps };
  }
}

function pickDefined(options: WarmOptions): Partial<KeyEffect> {
  const out: Partial<KeyEffect> = {};
  if (options.staleWhileRevalidateMs !== undefined) out.staleWhileRevalidateMs = options.staleWhileRevalidateMs;
  if (options.namespaceGeneration !== undefined) out.namespaceGeneration = options.namespaceGeneration;
  return out;
}
