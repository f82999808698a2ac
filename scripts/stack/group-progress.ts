// How far a consumer group got on a topic: committed offsets vs. end offsets, summed over the
// partitions, read through the admin API (as an operator sees it). Used by tests, the bench and
// the consistency checker to wait for "everything published is committed". Each read retries
// what Kafka says is worth retrying (a coordinator moving, a leader election: admin-retry.ts).
import type { Admin } from 'kafkajs';
import { AdminRetryOptions, withAdminRetry } from './admin-retry';

export interface GroupProgress {
  committed: number;
  end: number;
  /** Per partition (a partition without a commit counts 0): what a "did not converge" names. */
  partitions: { partition: number; committed: number; end: number }[];
}

export async function groupProgress(admin: Admin, groupId: string, topic: string, retry?: AdminRetryOptions): Promise<GroupProgress> {
  const [offsets] = await withAdminRetry(
    `fetchOffsets(group ${groupId}, topic ${topic})`,
    () => admin.fetchOffsets({ groupId, topics: [topic] }),
    retry,
  );
  const ends = await withAdminRetry(`fetchTopicOffsets(${topic})`, () => admin.fetchTopicOffsets(topic), retry);
  // a partition without a commit reports -1
  const committedOf = new Map(offsets.partitions.map((p) => [p.partition, Math.max(0, Number(p.offset))]));
  const partitions = ends
    .map((p) => ({ partition: p.partition, committed: committedOf.get(p.partition) ?? 0, end: Number(p.high) }))
    .sort((a, b) => a.partition - b.partition);
  return {
    committed: [...committedOf.values()].reduce((sum, offset) => sum + offset, 0),
    end: ends.reduce((sum, p) => sum + Number(p.high), 0),
    partitions,
  };
}
