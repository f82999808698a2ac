// Every Kafka compression codec, registered once in kafkajs's module-global CompressionCodecs
// (kafkajs itself only has gzip; a record batch in another codec would crash a consumer with a
// non-retriable KafkaJSNotImplemented). createKafka() registers them, so every kafkajs client
// of apps/ and libs/ reads none, gzip, snappy, lz4 and zstd, whoever produced the batch.
//
//   snappy  snappyjs (pure JS): raw snappy (librdkafka, kafkajs) and xerial-framed snappy (Java)
//   lz4     lz4-napi (lz4_flex, prebuilt N-API binaries in npm platform packages): LZ4 frame format
//   zstd    fzstd (pure JS) decompresses any frame, also streamed ones without a content size
//           (Java's zstd-jni); @bokuweb/zstd-wasm (WebAssembly, level 3) compresses
import { CompressionCodecs, CompressionTypes } from 'kafkajs';
import { compressFrame, decompressFrame } from 'lz4-napi';
import { decompress as zstdDecompress } from 'fzstd';
import { compress as zstdCompress, init as zstdInit } from '@bokuweb/zstd-wasm';
import * as snappy from 'snappyjs';

/** What kafkajs asks of a codec: compress gets the encoded record set, decompress the batch's records bytes. */
export interface KafkaCodec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

export const KAFKA_COMPRESSION_NAMES = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
export type KafkaCompression = (typeof KAFKA_COMPRESSION_NAMES)[number];

/** The kafkajs CompressionTypes value of a codec name (none, gzip, snappy, lz4, zstd). */
export function compressionType(name: KafkaCompression): CompressionTypes {
  switch (name) {
    case 'none':
      return CompressionTypes.None;
    case 'gzip':
      return CompressionTypes.GZIP;
    case 'snappy':
      return CompressionTypes.Snappy;
    case 'lz4':
      return CompressionTypes.LZ4;
    case 'zstd':
      return CompressionTypes.ZSTD;
  }
}

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]); // "\x82SNAPPY\0"
const XERIAL_HEADER_BYTES = 16; // magic (8) + version (4) + compatible version (4)

/** Raw snappy, or the xerial framing Java producers write: header, then [uint32 BE length][raw snappy block]... */
export function snappyDecompress(buffer: Buffer): Buffer {
  if (buffer.length < XERIAL_HEADER_BYTES || !buffer.subarray(0, XERIAL_MAGIC.length).equals(XERIAL_MAGIC))
    return toBuffer(snappy.uncompress(buffer));
  const blocks: Buffer[] = [];
  let offset = XERIAL_HEADER_BYTES;
  while (offset < buffer.length) {
    if (offset + 4 > buffer.length) throw new Error('xerial snappy: truncated block length');
    const size = buffer.readUInt32BE(offset);
    offset += 4;
    if (offset + size > buffer.length) throw new Error('xerial snappy: truncated block');
    blocks.push(toBuffer(snappy.uncompress(buffer.subarray(offset, offset + size))));
    offset += size;
  }
  return Buffer.concat(blocks);
}

/** `fn()` as a promise, a throw becoming its rejection (what an async function would do). */
function promised<T>(fn: () => T): Promise<T> {
  return new Promise((resolve) => resolve(fn()));
}

export const snappyCodec: KafkaCodec = {
  compress: ({ buffer }) => promised(() => toBuffer(snappy.compress(buffer))),
  decompress: (buffer) => promised(() => snappyDecompress(buffer)),
};

export const lz4Codec: KafkaCodec = {
  compress: ({ buffer }) => compressFrame(buffer),
  decompress: (buffer) => decompressFrame(buffer),
};

let zstdReady: Promise<void> | undefined;

export const zstdCodec: KafkaCodec = {
  compress: async ({ buffer }) => {
    // The WebAssembly module loads once, on the first compression (consumers never need it).
    zstdReady ??= zstdInit();
    await zstdReady;
    return toBuffer(zstdCompress(buffer, 3));
  },
  decompress: (buffer) => promised(() => toBuffer(zstdDecompress(buffer))),
};

/** Registers snappy, lz4 and zstd in kafkajs (gzip is built in). Idempotent; createKafka calls it. */
export function registerKafkaCodecs(): void {
  // kafkajs looks the codec up per record batch through a factory: hand out the same object.
  CompressionCodecs[CompressionTypes.Snappy] = () => snappyCodec;
  CompressionCodecs[CompressionTypes.LZ4] = () => lz4Codec;
  CompressionCodecs[CompressionTypes.ZSTD] = () => zstdCodec;
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
