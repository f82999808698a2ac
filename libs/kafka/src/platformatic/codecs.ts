// @platformatic/kafka (2.x) decompresses gzip and zstd with node:zlib (zstd from Node 22.15, below
// its engines), snappy (raw and Java's xerial framing) and lz4 with its WebAssembly utils. We still
// plug the decoders kafkajs uses (../codecs.ts) into its codec table, a mutable exported object,
// so both clients decode a record batch with the same code (and the table also decodes zstd on a
// Node without zlib.zstd*, where the unit tests load it):
//   zstd    fzstd (pure JS), any frame, also streamed ones without a content size (Java's zstd-jni)
//   snappy  raw snappy (librdkafka, kafkajs) and the xerial framing Java producers write
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
