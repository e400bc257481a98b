/** Constants and scratch space shared by wire-reader.ts and wire-writer.ts. */
export const WT_VARINT = 0;
export const WT_I64 = 1;
export const WT_LEN = 2;
export const WT_I32 = 5;

/** Deepest AnyValue nesting we accept; protects the stack from hostile input. */
export const MAX_DEPTH = 64;

// Scratch for fixed64 <-> bigint / double without per-call allocations.
export const scratch = new Uint8Array(8);
export const scratchU64 = new BigUint64Array(scratch.buffer);
export const scratchF64 = new Float64Array(scratch.buffer);
export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// Node's Buffer has these fast native slicers; @types/node does not declare them.
export interface FastBuffer extends Buffer {
  utf8Slice(start: number, end: number): string;
  hexSlice(start: number, end: number): string;
  utf8Write(s: string, offset: number, length?: number): number;
}

export function asBuffer(data: Uint8Array): FastBuffer {
  return (Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength)) as FastBuffer;
}

/** A growable byte buffer, as far as writeLenString needs one. */
export interface ByteSink {
  buf: FastBuffer;
  pos: number;
  ensure(n: number): void;
}

/**
 * `s` as a varint byte length followed by its UTF-8: protobuf's string
 * payload, and ClickHouse's Native/RowBinary String. Short ASCII strings are
 * copied in JS (cheaper than a call into C++); other strings whose worst case
 * fits a one-byte length are written with utf8Write and the length filled in
 * after; longer ones are measured first.
 */
export function writeLenString(w: ByteSink, s: string): void {
  const n = s.length;
  if (n < 128) {
    w.ensure(1 + n * 3);
    const buf = w.buf;
    const lenPos = w.pos;
    let p = lenPos + 1;
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      buf[p++] = c;
    }
    if (i === n) {
      buf[lenPos] = n;
      w.pos = p;
      return;
    }
    if (n * 3 < 128) {
      const written = buf.utf8Write(s, lenPos + 1);
      buf[lenPos] = written;
      w.pos = lenPos + 1 + written;
      return;
    }
  }
  const bytes = Buffer.byteLength(s, 'utf8');
  w.ensure(5 + bytes);
  const buf = w.buf;
  let pos = w.pos;
  let v = bytes;
  while (v > 0x7f) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[pos++] = v;
  w.pos = pos + buf.utf8Write(s, pos, bytes);
}

/** The little-endian uint32 at `buf[p]` (a fixed32, or half of a fixed64, on the wire). */
export function fixed32At(buf: Uint8Array, p: number): number {
  return (buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16) | (buf[p + 3]! << 24)) >>> 0;
}
