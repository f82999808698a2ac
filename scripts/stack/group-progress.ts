// How far a consumer group got on a topic: committed offsets vs. end offsets, summed over the
// partitions, read through the admin API (as an operator sees it). Used by tests, the bench and
// the consistency checker to wait for "everything published is committed". Each read retries
// what Kafka says is worth retrying (a coordinator moving, a leader election: admin-retry.ts).
import type { Admin } from 'kafkajs';
import { AdminRetryOptions, withAdminRetry } from './admin-retry';

export interface GroupProgress {
  committed: number;
  end: number;
}

export async function groupProgress(admin: Admin, groupId: string, topic: string, retry?: AdminRetryOptions): Promise<GroupProgress> {
  const [offsets] = await withAdminRetry(
    `fetchOffsets(group ${groupId}, topic ${topic})`,
    () => admin.fetchOffsets({ groupId, topics: [topic] }),
    retry,
  );
  const ends = await withAdminRetry(`fetchTopicOffsets(${topic})`, () => admin.fetchTopicOffsets(topic), retry);
  return {
    // a partition without a commit reports -1
    committed: offsets.partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0),
    end: ends.reduce((sum, p) => sum + Number(p.high), 0),
  };
}
