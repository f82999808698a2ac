// Step 5 of the pipeline (invalidation.pipeline.ts), dead-letter: get a chunk's dead letters
// (rejected by decode, unresolvable by resolve) into the DLQ topic, however long it takes, without
// ever halting the partition for good or losing the consumer group membership. Like apply.ts
// does for Redis: on failure the partition is paused and the remaining produce requests are
// retried with capped exponential backoff and full jitter, heartbeating between attempts and
// giving up (uncommitted, to be redelivered) as soon as the batch is no longer ours.
import type { BatchControl, OutboundRecord } from '@app/kafka';
import { isRecordTooLargeError } from '@app/kafka';
import type { Logger } from '@app/telemetry';
import { BackoffPolicy, PausedRetry } from './backoff';
import { Rejection } from './dead-letter-code';
import { DeadLetter, deadLetterBudget, planDeadLetters, recordBytes, splitIntoRequests, toReferenceRecord } from './dead-letter-records';

/** Where dead letters go: one produce request per call (throws when it failed or timed out). */
export interface DeadLetterSink {
  send(records: OutboundRecord[]): Promise<void>;
  /** The DLQ topic's max.message.bytes (learned at start, else DLQ_MAX_MESSAGE_BYTES). */
  maxBatchBytes(): number;
}

export interface DeliveryHooks {
  /** A produce request failed (it is retried after a backoff, or re-split when it was too large). */
  onFailure(): void;
  /** A dead letter goes out as a reference (too large to dead-letter whole). */
  onReference(): void;
}

export type DeliveryResult = { delivered: true; letters: DeadLetter[] } | { delivered: false };

export async function deliverDeadLetters(
  rejections: Rejection[],
  originTopic: string,
  sink: DeadLetterSink,
  control: BatchControl,
  policy: BackoffPolicy,
  log: Logger,
  hooks: DeliveryHooks,
): Promise<DeliveryResult> {
  const maxBytes = sink.maxBatchBytes();
  const budget = deadLetterBudget(maxBytes);
  const letters = planDeadLetters(rejections, originTopic, budget);
  for (const l of letters) {
    if (l.reference) {
      hooks.onReference();
      log.warn(
        {
          originTopic,
          partition: l.rejection.partition,
          offset: l.rejection.offset,
          code: l.rejection.code,
          bytes: l.rejection.value?.length ?? 0,
          dlqMaxMessageBytes: maxBytes,
        },
        'dead letter too large for the DLQ topic: sending a reference (origin, size, reason, first bytes) instead of the whole message',
      );
    }
  }
  const queue = splitIntoRequests(letters, budget);
  const partition = rejections[0]?.partition;
  const retry = new PausedRetry(control, policy);
  try {
    while (queue.length > 0) {
      const group = queue[0];
      try {
        await sink.send(group.map((l) => l.record));
        queue.shift();
        if (retry.failures > 0)
          log.info(
            { originTopic, partition, attempts: retry.failures + 1 },
            'dead-letter topic is back: dead letters delivered, partition resumes',
          );
        retry.succeeded();
        continue;
      } catch (error) {
        hooks.onFailure();
        // The broker's limit is smaller than we learned (the topic was changed): split further,
        // and a single record that alone is too large goes out as a reference, if that is smaller.
        if (isRecordTooLargeError(error)) {
          if (group.length > 1) {
            const half = Math.ceil(group.length / 2);
            queue.splice(0, 1, group.slice(0, half), group.slice(half));
            continue;
          }
          const [only] = group;
          if (!only.reference) {
            const reference = toReferenceRecord(only.rejection, originTopic);
            if (recordBytes(reference) < recordBytes(only.record)) {
              only.record = reference;
              only.reference = true;
              hooks.onReference();
              log.warn(
                {
                  originTopic,
                  partition,
                  offset: only.rejection.offset,
                  code: only.rejection.code,
                  bytes: only.rejection.value?.length ?? 0,
                },
                'the DLQ topic refused the dead letter as too large: sending a reference (origin, size, reason, first bytes) instead',
              );
              continue;
            }
          }
        }
        const err = (error as Error).message;
        const waited = await retry.backOff((attempt, retryInMs) => {
          if (attempt === 1 || (attempt - 1) % 10 === 0) {
            log.error(
              { err, originTopic, partition, deadLetters: group.length, attempt, retryInMs },
              'dead-letter produce failed (DLQ topic unavailable or refusing): partition paused, nothing committed past this chunk, retrying with backoff',
            );
          }
        });
        if (!waited) {
          log.warn(
            { err, originTopic, partition, attempts: retry.failures + 1 },
            'dead-letter produce failed and the batch is no longer ours: abandoning it uncommitted (it will be redelivered)',
          );
          return { delivered: false };
        }
        if (!control.isActive()) {
          log.warn(
            { originTopic, partition, attempts: retry.failures },
            'dead-letter produce abandoned: the batch is no longer ours (it will be redelivered)',
          );
          return { delivered: false };
        }
      }
    }
    return { delivered: true, letters };
  } finally {
    retry.release();
  }
}
