// One partition's part of a platformatic fetch response → the messages handed to the pipeline.
// A fetch returns whole record batches, so the first one may start before the requested offset
// (a compressed batch is always read whole): those records were already handed out and are
// dropped. Control batches (transaction markers) carry no messages but their offsets count.
import type { InboundMessage } from '../consumer-api';
import type { FetchedPartition } from './partition-worker';

/** The fields of platformatic's RecordsBatch / KafkaRecord we read. */
export interface FetchedRecord {
  timestampDelta: bigint;
  offsetDelta: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: [Buffer | null, Buffer | null][];
}

export interface FetchedRecordBatch {
  firstOffset: bigint;
  lastOffsetDelta: number;
  firstTimestamp: bigint;
  maxTimestamp: bigint;
  attributes: number;
  records: FetchedRecord[];
}

/** The fields of platformatic's FetchResponsePartition we read. */
export interface FetchedPartitionResponse {
  highWatermark: bigint;
  records?: readonly FetchedRecordBatch[] | null;
}

const IS_CONTROL = 1 << 5;
const LOG_APPEND_TIME = 1 << 3;

export interface PartitionRecords {
  messages: InboundMessage[];
  /** Where the next fetch starts when every message was handled: after the last batch (control ones included). */
  nextOffset: bigint;
}

export function partitionRecords(
  topic: string,
  partition: number,
  fetchOffset: bigint,
  batches: readonly FetchedRecordBatch[] | null | undefined,
): PartitionRecords {
  const messages: InboundMessage[] = [];
  let nextOffset = fetchOffset;
  for (const batch of batches ?? []) {
    const end = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n;
    if (end > nextOffset) nextOffset = end;
    if (batch.attributes & IS_CONTROL) continue;
    for (const record of batch.records) {
      const offset = batch.firstOffset + BigInt(record.offsetDelta);
      if (offset < fetchOffset) continue;
      // With LogAppendTime the broker's time is the batch's maxTimestamp (records keep the producer's).
      const timestamp = batch.attributes & LOG_APPEND_TIME ? batch.maxTimestamp : batch.firstTimestamp + record.timestampDelta;
      messages.push({
        topic,
        partition,
        offset: offset.toString(),
        key: record.key,
        value: record.value,
        headers: headersOf(record.headers),
        timestamp: Number(timestamp),
      });
    }
  }
  return { messages, nextOffset };
}

/**
 * One fetch response for one partition → what its worker hands on. The library keeps a fetch
 * session per broker, and an incremental response leaves out a partition with nothing new
 * (`part` undefined): no messages, the position stays, and the high watermark is the last one
 * reported (`knownHighWatermark`), never the fetch position when that is behind it.
 */
export function fetchedPartition(
  topic: string,
  partition: number,
  position: bigint,
  part: FetchedPartitionResponse | undefined,
  knownHighWatermark: bigint | undefined,
): FetchedPartition {
  const { messages, nextOffset } = partitionRecords(topic, partition, position, part?.records);
  const known = knownHighWatermark !== undefined && knownHighWatermark > position ? knownHighWatermark : position;
  return { messages, nextOffset, highWatermark: part ? part.highWatermark : known };
}

/** First value of each header name as a string (what kafkajs' adapter hands out too). */
function headersOf(pairs: [Buffer | null, Buffer | null][]): Record<string, string | undefined> {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of pairs) {
    if (!name) continue;
    const key = name.toString('utf8');
    if (key in headers) continue;
    headers[key] = value === null ? undefined : value.toString('utf8');
  }
  return headers;
}
