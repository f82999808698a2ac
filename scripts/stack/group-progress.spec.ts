// groupProgress against a fake admin (pure logic): the coordinator of the group moves once, as
// it did when the bench died on NOT_COORDINATOR; the poll retries instead of failing.
import type { Admin } from 'kafkajs';
import { KafkaJSProtocolError } from 'kafkajs';
import { groupProgress } from './group-progress';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createErrorFromCode } = require('kafkajs/src/protocol/error') as { createErrorFromCode: (code: number) => KafkaJSProtocolError };
const NOT_COORDINATOR = 16;
const INVALID_GROUP_ID = 24;

function fakeAdmin(fetchOffsetsErrors: Error[]): { admin: Admin; fetchOffsetsCalls: () => number } {
  let calls = 0;
  const admin = {
    fetchOffsets: () => {
      calls += 1;
      if (calls <= fetchOffsetsErrors.length) return Promise.reject(fetchOffsetsErrors[calls - 1]);
      return Promise.resolve([
        {
          topic: 't',
          partitions: [
            { partition: 0, offset: '5', metadata: null },
            { partition: 1, offset: '-1', metadata: null },
          ],
        },
      ]);
    },
    fetchTopicOffsets: () =>
      Promise.resolve([
        { partition: 0, offset: '7', high: '7', low: '0' },
        { partition: 1, offset: '3', high: '3', low: '0' },
      ]),
  } as unknown as Admin;
  return { admin, fetchOffsetsCalls: () => calls };
}

describe('groupProgress', () => {
  it('sums committed (an uncommitted partition counts 0) and end offsets, and lists each partition', async () => {
    await expect(groupProgress(fakeAdmin([]).admin, 'g', 't')).resolves.toEqual({
      committed: 5,
      end: 10,
      partitions: [
        { partition: 0, committed: 5, end: 7 },
        { partition: 1, committed: 0, end: 3 },
      ],
    });
  });

  it('retries a NOT_COORDINATOR from fetchOffsets instead of failing the poll', async () => {
    const fake = fakeAdmin([createErrorFromCode(NOT_COORDINATOR), createErrorFromCode(NOT_COORDINATOR)]);
    await expect(groupProgress(fake.admin, 'g', 't', { initialRetryTimeMs: 1 })).resolves.toMatchObject({ committed: 5, end: 10 });
    expect(fake.fetchOffsetsCalls()).toBe(3);
  });

  it('fails at once on a non-retriable error, naming the call', async () => {
    const fake = fakeAdmin([createErrorFromCode(INVALID_GROUP_ID)]);
    await expect(groupProgress(fake.admin, 'g', 't')).rejects.toThrow(
      /^fetchOffsets\(group g, topic t\) failed: KafkaJSProtocolError INVALID_GROUP_ID/,
    );
    expect(fake.fetchOffsetsCalls()).toBe(1);
  });
});
