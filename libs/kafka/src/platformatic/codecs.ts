// @platformatic/kafka decompresses gzip (node:zlib), snappy and lz4 (its WebAssembly utils) on
// Node 20, but zstd only through node:zlib's zstd functions, which Node 20 lacks: a zstd record
// batch would fail the fetch with UnsupportedCompressionError. Its codec table is a mutable
// exported object, so we plug the same decoders kafkajs uses (../codecs.ts):
//   zstd    fzstd (pure JS), any frame, also streamed ones without a content size (Java's zstd-jni)
//   snappy  raw snappy (librdkafka, kafkajs) and the xerial framing Java producers write; the
//           WebAssembly decoder reads raw snappy only
// Compression (producing zstd) is not plugged: the service's own producers never compress.
import { decompress as zstdDecompress } from 'fzstd';
import { snappyDecompress } from '../codecs';

/** The shape of @platformatic/kafka's `compressionsAlgorithms` entries we replace. */
export interface PlatformaticCodec {
  decompressSync(data: unknown): Buffer;
  available: boolean;
}

/** A Buffer, or platformatic's DynamicBuffer (its `buffer` getter concatenates the chunks). */
function asBuffer(data: unknown): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const inner = (data as { buffer?: unknown } | null)?.buffer;
  if (Buffer.isBuffer(inner)) return inner;
  throw new TypeError('compressed record batch: expected a Buffer or a DynamicBuffer');
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Idempotent; the loader calls it once. */
export function plugPlatformaticCodecs(algorithms: Record<string, unknown>): void {
  const zstd = algorithms.zstd as PlatformaticCodec | undefined;
  const snappy = algorithms.snappy as PlatformaticCodec | undefined;
  // The same objects are reachable by bitmask (compressionsAlgorithmsByBitmask): patch in place.
  if (zstd) {
    zstd.decompressSync = (data) => toBuffer(zstdDecompress(asBuffer(data)));
    zstd.available = true;
  }
  if (snappy) snappy.decompressSync = (data) => snappyDecompress(asBuffer(data));
}
