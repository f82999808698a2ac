import { CompressionCodecs, CompressionTypes } from 'kafkajs';
import {
  compressionType,
  KAFKA_COMPRESSION_NAMES,
  KafkaCodec,
  lz4Codec,
  registerKafkaCodecs,
  snappyCodec,
  snappyDecompress,
  zstdCodec,
} from './codecs';
import { createKafka } from './kafka-client';

// kafkajs internals, to run a whole record batch through its own encoder and decoder.
/* eslint-disable @typescript-eslint/no-require-imports */
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as {
  RecordBatch: (args: { compression: number; records: unknown[] }) => Promise<{ buffer: Buffer }>;
};
const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as (args: {
  offsetDelta: number;
  key: Buffer;
  value: Buffer;
}) => unknown;
const decodeRecordBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder') as (
  decoder: unknown,
) => Promise<{ records: { key: Buffer; value: Buffer }[] }>;
const Decoder = require('kafkajs/src/protocol/decoder') as new (buffer: Buffer) => unknown;
const snappyjs = require('snappyjs') as { compress(input: Buffer): Buffer };

// Frames written by the reference C command-line tools (`... | zstd -c`, `... | lz4 -c`, v1.5.4 and
// v1.9.4) from 50 x "entity.updated fixture ": the zstd frame is streamed (no content size, like
// Java's zstd-jni), the lz4 frame carries a content checksum.
const FIXTURE_TEXT = 'entity.updated fixture '.repeat(50);
const ZSTD_CLI_FRAME = 'KLUv/QRY/QAAuGVudGl0eS51cGRhdGVkIGZpeHR1cmUgAQDJ0H82AY2m1Wc=';
const LZ4_CLI_FRAME = 'BCJNGGRApyYAAAD/CGVudGl0eS51cGRhdGVkIGZpeHR1cmUgFwD/////U1B0dXJlIAAAAAAEGAIv';

const codecs: [string, KafkaCodec][] = [
  ['snappy', snappyCodec],
  ['lz4', lz4Codec],
  ['zstd', zstdCodec],
];

function sample(bytes: number): Buffer {
  // half compressible text, half noise, so every codec has real work
  const text = Buffer.from('{"entityType":"product","entityId":"p-1","version":7} '.repeat(Math.ceil(bytes / 100)));
  const noise = Buffer.alloc(bytes / 2);
  for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24;
  return Buffer.concat([text.subarray(0, bytes / 2), noise]);
}

describe('Kafka compression codecs', () => {
  it.each(codecs)('%s: compress then decompress gives the same bytes (empty, small, 3 MB)', async (_name, codec) => {
    for (const input of [Buffer.alloc(0), Buffer.from('x'), sample(4096), sample(3 * 1024 * 1024)]) {
      const compressed = await codec.compress({ buffer: input });
      expect(Buffer.isBuffer(compressed)).toBe(true);
      const back = await codec.decompress(compressed);
      expect(Buffer.isBuffer(back)).toBe(true);
      expect(back.equals(input)).toBe(true);
    }
  });

  it('zstd: decompresses a streamed frame of the reference zstd tool (no content size)', async () => {
    expect((await zstdCodec.decompress(Buffer.from(ZSTD_CLI_FRAME, 'base64'))).toString()).toBe(FIXTURE_TEXT);
  });

  it('lz4: decompresses a frame of the reference lz4 tool (content checksum)', async () => {
    expect((await lz4Codec.decompress(Buffer.from(LZ4_CLI_FRAME, 'base64'))).toString()).toBe(FIXTURE_TEXT);
  });

  it('snappy: reads raw snappy (librdkafka) and xerial-framed snappy in several blocks (Java)', () => {
    const a = sample(5000);
    const b = Buffer.from('second block');
    expect(snappyDecompress(snappyjs.compress(a)).equals(a)).toBe(true);
    const block = (raw: Buffer) => {
      const compressed = snappyjs.compress(raw);
      const length = Buffer.alloc(4);
      length.writeUInt32BE(compressed.length);
      return Buffer.concat([length, compressed]);
    };
    // magic "\x82SNAPPY\0", version 1, compatible version 1 (what snappy-java's SnappyOutputStream writes)
    const header = Buffer.concat([Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]), Buffer.from([0, 0, 0, 1, 0, 0, 0, 1])]);
    expect(snappyDecompress(Buffer.concat([header, block(a), block(b)])).equals(Buffer.concat([a, b]))).toBe(true);
    expect(() => snappyDecompress(Buffer.concat([header, block(a)]).subarray(0, 40))).toThrow(/truncated/);
  });

  it('maps every codec name to its kafkajs type', () => {
    expect(KAFKA_COMPRESSION_NAMES.map(compressionType)).toEqual([
      CompressionTypes.None,
      CompressionTypes.GZIP,
      CompressionTypes.Snappy,
      CompressionTypes.LZ4,
      CompressionTypes.ZSTD,
    ]);
  });

  it('createKafka registers them in kafkajs: a record batch in each codec goes through kafkajs encode and decode', async () => {
    // kafkajs alone (importing codecs.ts registers nothing)
    expect(() => void CompressionCodecs[CompressionTypes.LZ4]()).toThrow(/LZ4 compression not implemented/);
    createKafka({ brokers: ['127.0.0.1:1'], clientId: 'codec-test' });
    registerKafkaCodecs(); // idempotent
    expect(CompressionCodecs[CompressionTypes.LZ4]()).toBe(lz4Codec);
    for (const name of KAFKA_COMPRESSION_NAMES) {
      const records = [0, 1, 2].map((i) =>
        Record({ offsetDelta: i, key: Buffer.from(`product:p-${i}`), value: Buffer.from(JSON.stringify({ i, name })) }),
      );
      const encoded = await RecordBatch({ compression: compressionType(name), records });
      const decoded = await decodeRecordBatch(new Decoder(encoded.buffer));
      expect(decoded.records.map((r) => [r.key.toString(), JSON.parse(r.value.toString()) as unknown])).toEqual(
        [0, 1, 2].map((i) => [`product:p-${i}`, { i, name }]),
      );
    }
  });
});
