// How far a consumer group got on a topic: committed offsets vs. end offsets, summed over the
// partitions, read through the admin API (as an operator sees it). Used by tests, the bench and
// the consistency checker to wait for "everything published is committed".
import type { Admin } from 'kafkajs';

export interface GroupProgress {
  committed: number;
  end: number;
}

export async function groupProgress(admin: Admin, groupId: string, topic: string): Promise<GroupProgress> {
  const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
  const ends = await admin.fetchTopicOffsets(topic);
  return {
    // a partition without a commit reports -1
    committed: offsets.partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0),
    end: ends.reduce((sum, p) => sum + Number(p.high), 0),
  };
}
