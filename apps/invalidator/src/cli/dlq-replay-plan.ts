// Which dead letters a `replay` run re-publishes, decided from the dead-letter topic alone (no
// state file), so that running replay again is harmless:
//
// - A letter is "replayed" when the topic holds a replay mark for it (written by the run that
//   re-published it) or a copy of it: a replayed event that failed again is dead-lettered again,
//   and that copy carries `x-dlq-replayed-from: <the letter>` (the invalidator keeps the
//   message's headers).
// - Without --again: replayed letters are skipped, and so are copies (a copy is the outcome of a
//   replay that already happened). Running replay N times over an event that keeps failing thus
//   leaves the original and ONE copy.
// - With --again: of each event's chain (original, copy, copy of the copy, ...) only the newest
//   matching letter is re-published: each forced run adds at most one copy per event.
//
// Both headers can also arrive from a producer (the invalidator keeps a message's own headers
// when it dead-letters it), forwarded carelessly or forged, so neither is taken on its word: a
// mark is a record WITHOUT a reason code (every dead letter has one; the tool's marks have
// none), and a copy must carry the same key and value as the letter it names (a replay
// re-publishes exactly those bytes). A copy naming a letter no longer in the topic (retention)
// cannot be checked and is trusted: it can only hide itself, never another letter.
import { DLQ_HEADERS } from '@app/contracts';
import type { DeadLetterRecord } from './dlq-cli';

const header = (r: DeadLetterRecord, name: string): string | undefined =>
  r.headers[name] === undefined ? undefined : String(r.headers[name]);

/** `<dlq topic>/<partition>/<offset>`: how a replayed record and a mark name the letter. */
export function letterId(r: Pick<DeadLetterRecord, 'dlqTopic' | 'dlqPartition' | 'dlqOffset'>): string {
  return `${r.dlqTopic}/${r.dlqPartition}/${r.dlqOffset}`;
}

/** A mark written by `replay`; a dead letter (it has a reason code) carrying the header is a forgery, not a mark. */
export function isReplayMark(r: DeadLetterRecord): boolean {
  return header(r, DLQ_HEADERS.replayMark) !== undefined && header(r, DLQ_HEADERS.reasonCode) === undefined;
}

/** The letter `r` claims to be a copy of (its x-dlq-replayed-from header), unchecked. */
function claimedParent(r: DeadLetterRecord): string | undefined {
  return header(r, DLQ_HEADERS.replayedFrom);
}

const sameBytes = (a: Buffer | null, b: Buffer | null) => (a === null || b === null ? a === b : a.equals(b));

/** What the topic says about earlier replays. */
export class ReplayHistory {
  private readonly replayed = new Set<string>();
  private readonly byId = new Map<string, DeadLetterRecord>();

  /** `records`: the whole topic as read (dead letters and marks). */
  constructor(records: readonly DeadLetterRecord[]) {
    for (const r of records) {
      if (isReplayMark(r)) this.replayed.add(header(r, DLQ_HEADERS.replayMark)!);
      else this.byId.set(letterId(r), r);
    }
    for (const r of this.byId.values()) {
      const parent = this.copyOf(r);
      if (parent !== undefined) this.replayed.add(parent);
    }
  }

  /**
   * The letter a copy was dead-lettered from (its replay's origin), or undefined for an original:
   * a record naming a letter in the topic whose key or value differs is no copy of it.
   */
  copyOf(r: DeadLetterRecord): string | undefined {
    const parent = claimedParent(r);
    if (parent === undefined) return undefined;
    const letter = this.byId.get(parent);
    if (letter && (letter === r || !sameBytes(letter.key, r.key) || !sameBytes(letter.value, r.value))) return undefined;
    return parent;
  }

  /** The dead letters proper (marks left out), in topic order. */
  letters(): DeadLetterRecord[] {
    return [...this.byId.values()];
  }

  wasReplayed(r: DeadLetterRecord): boolean {
    return this.replayed.has(letterId(r));
  }

  /** The first letter of the chain `r` belongs to (itself for an original; the named id when that letter is gone). */
  rootOf(r: DeadLetterRecord): string {
    let id = letterId(r);
    const seen = new Set<string>([id]);
    for (let parent = this.copyOf(r); parent !== undefined && !seen.has(parent);) {
      id = parent;
      seen.add(parent);
      const letter = this.byId.get(parent);
      parent = letter ? this.copyOf(letter) : undefined;
    }
    return id;
  }
}

export interface ReplaySkip {
  record: DeadLetterRecord;
  kind: 'already-replayed' | 'superseded';
  why: string;
}

export interface ReplayPlan {
  replay: DeadLetterRecord[];
  skipped: ReplaySkip[];
}

function failedAtMs(r: DeadLetterRecord): number {
  const t = Date.parse(header(r, DLQ_HEADERS.failedAt) ?? '');
  return Number.isNaN(t) ? r.timestamp : t;
}

/** `candidates`: the matching, replayable letters (filters applied, references and letters without origin left out). */
export function planReplay(candidates: readonly DeadLetterRecord[], history: ReplayHistory, options: { again?: boolean } = {}): ReplayPlan {
  const replay: DeadLetterRecord[] = [];
  const skipped: ReplaySkip[] = [];
  if (!options.again) {
    for (const r of candidates) {
      if (history.wasReplayed(r)) skipped.push({ record: r, kind: 'already-replayed', why: 'already replayed' });
      else if (history.copyOf(r) !== undefined)
        skipped.push({ record: r, kind: 'already-replayed', why: `dead-lettered again after the replay of ${history.copyOf(r)}` });
      else replay.push(r);
    }
    return { replay, skipped };
  }
  // --again: the newest matching letter of each chain.
  const newest = new Map<string, DeadLetterRecord>();
  for (const r of candidates) {
    const root = history.rootOf(r);
    const current = newest.get(root);
    if (
      !current ||
      failedAtMs(r) > failedAtMs(current) ||
      (failedAtMs(r) === failedAtMs(current) && r.dlqPartition === current.dlqPartition && BigInt(r.dlqOffset) > BigInt(current.dlqOffset))
    )
      newest.set(root, r);
  }
  const chosen = new Set(newest.values());
  for (const r of candidates) {
    if (chosen.has(r)) replay.push(r);
    else
      skipped.push({
        record: r,
        kind: 'superseded',
        why: `a newer letter of the same event (${letterId(newest.get(history.rootOf(r))!)}) is replayed instead`,
      });
  }
  return { replay, skipped };
}
