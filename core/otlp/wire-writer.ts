/** The protobuf wire writer: see protowire.ts. */
import { LITTLE_ENDIAN, WT_LEN, scratch, scratchU64, writeLenString } from './wire-common.ts';
import type { FastBuffer } from './wire-common.ts';

/** charCode -> nibble value, -1 for anything that is not a hex digit. */
const HEX_VALUE = new Int8Array(65536).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX_VALUE['0123456789abcdef'.charCodeAt(i)] = i;
  HEX_VALUE['0123456789ABCDEF'.charCodeAt(i)] = i;
}

export class Writer {
  buf: FastBuffer;
  pos = 0;

  constructor(initialSize = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initialSize) as FastBuffer;
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size) as FastBuffer;
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** The encoded bytes (a copy sized to fit, so the scratch buffer is not pinned). */
  finish(): Uint8Array {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }

  tag(field: number, wireType: number): void {
    this.uint32((field << 3) | wireType);
  }

  uint32(v: number): void {
    this.ensure(5);
    const buf = this.buf;
    let pos = this.pos;
    v >>>= 0;
    while (v > 0x7f) {
      buf[pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[pos++] = v;
    this.pos = pos;
  }

  /** int64 varint from a bigint (two's complement for negatives: 10 bytes). */
  int64(v: bigint): void {
    if (v >= 0n && v < 0x20000000000000n) {
      this.varintNumber(Number(v));
      return;
    }
    let u = BigInt.asUintN(64, v);
    this.ensure(10);
    while (u > 0x7fn) {
      this.buf[this.pos++] = Number(u & 0x7fn) | 0x80;
      u >>= 7n;
    }
    this.buf[this.pos++] = Number(u);
  }

  /** Non-negative integer up to 2^53 as a varint. */
  private varintNumber(v: number): void {
    this.ensure(10);
    const buf = this.buf;
    while (v > 0x7f) {
      buf[this.pos++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    buf[this.pos++] = v;
  }

  fixed32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(v >>> 0, this.pos);
    this.pos += 4;
  }

  fixed64(v: bigint): void {
    this.ensure(8);
    scratchU64[0] = v; // BigUint64Array stores v mod 2^64
    const buf = this.buf;
    const p = this.pos;
    if (LITTLE_ENDIAN) {
      buf[p] = scratch[0]!; buf[p + 1] = scratch[1]!; buf[p + 2] = scratch[2]!; buf[p + 3] = scratch[3]!;
      buf[p + 4] = scratch[4]!; buf[p + 5] = scratch[5]!; buf[p + 6] = scratch[6]!; buf[p + 7] = scratch[7]!;
    } else {
      for (let i = 0; i < 8; i++) buf[p + i] = scratch[7 - i]!;
    }
    this.pos = p + 8;
  }

  /**
   * fixed64 of `us * 1000` for a non-negative integer count of microseconds
   * (Zipkin's and Jaeger's time unit), without a bigint while `us` is a safe
   * integer.
   */
  fixed64Micros(us: number): void {
    if (us > Number.MAX_SAFE_INTEGER) {
      this.fixed64(BigInt(us) * 1000n);
      return;
    }
    const hi = Math.floor(us / 0x100000000);
    const lo = (us - hi * 0x100000000) * 1000; // < 2^42: exact
    const carry = Math.floor(lo / 0x100000000);
    this.ensure(8);
    this.buf.writeUInt32LE(lo - carry * 0x100000000, this.pos);
    this.buf.writeUInt32LE((hi * 1000 + carry) % 0x100000000, this.pos + 4);
    this.pos += 8;
  }

  double(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }

  /** A string field (tag + length + UTF-8). */
  string(field: number, s: string): void {
    this.tag(field, WT_LEN);
    writeLenString(this, s);
  }

  /** A bytes field from raw bytes. */
  bytes(field: number, b: Uint8Array): void {
    this.tag(field, WT_LEN);
    this.uint32(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** A bytes field from a hex id; throws on a malformed id rather than send garbage. */
  hexBytes(field: number, hex: string): void {
    const n = hex.length >>> 1;
    if ((hex.length & 1) !== 0) throw new TypeError(`invalid hex id ${JSON.stringify(hex)}`);
    this.tag(field, WT_LEN);
    this.uint32(n);
    this.ensure(n);
    const buf = this.buf;
    const p = this.pos;
    for (let i = 0; i < n; i++) {
      const hi = HEX_VALUE[hex.charCodeAt(2 * i)]!;
      const lo = HEX_VALUE[hex.charCodeAt(2 * i + 1)]!;
      if ((hi | lo) < 0) throw new TypeError(`invalid hex id ${JSON.stringify(hex)}`);
      buf[p + i] = (hi << 4) | lo;
    }
    this.pos = p + n;
  }

  /** Starts a length-delimited sub-message; pass the result to `endMessage`. */
  startMessage(field: number): number {
    this.tag(field, WT_LEN);
    this.ensure(1);
    return this.pos++;
  }

  endMessage(lenPos: number): void {
    const len = this.pos - lenPos - 1;
    if (len < 128) {
      this.buf[lenPos] = len;
      return;
    }
    let extra = 1;
    while (len >= 2 ** (7 * (extra + 1))) extra++;
    this.ensure(extra);
    this.buf.copyWithin(lenPos + 1 + extra, lenPos + 1, this.pos);
    this.pos += extra;
    let v = len;
    let p = lenPos;
    while (v > 0x7f) {
      this.buf[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[p] = v;
  }
}

let shared: Writer | undefined;

/**
 * The module's scratch writer, reset. Encoding is synchronous, so one writer
 * is never used by two encodes at once; `finish` copies the bytes out.
 */
export function sharedWriter(): Writer {
  if (shared === undefined || shared.buf.length > 8 * 1024 * 1024) shared = new Writer();
  shared.pos = 0;
  return shared;
}
