// `npm run dlq -- <list|replay> [filters]`: the operator's tool for the dead-letter topic.
// `list` prints one line per dead letter and a count per reason; `replay` re-publishes matching
// dead letters to their origin topic and partition with their original key and headers (the
// x-dlq-* headers stripped, x-dlq-replayed-from added), then writes a replay mark per letter into
// the DLQ topic, so a later run skips what was replayed (dlq-replay-plan.ts; --again forces).
// It reads the DLQ from the beginning up to the end offsets captured at start, then stops.
// runDlqCli() returns the exit code instead of exiting, so tests can run it in-process; dlq.ts
// is the thin process entry.
import { randomUUID } from 'node:crypto';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { Kafka } from 'kafkajs';
import pino from 'pino';
import { DEFAULT_TOPICS, DLQ_HEADERS } from '@app/contracts';
import { createKafka, OutboundRecord, RecordProducer } from '@app/kafka';
import type { CliIo } from '@app/config/cli-process';
import { letterId, planReplay, ReplayHistory } from './dlq-replay-plan';

export const DLQ_EXIT = {
  OK: 0,
  /** Kafka unreachable, the DLQ topic missing, a produce failed, the read did not finish in time. */
  ERROR: 1,
  /** Unknown command or flag, a bad flag value, no brokers. */
  USAGE: 2,
} as const;
export type DlqExitCode = (typeof DLQ_EXIT)[keyof typeof DLQ_EXIT];

export class DlqCliError extends Error {
  constructor(
    readonly exitCode: DlqExitCode,
    message: string,
  ) {
    super(message);
  }
}

/** One record of the dead-letter topic, as read. */
export interface DeadLetterRecord {
  dlqTopic: string;
  dlqPartition: number;
  dlqOffset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | string>;
  /** Broker timestamp of the dead letter (ms). */
  timestamp: number;
}

export interface DlqFilter {
  reasons?: Set<string>;
  /** On the time of failure (x-dlq-failed-at; the DLQ record's timestamp when absent). */
  since?: Date;
  until?: Date;
  /** Origin partition. */
  partition?: number;
  /** Origin offsets, inclusive. */
  fromOffset?: bigint;
  toOffset?: bigint;
}

const header = (r: DeadLetterRecord, name: string): string | undefined =>
  r.headers[name] === undefined ? undefined : String(r.headers[name]);

export function describeDeadLetter(r: DeadLetterRecord) {
  const failedAt = header(r, DLQ_HEADERS.failedAt);
  const failedAtMs = failedAt ? Date.parse(failedAt) : NaN;
  return {
    code: header(r, DLQ_HEADERS.reasonCode) ?? '(none)',
    originTopic: header(r, DLQ_HEADERS.originTopic),
    originPartition: header(r, DLQ_HEADERS.originPartition),
    originOffset: header(r, DLQ_HEADERS.originOffset),
    failedAt: Number.isNaN(failedAtMs) ? new Date(r.timestamp) : new Date(failedAtMs),
    reference: header(r, DLQ_HEADERS.truncated) === 'true',
    originalBytes: header(r, DLQ_HEADERS.originalBytes),
    size: r.value?.length ?? 0,
  };
}

export function matches(r: DeadLetterRecord, f: DlqFilter): boolean {
  const d = describeDeadLetter(r);
  if (f.reasons && !f.reasons.has(d.code)) return false;
  if (f.since && d.failedAt < f.since) return false;
  if (f.until && d.failedAt > f.until) return false;
  if (f.partition !== undefined && d.originPartition !== String(f.partition)) return false;
  if (f.fromOffset !== undefined || f.toOffset !== undefined) {
    if (!d.originOffset || !/^\d+$/.test(d.originOffset)) return false;
    const o = BigInt(d.originOffset);
    if (f.fromOffset !== undefined && o < f.fromOffset) return false;
    if (f.toOffset !== undefined && o > f.toOffset) return false;
  }
  return true;
}

/** The record to re-publish: original key, value and headers (x-dlq-* stripped), back to the origin partition. */
export function toReplayRecord(r: DeadLetterRecord): OutboundRecord {
  const headers: Record<string, string | Buffer> = {};
  for (const [k, v] of Object.entries(r.headers)) if (!k.startsWith('x-dlq-')) headers[k] = v;
  headers[DLQ_HEADERS.replayedFrom] = letterId(r);
  const partition = Number(header(r, DLQ_HEADERS.originPartition));
  return { key: r.key, value: r.value, headers, ...(Number.isInteger(partition) && partition >= 0 ? { partition } : {}) };
}

/** The mark a replay leaves in the DLQ topic, next to (same partition as) the letter it re-published. */
export function toReplayMark(r: DeadLetterRecord, now = new Date()): OutboundRecord {
  const id = letterId(r);
  return {
    key: id,
    value: JSON.stringify({
      replayMark: id,
      replayedAt: now.toISOString(),
      to: `${describeDeadLetter(r).originTopic}/${describeDeadLetter(r).originPartition}`,
    }),
    headers: { [DLQ_HEADERS.replayMark]: id },
    partition: r.dlqPartition,
  };
}

export function formatLine(r: DeadLetterRecord): string {
  const d = describeDeadLetter(r);
  const origin = `${d.originTopic ?? '?'}/${d.originPartition ?? '?'}@${d.originOffset ?? '?'}`;
  const size = d.reference ? `reference (original ${d.originalBytes ?? '?'} B)` : `${d.size} B`;
  // One mapping's part of the event (the others were applied): name the mapping and its team.
  const mapping = header(r, DLQ_HEADERS.mapping);
  const part = mapping !== undefined ? `  mapping ${mapping} (team ${header(r, DLQ_HEADERS.team) ?? '?'})` : '';
  return `${r.dlqPartition}/${r.dlqOffset}  ${d.code.padEnd(26)}  ${origin}  failed ${d.failedAt.toISOString()}  ${size}${part}`;
}

function countBy(records: DeadLetterRecord[]): string {
  const counts = new Map<string, number>();
  for (const r of records) counts.set(describeDeadLetter(r).code, (counts.get(describeDeadLetter(r).code) ?? 0) + 1);
  return (
    [...counts.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([code, n]) => `${code} ${n}`)
      .join(', ') || 'none'
  );
}

/** Reads `topic` from the beginning up to the end offsets captured at start, then stops. */
export async function readDeadLetters(kafka: Kafka, topic: string, timeoutMs: number): Promise<DeadLetterRecord[]> {
  const admin = kafka.admin();
  await admin.connect();
  let ends: Map<number, bigint>;
  try {
    const existing = await admin.listTopics();
    if (!existing.includes(topic))
      throw new DlqCliError(DLQ_EXIT.ERROR, `dead-letter topic "${topic}" does not exist (--dlq-topic, KAFKA_DLQ_TOPIC)`);
    const offsets = await admin.fetchTopicOffsets(topic);
    ends = new Map(offsets.filter((o) => BigInt(o.high) > BigInt(o.low)).map((o) => [o.partition, BigInt(o.high)]));
  } finally {
    await admin.disconnect();
  }
  const records: DeadLetterRecord[] = [];
  if (ends.size === 0) return records;
  const groupId = `dlq-tool-${randomUUID()}`;
  const consumer = kafka.consumer({
    groupId,
    maxBytesPerPartition: 10_485_760,
    maxBytes: 52_428_800,
    maxWaitTimeInMs: 200,
    allowAutoTopicCreation: false,
  });
  const pending = new Set(ends.keys());
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      // kafkajs awaits eachBatch inside a try, so a throw here is handled like a rejection.
      eachBatch: ({ batch }) => {
        const end = ends.get(batch.partition);
        if (end === undefined) return Promise.resolve();
        for (const m of batch.messages) {
          if (BigInt(m.offset) >= end) break;
          const headers: Record<string, Buffer | string> = {};
          for (const [k, v] of Object.entries(m.headers ?? {})) if (v !== undefined) headers[k] = Array.isArray(v) ? v[0] : v;
          records.push({
            dlqTopic: topic,
            dlqPartition: batch.partition,
            dlqOffset: m.offset,
            key: m.key,
            value: m.value,
            headers,
            timestamp: Number(m.timestamp),
          });
        }
        const last = batch.messages[batch.messages.length - 1];
        if (last && BigInt(last.offset) + 1n >= end && pending.delete(batch.partition)) {
          consumer.pause([{ topic, partitions: [batch.partition] }]);
          if (pending.size === 0) finish();
        }
        return Promise.resolve();
      },
    });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(new DlqCliError(DLQ_EXIT.ERROR, `reading ${topic} did not reach its end offsets within ${timeoutMs} ms (--timeout-ms)`)),
        timeoutMs,
      );
    });
    try {
      await Promise.race([done, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  } finally {
    await consumer.disconnect().catch(() => undefined);
    const cleanup = kafka.admin();
    await cleanup
      .connect()
      .then(() => cleanup.deleteGroups([groupId]))
      .catch(() => undefined);
    await cleanup.disconnect().catch(() => undefined);
  }
  records.sort((a, b) => a.dlqPartition - b.dlqPartition || Number(BigInt(a.dlqOffset) - BigInt(b.dlqOffset)));
  return records;
}

interface CommonOptions {
  brokers?: string;
  dlqTopic: string;
  reason?: string[];
  since?: Date;
  until?: Date;
  partition?: number;
  fromOffset?: bigint;
  toOffset?: bigint;
  timeoutMs: number;
}

function isoTime(value: string): Date {
  const t = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(t))
    throw new InvalidArgumentError('must be an ISO time such as 2025-01-31T12:00:00Z');
  return new Date(t);
}

function nonNegativeInteger(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a non-negative integer');
  return Number(value);
}

function offset(value: string): bigint {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a non-negative integer offset');
  return BigInt(value);
}

function reasons(value: string, previous: string[] = []): string[] {
  const codes = value
    .split(',')
    .map((c) => c.trim())
    .filter((c) => c !== '');
  for (const c of codes)
    if (!/^[A-Z][A-Z_]*$/.test(c)) throw new InvalidArgumentError(`"${c}" is not a reason code (e.g. BAD_JSON, UNKNOWN_ENTITY_TYPE)`);
  return [...previous, ...codes];
}

function withFilters(command: Command, env: CliIo['env']): Command {
  return command
    .option('--brokers <host:port,...>', 'Kafka brokers (default: KAFKA_BROKERS)', env.KAFKA_BROKERS)
    .option(
      '--dlq-topic <topic>',
      'dead-letter topic (default: KAFKA_DLQ_TOPIC or entity.updated.dlq)',
      env.KAFKA_DLQ_TOPIC || DEFAULT_TOPICS.deadLetter,
    )
    .option('--reason <code>', 'only these reason codes (repeatable or a comma list)', reasons)
    .option('--since <iso>', 'only dead letters that failed at or after this time (x-dlq-failed-at)', isoTime)
    .option('--until <iso>', 'only dead letters that failed at or before this time (x-dlq-failed-at)', isoTime)
    .option('--partition <n>', 'only messages from this ORIGIN partition', nonNegativeInteger)
    .option('--from-offset <offset>', 'only ORIGIN offsets >= this (use with --partition)', offset)
    .option('--to-offset <offset>', 'only ORIGIN offsets <= this (use with --partition)', offset)
    .addOption(new Option('--timeout-ms <ms>', 'give up reading the DLQ after this long').argParser(nonNegativeInteger).default(60_000));
}

function connect(options: CommonOptions): Kafka {
  if (!options.brokers) throw new DlqCliError(DLQ_EXIT.USAGE, 'no brokers: pass --brokers host:port or set KAFKA_BROKERS');
  return createKafka({
    brokers: options.brokers.split(','),
    clientId: 'dlq-tool',
    // kafkajs warnings go to stderr; stdout stays the report.
    logger: pino({ level: 'error', base: { service: 'dlq-tool' } }, pino.destination({ dest: 2, sync: true })),
  });
}

function filterOf(options: CommonOptions): DlqFilter {
  return {
    reasons: options.reason && options.reason.length > 0 ? new Set(options.reason) : undefined,
    since: options.since,
    until: options.until,
    partition: options.partition,
    fromOffset: options.fromOffset,
    toOffset: options.toOffset,
  };
}

/** Consecutive groups of at most 500 records and ~900 KB (a replayed record fitted its origin topic once). */
function sendGroups(records: DeadLetterRecord[]): DeadLetterRecord[][] {
  const groups: DeadLetterRecord[][] = [];
  let current: DeadLetterRecord[] = [];
  let bytes = 0;
  for (const r of records) {
    const size = (r.value?.length ?? 0) + (r.key?.length ?? 0) + 512;
    if (current.length > 0 && (current.length >= 500 || bytes + size > 900_000)) {
      groups.push(current);
      current = [];
      bytes = 0;
    }
    current.push(r);
    bytes += size;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

function program(io: CliIo): Command {
  const cli = new Command('dlq')
    .description("List and replay the invalidator's dead letters (reads the DLQ from the beginning up to its end offsets at start)")
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.replace(/\n$/, '')), writeErr: (s) => io.err(s.replace(/\n$/, '')) })
    .showHelpAfterError();

  withFilters(
    cli
      .command('list')
      .description(
        'one line per matching dead letter (DLQ partition/offset, reason, origin topic/partition@offset, failed at, size) and a count per reason',
      ),
    io.env,
  ).action(async (options: CommonOptions) => {
    const kafka = connect(options);
    const history = new ReplayHistory(await readDeadLetters(kafka, options.dlqTopic, options.timeoutMs));
    const all = history.letters();
    const matched = all.filter((r) => matches(r, filterOf(options)));
    for (const r of matched) io.out(`${formatLine(r)}${history.wasReplayed(r) ? '  replayed' : ''}`);
    const references = matched.filter((r) => describeDeadLetter(r).reference).length;
    const replayed = matched.filter((r) => history.wasReplayed(r)).length;
    io.out(
      `${matched.length} dead letters matched (of ${all.length} in ${options.dlqTopic}): ${countBy(matched)}` +
        `${references > 0 ? `; ${references} are references (too large to dead-letter whole, not replayable)` : ''}${replayed > 0 ? `; ${replayed} already replayed` : ''}`,
    );
  });

  withFilters(
    cli
      .command('replay')
      .description(
        're-publish matching dead letters to their origin topic and partition, original key and headers (x-dlq-* stripped, x-dlq-replayed-from added); ' +
          'letters already replayed, and copies dead-lettered again by a replay, are skipped',
      ),
    io.env,
  )
    .option('--dry-run', 'print what would be replayed, publish nothing')
    .option('--again', 'replay letters already replayed too (the newest letter of each event only)')
    .action(async (options: CommonOptions & { dryRun?: boolean; again?: boolean }) => {
      const kafka = connect(options);
      const history = new ReplayHistory(await readDeadLetters(kafka, options.dlqTopic, options.timeoutMs));
      const matched = history.letters().filter((r) => matches(r, filterOf(options)));
      const replayable: DeadLetterRecord[] = [];
      let references = 0;
      let noOrigin = 0;
      for (const r of matched) {
        const d = describeDeadLetter(r);
        if (d.reference) {
          references += 1;
          io.out(
            `skip    ${formatLine(r)}  (a reference: the message was too large to dead-letter whole; not replayable, the original is at its origin offset until retention ends)`,
          );
        } else if (!d.originTopic) {
          noOrigin += 1;
          io.out(`skip    ${formatLine(r)}  (no ${DLQ_HEADERS.originTopic} header)`);
        } else replayable.push(r);
      }
      const plan = planReplay(replayable, history, { again: options.again });
      for (const { record, why } of plan.skipped)
        io.out(`skip    ${formatLine(record)}  (${why}${options.again ? '' : '; --again to replay anyway'})`);
      const verb = options.dryRun ? 'would replay' : 'replayed';
      if (!options.dryRun && plan.replay.length > 0) {
        const producer = new RecordProducer(kafka, { retries: 5, sendTimeoutMs: 30_000 });
        await producer.connect();
        try {
          const byTopic = new Map<string, DeadLetterRecord[]>();
          for (const r of plan.replay) {
            const t = describeDeadLetter(r).originTopic!;
            byTopic.set(t, [...(byTopic.get(t) ?? []), r]);
          }
          // Marks after the records they stand for: a crash in between replays those again next
          // time (at least once; the invalidator's version guard makes a repeat harmless).
          for (const [topic, records] of byTopic) {
            for (const group of sendGroups(records)) {
              await producer.send(topic, group.map(toReplayRecord));
              await producer.send(
                options.dlqTopic,
                group.map((r) => toReplayMark(r)),
              );
            }
          }
        } finally {
          await producer.disconnect();
        }
      }
      for (const r of plan.replay) io.out(`${options.dryRun ? 'would  ' : 'replay '} ${formatLine(r)}`);
      const already = plan.skipped.filter((s) => s.kind === 'already-replayed').length;
      const superseded = plan.skipped.filter((s) => s.kind === 'superseded').length;
      io.out(
        `${options.dryRun ? 'dry run: ' : ''}${verb} ${plan.replay.length} of ${matched.length} matched dead letters (${countBy(plan.replay)}); ` +
          `${references} references skipped (not replayable)${noOrigin > 0 ? `; ${noOrigin} without origin skipped` : ''}` +
          `${already > 0 ? `; ${already} already replayed skipped (--again to replay anyway)` : ''}` +
          `${superseded > 0 ? `; ${superseded} superseded by a newer letter of the same event skipped` : ''}`,
      );
    });

  return cli;
}

/** Runs one CLI invocation (argv without node and script) and returns its exit code. */
export async function runDlqCli(argv: string[], io: CliIo): Promise<DlqExitCode> {
  const cli = program(io);
  try {
    if (argv.length === 0) {
      cli.outputHelp({ error: true });
      return DLQ_EXIT.USAGE;
    }
    await cli.parseAsync(argv, { from: 'user' });
    return DLQ_EXIT.OK;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? DLQ_EXIT.OK : DLQ_EXIT.USAGE;
    if (error instanceof DlqCliError) {
      io.err(`dlq: ${error.message}`);
      return error.exitCode;
    }
    io.err(`dlq: ${(error as Error).message ?? String(error)}`);
    return DLQ_EXIT.ERROR;
  }
}
