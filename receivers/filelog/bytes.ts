/** Bytes for encode.ts and json-attrs.ts: protobuf varints, short copies (the growing buffer is core/byte-buf.ts). */


/** Bytes of a non-negative integer (up to 2^53) as a varint. */
export const varintLen = (n: number): number =>
  n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : n < 0x800000000 ? 5 : n < 0x40000000000 ? 6 : n < 0x2000000000000 ? 7 : 8;

/**
 * src[s, e) into dst at q; returns the new q. A short run is copied byte by
 * byte: Buffer.copy of a part makes a Uint8Array view each time.
 */
export function copyBytes(src: Uint8Array, s: number, e: number, dst: Uint8Array, q: number): number {
  if (e - s > 64) {
    dst.set(src.subarray(s, e), q);
    return q + e - s;
  }
  while (s < e) dst[q++] = src[s++]!;
  return q;
}

/** A non-negative integer up to 2^53 as a varint. */
export function putVarint(b: Buffer, p: number, n: number): number {
  if (n < 0x80000000) {
    while (n > 0x7f) {
      b[p++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    b[p++] = n;
    return p;
  }
  while (n >= 0x80) {
    b[p++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  b[p++] = n;
  return p;
}
