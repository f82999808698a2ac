import { compress as zstdCompress, init as zstdInit } from '@bokuweb/zstd-wasm';
import { platformaticKafka } from './load';

// The real @platformatic/kafka codec table after platformaticKafka() plugged ours in (on Node 20,
// where the unit tests also run, its own zstd entry is unavailable: no zlib.zstd*).
describe('platformatic codec table (plugged on load)', () => {
  const table = () =>
    platformaticKafka().compressionsAlgorithms as unknown as Record<
      string,
      { available: boolean; decompressSync(data: Buffer): Buffer; compressSync(data: Buffer): Buffer }
    >;
  const input = Buffer.from('a lamp with a linen shade, a brass stem and a round oak base; '.repeat(20));

  it('decompresses zstd (the record batch decoder looks codecs up in this table)', async () => {
    await zstdInit();
    const frame = Buffer.from(zstdCompress(input, 3));
    expect(table().zstd.available).toBe(true);
    expect(table().zstd.decompressSync(frame).equals(input)).toBe(true);
  });

  it('decompresses xerial-framed snappy (Java producers) as well as raw snappy (its own)', () => {
    const raw = table().snappy.compressSync(input);
    expect(table().snappy.decompressSync(raw).equals(input)).toBe(true);
    const header = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(raw.length);
    expect(
      table()
        .snappy.decompressSync(Buffer.concat([header, length, raw]))
        .equals(input),
    ).toBe(true);
  });

  it('still decompresses lz4 and gzip natively', () => {
    expect(table().lz4.decompressSync(table().lz4.compressSync(input)).equals(input)).toBe(true);
    expect(table().gzip.decompressSync(table().gzip.compressSync(input)).equals(input)).toBe(true);
  });
});
