/**
 * TCompactProtocol reader (Apache Thrift's compact encoding, as the Jaeger
 * agent's UDP port 6831 speaks it):
 * - integers are zigzag varints (i16/i32/i64), doubles 8 bytes little-endian;
 * - a field header is one byte: field-id delta (high nibble, 0 = an explicit
 *   zigzag i16 id follows) and compact type (low nibble); a bool field's value
 *   is its type (1 = true, 2 = false), with no payload;
 * - a list header is one byte: count (high nibble, 15 = a varint count
 *   follows) and element type;
 * - a message header is 0x82, (type << 5 | version 1), varint seqid, name.
 * Types are reported with TBinaryProtocol numbers (TType), so decoders are
 * written once for both protocols.
 */
import { TType, ThriftDecodeError, hex64, int64, skipValue, type MessageHeader, type ThriftReader } from './types.ts';
import { readCachedString } from './intern.ts';

interface FastBuffer extends Buffer {
  utf8Slice(start: number, end: number): string;
  latin1Slice(start: number, end: number): string;
}

const PROTOCOL_ID = 0x82;
const VERSION = 1;

// Compact type nibble → TType. Index = compact type.
const TO_TTYPE = [
  TType.STOP, // 0 STOP
  TType.BOOL, // 1 BOOLEAN_TRUE
  TType.BOOL, // 2 BOOLEAN_FALSE
  TType.BYTE, // 3
  TType.I16, // 4
  TType.I32, // 5
  TType.I64, // 6
  TType.DOUBLE, // 7
  TType.STRING, // 8 BINARY
  TType.LIST, // 9
  TType.SET, // 10
  TType.MAP, // 11
  TType.STRUCT, // 12
];

function toTType(ct: number): number {
  const t = TO_TTYPE[ct];
  if (t === undefined) throw new ThriftDecodeError(`unknown compact thrift type ${ct}`);
  return t;
}

export class CompactReader implements ThriftReader {
  private readonly buf: FastBuffer;
  private readonly len: number;
  pos = 0;
  fieldId = 0;
  elemType = 0;
  keyType = 0;
  valueType = 0;
  /** Last field id per open struct (field ids are delta-encoded). */
  private lastFieldId = 0;
  private readonly fieldIdStack: number[] = [];
  /** A bool field's value travels in its header; held here until readBool. */
  private pendingBool: boolean | undefined;
  /** High 32 bits of the last varint64 read. */
  private hi = 0;

  constructor(data: Uint8Array, start = 0, end = data.length) {
    const b = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    this.buf = b as FastBuffer;
    this.pos = start;
    this.len = end;
  }

  remaining(): number {
    return this.len - this.pos;
  }

  private need(n: number, what: string): number {
    const p = this.pos;
    if (n < 0 || p + n > this.len) throw new ThriftDecodeError(`truncated thrift: ${what} at byte ${p}`);
    this.pos = p + n;
    return p;
  }

  private byte(): number {
    if (this.pos >= this.len) throw new ThriftDecodeError(`truncated thrift at byte ${this.pos}`);
    return this.buf[this.pos++]!;
  }

  /** Unsigned varint32. */
  private varint32(): number {
    let v = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const b = this.byte();
      v |= (b & 0x7f) << shift;
      if (b < 0x80) return v >>> 0;
    }
    throw new ThriftDecodeError(`varint too long at byte ${this.pos}`);
  }

  /** Unsigned varint64: low 32 bits returned, high 32 bits in `hi`. */
  private varint64(): number {
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      const b = this.byte();
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
    throw new ThriftDecodeError(`varint too long at byte ${this.pos}`);
  }

  /** Zigzag-decodes the last varint64 into signed (hi, lo); returns lo, leaves hi in `hi`. */
  private zigzag64(): number {
    const lo = this.varint64();
    const hi = this.hi;
    // n >>> 1 ^ -(n & 1), done on two 32-bit halves.
    const neg = -(lo & 1);
    const outLo = ((lo >>> 1) | (hi << 31)) ^ neg;
    const outHi = (hi >>> 1) ^ neg;
    this.hi = outHi | 0;
    return outLo >>> 0;
  }

  readMessageBegin(): MessageHeader {
    const pid = this.byte();
    if (pid !== PROTOCOL_ID) throw new ThriftDecodeError(`bad compact thrift protocol id 0x${pid.toString(16)}`);
    const vt = this.byte();
    if ((vt & 0x1f) !== VERSION) throw new ThriftDecodeError(`bad compact thrift version ${vt & 0x1f}`);
    const type = (vt >> 5) & 0x07;
    const seqId = this.varint32() | 0;
    const name = this.readString();
    return { name, type, seqId };
  }

  readStructBegin(): void {
    if (this.fieldIdStack.length > 64) throw new ThriftDecodeError('thrift struct nested too deeply');
    this.fieldIdStack.push(this.lastFieldId);
    this.lastFieldId = 0;
  }

  readStructEnd(): void {
    this.lastFieldId = this.fieldIdStack.pop() ?? 0;
  }

  readFieldBegin(): number {
    const b = this.byte();
    const ct = b & 0x0f;
    if (ct === 0) return TType.STOP;
    const delta = b >> 4;
    this.fieldId = delta === 0 ? this.readI16() : this.lastFieldId + delta;
    this.lastFieldId = this.fieldId;
    if (ct === 1 || ct === 2) this.pendingBool = ct === 1;
    return toTType(ct);
  }

  readListBegin(): number {
    const b = this.byte();
    let n = b >> 4;
    if (n === 15) n = this.varint32();
    this.elemType = toTType(b & 0x0f);
    if (n > this.len - this.pos) throw new ThriftDecodeError(`thrift list of ${n} elements overruns the input`);
    return n;
  }

  readMapBegin(): number {
    const n = this.varint32();
    if (n === 0) return 0;
    const kv = this.byte();
    this.keyType = toTType(kv >> 4);
    this.valueType = toTType(kv & 0x0f);
    if (n > this.len - this.pos) throw new ThriftDecodeError(`thrift map of ${n} entries overruns the input`);
    return n;
  }

  readBool(): boolean {
    const v = this.pendingBool;
    if (v !== undefined) {
      this.pendingBool = undefined;
      return v;
    }
    // A bool list element: one byte, 1 = true.
    return this.byte() === 1;
  }

  readByte(): number {
    return (this.byte() << 24) >> 24;
  }

  readI16(): number {
    const lo = this.zigzag64();
    return (lo << 16) >> 16;
  }

  readI32(): number {
    return this.zigzag64() | 0;
  }

  readI64(): bigint {
    const lo = this.zigzag64();
    return int64(this.hi, lo);
  }

  readI64Hex(): string {
    const lo = this.zigzag64();
    return hex64(this.hi, lo);
  }

  readDouble(): number {
    const p = this.need(8, 'double');
    return this.buf.readDoubleLE(p);
  }

  readString(): string {
    const n = this.varint32();
    const p = this.need(n, 'string');
    return readCachedString(this.buf, p, p + n);
  }

  readBinary(): Uint8Array {
    const n = this.varint32();
    const p = this.need(n, 'binary');
    return new Uint8Array(this.buf.subarray(p, p + n)); // a plain copy, not a Buffer
  }

  skip(type: number, depth = 0): void {
    skipValue(this, type, depth);
  }
}
