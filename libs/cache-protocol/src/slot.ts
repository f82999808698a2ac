// Redis Cluster key slot (CRC16/XMODEM of the hash tag or whole key, mod 16384), computed
// locally so a batch can be grouped by slot and node without asking Redis.

const TABLE = new Uint16Array(256);
for (let i = 0; i < 256; i += 1) {
  let crc = i << 8;
  for (let bit = 0; bit < 8; bit += 1) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  TABLE[i] = crc;
}

export const CLUSTER_SLOTS = 16384;

function crc16(text: string): number {
  let crc = 0;
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code < 0x80) {
      crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ code) & 0xff];
      continue;
    }
    // Non-ASCII: hash the UTF-8 bytes, as Redis does.
    for (const byte of Buffer.from(text.slice(i), 'utf8')) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ byte) & 0xff];
    return crc;
  }
  return crc;
}

/** The part of `key` Redis Cluster hashes: the content of its first `{...}` when non-empty, else the whole key. */
export function hashedPart(key: string): string {
  const open = key.indexOf('{');
  if (open < 0) return key;
  const close = key.indexOf('}', open + 1);
  if (close <= open + 1) return key;
  return key.slice(open + 1, close);
}

export function clusterSlot(key: string): number {
  return crc16(hashedPart(key)) % CLUSTER_SLOTS;
}

/** Indices of `items` grouped by the cluster slot of `keyOf(item)`, in input order within a slot. */
export function indicesBySlot<T>(items: readonly T[], keyOf: (item: T) => string): Map<number, number[]> {
  const bySlot = new Map<number, number[]>();
  for (let i = 0; i < items.length; i += 1) {
    const slot = clusterSlot(keyOf(items[i]));
    const list = bySlot.get(slot);
    if (list) list.push(i);
    else bySlot.set(slot, [i]);
  }
  return bySlot;
}

/** `list` cut into runs of at most `size`, in order. */
export function chunked<T>(list: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}
