/**
 * Protobuf wire-format primitives for the hand-written OTLP codecs.
 *
 * Wire types: 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32 (3/4 are the
 * deprecated groups, never used by OTLP: we reject them rather than guess).
 *
 * Reader: every read is bounds-checked against the buffer; message decoders
 * check that each length-delimited field fits inside its parent and that a
 * message ends exactly at its declared end, so a corrupt length can never make
 * us read past the input or loop forever (each loop step consumes >= 1 byte).
 * Strings and ids are sliced straight out of the Node Buffer (utf8Slice /
 * hexSlice measured fastest on Node 20; see BENCHMARKS.md).
 *
 * Writer: one growing buffer; a sub-message reserves one length byte and is
 * shifted in place in the rare case its length needs more (most are < 128 B).
 */
import { OtlpDecodeError } from './errors.ts';

export const WT_VARINT = 0;
export const WT_I64 = 1;
export const WT_LEN = 2;
export const WT_I32 = 5;

/** Deepest AnyValue nesting we accept; protects the stack from hostile input. */
export const MAX_DEPTH = 64;

// Scratch for fixed64 -> bigint / double without per-call allocations.
const scratch = new Uint8Array(8);
const scratchU64 = new BigUint64Array(scratch.buffer);
const scratchF64 = new Float64Array(scratch.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// Node's Buffer has these fast native slicers; @types/node does not declare them.
interface FastBuffer extends Buffer {
  utf8Slice(start: number, end: number): string;
  hexSlice(start: number, end: number): string;
  utf8Write(s: string, offset: number, length?: number): number;
}

function asBuffer(data: Uint8Array): FastBuffer {
  return (Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength)) as FastBuffer;
}

const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_SPAN_ID = '0'.repeat(16);

const KEY_CACHE_MAX_LEN = 64;
const KEY_CACHE_MASK = 1023;
// Bytes are copied out of the request, so the cache never pins a request buffer.
const keyBytes: (Uint8Array | undefined)[] = new Array(KEY_CACHE_MASK + 1).fill(undefined);
const keyStrings: (string | undefined)[] = new Array(KEY_CACHE_MASK + 1).fill(undefined);

export class Reader {
  readonly buf: FastBuffer;
  readonly len: number;
  pos = 0;
  /** High 32 bits of the last varint64 read (low bits are the return value). */
  hi = 0;

  constructor(data: Uint8Array) {
    this.buf = asBuffer(data);
    this.len = this.buf.length;
  }

  fail(what: string): never {
    throw new OtlpDecodeError(`invalid protobuf: ${what} at byte ${this.pos}`);
  }

  /** Varint truncated to its low 32 bits, as an unsigned number (tags, uint32, enums). */
  uint32(): number {
    const buf = this.buf;
    let pos = this.pos;
    if (pos + 10 > this.len) return this.uint32Slow();
    let b = buf[pos++]!;
    let v = b & 0x7f;
    if (b < 0x80) { this.pos = pos; return v; }
    b = buf[pos++]!; v |= (b & 0x7f) << 7;
    if (b < 0x80) { this.pos = pos; return v; }
    b = buf[pos++]!; v |= (b & 0x7f) << 14;
    if (b < 0x80) { this.pos = pos; return v; }
    b = buf[pos++]!; v |= (b & 0x7f) << 21;
    if (b < 0x80) { this.pos = pos; return v; }
    b = buf[pos++]!; v = (v | ((b & 0x0f) << 28)) >>> 0;
    if (b < 0x80) { this.pos = pos; return v; }
    // Bytes 6..10 only carry bits above 32 (negative int32 / large int64): drop them.
    for (let i = 0; i < 5; i++) {
      if (buf[pos++]! < 0x80) { this.pos = pos; return v; }
    }
    this.fail('varint longer than 10 bytes');
  }

  private uint32Slow(): number {
    let v = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.len) this.fail('truncated varint');
      const b = this.buf[this.pos++]!;
      if (i < 5) v = (v | ((b & 0x7f) << (7 * i))) >>> 0;
      if (b < 0x80) return v;
    }
    this.fail('varint longer than 10 bytes');
  }

  /** Varint64: returns the low 32 bits, leaves the high 32 bits in `this.hi`. */
  varint64(): number {
    let lo = 0;
    let hi = 0;
    const buf = this.buf;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.len) this.fail('truncated varint');
      const b = buf[this.pos++]!;
      if (i < 4) lo |= (b & 0x7f) << (7 * i);
      else if (i === 4) {
        lo |= (b & 0x0f) << 28;
        hi = (b & 0x7f) >> 4;
      } else hi |= (b & 0x7f) << (7 * i - 32);
      if (b < 0x80) {
        this.hi = hi >>> 0;
        return lo >>> 0;
      }
    }
    this.fail('varint longer than 10 bytes');
  }

  /** int64 varint as a signed bigint. */
  int64(): bigint {
    const lo = this.varint64();
    const hi = this.hi;
    if (hi === 0) return BigInt(lo);
    if (hi < 0x200000) return BigInt(hi * 4294967296 + lo);
    return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo));
  }

  bool(): boolean {
    const lo = this.varint64();
    return lo !== 0 || this.hi !== 0;
  }

  fixed32(): number {
    const p = this.pos;
    if (p + 4 > this.len) this.fail('truncated fixed32');
    const b = this.buf;
    this.pos = p + 4;
    return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
  }

  private loadScratch(): void {
    const p = this.pos;
    if (p + 8 > this.len) this.fail('truncated fixed64');
    const b = this.buf;
    if (LITTLE_ENDIAN) {
      scratch[0] = b[p]!; scratch[1] = b[p + 1]!; scratch[2] = b[p + 2]!; scratch[3] = b[p + 3]!;
      scratch[4] = b[p + 4]!; scratch[5] = b[p + 5]!; scratch[6] = b[p + 6]!; scratch[7] = b[p + 7]!;
    } else {
      for (let i = 0; i < 8; i++) scratch[7 - i] = b[p + i]!;
    }
    this.pos = p + 8;
  }

  /** fixed64 as an unsigned bigint (timestamps). */
  fixed64(): bigint {
    this.loadScratch();
    return scratchU64[0]!;
  }

  double(): number {
    this.loadScratch();
    return scratchF64[0]!;
  }

  /** Reads a length prefix and returns the end offset of the field, checked against `limit`. */
  lenEnd(limit: number): number {
    const n = this.uint32();
    const end = this.pos + n;
    if (end > limit) this.fail(`length ${n} overruns its message`);
    return end;
  }

  string(limit: number): string {
    const end = this.lenEnd(limit);
    const start = this.pos;
    this.pos = end;
    return start === end ? '' : this.buf.utf8Slice(start, end);
  }

  /**
   * A string that repeats across records (attribute keys): looked up in a small
   * cache of recent keys by a cheap hash and a byte compare, which is ~3x cheaper
   * than creating the string and interns it. Falls back to `string` on a miss.
   */
  key(limit: number): string {
    const end = this.lenEnd(limit);
    const start = this.pos;
    const n = end - start;
    this.pos = end;
    if (n === 0) return '';
    const buf = this.buf;
    if (n > KEY_CACHE_MAX_LEN) return buf.utf8Slice(start, end);
    const h = (n * 31 + buf[start]! * 7 + buf[start + (n >> 1)]! * 13 + buf[end - 1]!) & KEY_CACHE_MASK;
    const cached = keyBytes[h];
    if (cached !== undefined && cached.length === n) {
      let i = 0;
      while (i < n && cached[i] === buf[start + i]) i++;
      if (i === n) return keyStrings[h]!;
    }
    const str = buf.utf8Slice(start, end);
    keyBytes[h] = Uint8Array.prototype.slice.call(buf, start, end);
    keyStrings[h] = str;
    return str;
  }

  /**
   * A trace id (16 bytes) or span id (8 bytes) as lowercase hex. Like the
   * Collector's pdata we reject any other length, and read all-zero as absent ('').
   */
  id(limit: number, size: 8 | 16, what: string): string {
    const end = this.lenEnd(limit);
    const start = this.pos;
    if (end === start) return '';
    if (end - start !== size) this.fail(`${what} must be ${size} bytes, got ${end - start}`);
    this.pos = end;
    const hex = this.buf.hexSlice(start, end);
    return hex === (size === 16 ? ZERO_TRACE_ID : ZERO_SPAN_ID) ? '' : hex;
  }

  /** A bytes field copied out (so the model never pins the request buffer). */
  bytes(limit: number): Uint8Array {
    const end = this.lenEnd(limit);
    const out = new Uint8Array(end - this.pos);
    out.set(this.buf.subarray(this.pos, end));
    this.pos = end;
    return out;
  }

  /** Skips a field of an unknown number (forward compatibility). */
  skip(wireType: number, limit: number): void {
    switch (wireType) {
      case WT_VARINT:
        this.varint64();
        break;
      case WT_I64:
        if (this.pos + 8 > limit) this.fail('truncated fixed64');
        this.pos += 8;
        break;
      case WT_LEN:
        this.pos = this.lenEnd(limit);
        break;
      case WT_I32:
        if (this.pos + 4 > limit) this.fail('truncated fixed32');
        this.pos += 4;
        break;
      default:
        this.fail(`unsupported wire type ${wireType}`);
    }
  }

  /**
   * Default branch of every message decoder: a known field number with the
   * wrong wire type is corrupt input; an unknown field number is skipped.
   * `known` is a bitmask of the message's field numbers (all OTLP ones are < 32).
   */
  other(tag: number, known: number, limit: number, message: string): void {
    const field = tag >>> 3;
    if (field === 0) this.fail(`field number 0 in ${message}`);
    if (field < 32 && (known & (1 << field)) !== 0) {
      this.fail(`wrong wire type ${tag & 7} for ${message} field ${field}`);
    }
    this.skip(tag & 7, limit);
  }

  /** Called after a message's field loop: it must end exactly at its declared end. */
  expectEnd(end: number, message: string): void {
    if (this.pos !== end) this.fail(`${message} overruns its declared length`);
  }
}

/** Bitmask helper for Reader.other. */
export function fields(...nums: number[]): number {
  let m = 0;
  for (const n of nums) m |= 1 << n;
  return m;
}

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

  double(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }

  /** A string field (tag + length + UTF-8). */
  string(field: number, s: string): void {
    this.tag(field, WT_LEN);
    const n = s.length;
    if (n < 128) {
      // Short strings: ASCII copied in JS (cheaper than a call into C++), and for
      // anything else whose worst case still fits a one-byte length, utf8Write
      // first and fill the length in after.
      this.ensure(1 + n * 3);
      const buf = this.buf;
      const lenPos = this.pos;
      let p = lenPos + 1;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[p++] = c;
      }
      if (i === n) {
        buf[lenPos] = n;
        this.pos = p;
        return;
      }
      if (n * 3 < 128) {
        const written = buf.utf8Write(s, lenPos + 1);
        buf[lenPos] = written;
        this.pos = lenPos + 1 + written;
        return;
      }
    }
    const bytes = Buffer.byteLength(s, 'utf8');
    this.uint32(bytes);
    this.ensure(bytes);
    this.buf.utf8Write(s, this.pos, bytes);
    this.pos += bytes;
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
