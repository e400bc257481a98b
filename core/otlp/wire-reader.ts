/** The protobuf wire reader: see protowire.ts for the rules it enforces. */
import { OtlpDecodeError } from './errors.ts';
import { LITTLE_ENDIAN, WT_I32, WT_I64, WT_LEN, WT_VARINT, asBuffer, scratch, scratchF64, scratchU64 } from './wire-common.ts';
import type { FastBuffer } from './wire-common.ts';
import { slicedUtf8Ok } from './utf8.ts';

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

  /** A proto3 string: must be valid UTF-8 (utf8.ts). */
  string(limit: number): string {
    const end = this.lenEnd(limit);
    const start = this.pos;
    if (start === end) return '';
    return this.stringAt(start, end);
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
    if (n > KEY_CACHE_MAX_LEN) return this.stringAt(start, end);
    const h = (n * 31 + buf[start]! * 7 + buf[start + (n >> 1)]! * 13 + buf[end - 1]!) & KEY_CACHE_MASK;
    const cached = keyBytes[h];
    if (cached !== undefined && cached.length === n) {
      let i = 0;
      while (i < n && cached[i] === buf[start + i]) i++;
      if (i === n) return keyStrings[h]!;
    }
    // Only validated keys enter the cache, so a hit needs no check.
    const str = this.stringAt(start, end);
    keyBytes[h] = Uint8Array.prototype.slice.call(buf, start, end);
    keyStrings[h] = str;
    return str;
  }

  /** buf[start, end) as a string, refused (failing at its start) when not valid UTF-8. */
  private stringAt(start: number, end: number): string {
    const s = this.buf.utf8Slice(start, end);
    if (!slicedUtf8Ok(s, this.buf, start, end)) {
      this.pos = start;
      this.fail('string field is not valid UTF-8');
    }
    this.pos = end;
    return s;
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

/**
 * Moves past fields other than length-delimited `tag` before `end`; returns
 * the end of the next `tag` field (the reader at its body), or -1 at `end`.
 * How the byte walks step through nested messages without decoding them.
 */
export function nextLenField(r: Reader, end: number, tag: number): number {
  while (r.pos < end) {
    const t = r.uint32();
    if (t === tag) return r.lenEnd(end);
    r.skip(t & 7, end);
  }
  return -1;
}
