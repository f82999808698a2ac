import { fetchedPartition, FetchedRecordBatch, partitionRecords } from './records';

const rec = (offsetDelta: number, value: string, headers: [string, string | null][] = []) => ({
  offsetDelta,
  timestampDelta: BigInt(offsetDelta),
  key: Buffer.from(`k${offsetDelta}`),
  value: Buffer.from(value),
  headers: headers.map(([n, v]) => [Buffer.from(n), v === null ? null : Buffer.from(v)] as [Buffer, Buffer | null]),
});

function batch(
  firstOffset: bigint,
  records: ReturnType<typeof rec>[],
  attributes = 0,
  lastOffsetDelta = records.length - 1,
): FetchedRecordBatch {
  return { firstOffset, lastOffsetDelta, firstTimestamp: 1_000n, maxTimestamp: 9_000n, attributes, records };
}

describe('partitionRecords (one partition of a platformatic fetch response)', () => {
  it('drops records before the fetch offset (a whole compressed batch comes back) and keeps offset order', () => {
    const got = partitionRecords('t', 2, 12n, [
      batch(10n, [rec(0, 'a'), rec(1, 'b'), rec(2, 'c'), rec(3, 'd')]),
      batch(14n, [rec(0, 'e')]),
    ]);
    expect(got.messages.map((m) => [m.offset, m.value!.toString(), m.partition, m.topic])).toEqual([
      ['12', 'c', 2, 't'],
      ['13', 'd', 2, 't'],
      ['14', 'e', 2, 't'],
    ]);
    expect(got.nextOffset).toBe(15n);
  });

  it('skips control batches but moves the next fetch offset past them', () => {
    const got = partitionRecords('t', 0, 5n, [batch(5n, [rec(0, 'a')]), batch(6n, [rec(0, 'marker')], 1 << 5)]);
    expect(got.messages.map((m) => m.offset)).toEqual(['5']);
    expect(got.nextOffset).toBe(7n);
  });

  it('uses the batch end for the next offset even when compaction left gaps', () => {
    expect(partitionRecords('t', 0, 0n, [batch(0n, [rec(0, 'a'), rec(4, 'b')], 0, 6)]).nextOffset).toBe(7n);
  });

  it('maps headers to strings (first value of a repeated name) and timestamps to ms (LogAppendTime: the batch max)', () => {
    const [m] = partitionRecords('t', 0, 0n, [
      batch(0n, [
        rec(0, 'a', [
          ['x-schema-version', '1'],
          ['x-schema-version', '2'],
          ['empty', null],
        ]),
      ]),
    ]).messages;
    expect(m.headers).toEqual({ 'x-schema-version': '1', empty: undefined });
    expect(m.timestamp).toBe(1_000);
    const [appended] = partitionRecords('t', 0, 0n, [batch(0n, [rec(0, 'a')], 1 << 3)]).messages;
    expect(appended.timestamp).toBe(9_000);
  });

  it('returns nothing (and the same offset) for an empty fetch', () => {
    expect(partitionRecords('t', 0, 3n, undefined)).toEqual({ messages: [], nextOffset: 3n });
    expect(partitionRecords('t', 0, 3n, null)).toEqual({ messages: [], nextOffset: 3n });
  });
});

describe('fetchedPartition (what a partition worker gets from one fetch response)', () => {
  it('takes the messages and the high watermark of the partition the broker answered for', () => {
    const got = fetchedPartition('t', 1, 10n, { highWatermark: 12n, records: [batch(10n, [rec(0, 'a'), rec(1, 'b')])] }, 4n);
    expect(got.messages.map((m) => m.offset)).toEqual(['10', '11']);
    expect(got.nextOffset).toBe(12n);
    expect(got.highWatermark).toBe(12n);
  });

  it('a partition included without records (only its offsets changed): nothing, same position, its high watermark', () => {
    expect(fetchedPartition('t', 1, 10n, { highWatermark: 15n, records: null }, 12n)).toEqual({
      messages: [],
      nextOffset: 10n,
      highWatermark: 15n,
    });
  });

  // With a fetch session, an incremental response leaves out a partition with nothing new: no
  // messages, the position stays, and the high watermark is the last one the broker reported
  // (it did not change), not the fetch position.
  it('a partition left out of an incremental fetch response: nothing, same position, the high watermark does not go back', () => {
    expect(fetchedPartition('t', 1, 10n, undefined, 25n)).toEqual({ messages: [], nextOffset: 10n, highWatermark: 25n });
    // nothing reported yet: at least what was fetched up to
    expect(fetchedPartition('t', 1, 10n, undefined, undefined)).toEqual({ messages: [], nextOffset: 10n, highWatermark: 10n });
    expect(fetchedPartition('t', 1, 30n, undefined, 25n).highWatermark).toBe(30n);
  });
});
