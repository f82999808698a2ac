import { FetchedRecordBatch, partitionRecords } from './records';

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
  });
});
