/**
 * TBinaryProtocol reader: big-endian fixed-width integers, i32 length-prefixed
 * strings, a field header of (type byte, i16 id), list header (type byte, i32
 * count). Both the strict (versioned) and the old message header are accepted.
 * Every read is bounds-checked; a corrupt length throws ThriftDecodeError.
 */
import {
  MessageType,
  TType,
  ThriftDecodeError,
  int64,
  skipValue,
  type MessageHeader,
  type ThriftReader,
} from './types.ts';
import { readCachedString } from './intern.ts';

interface FastBuffer extends Buffer {
  utf8Slice(start: number, end: number): string;
  latin1Slice(start: number, end: number): string;
  hexSlice(start: number, end: number): string;
}

const VERSION_MASK = 0xffff0000 | 0;
const VERSION_1 = 0x80010000 | 0;

export class BinaryReader implements ThriftReader {
  private readonly buf: FastBuffer;
  private readonly len: number;
  pos = 0;
  fieldId = 0;
  elemType = 0;
  keyType = 0;
  valueType = 0;

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

  readMessageBegin(): MessageHeader {
    const first = this.readI32();
    if (first < 0) {
      if ((first & VERSION_MASK) !== VERSION_1) throw new ThriftDecodeError(`bad thrift message version 0x${(first >>> 0).toString(16)}`);
      const type = first & 0xff;
      const name = this.readString();
      const seqId = this.readI32();
      return { name, type, seqId };
    }
    // Old, unversioned header: the first i32 is the name's length.
    const p = this.need(first, 'message name');
    const name = this.buf.utf8Slice(p, p + first);
    const type = this.readByte();
    const seqId = this.readI32();
    if (type < MessageType.CALL || type > MessageType.ONEWAY) throw new ThriftDecodeError(`bad thrift message type ${type}`);
    return { name, type, seqId };
  }

  readStructBegin(): void {}
  readStructEnd(): void {}

  readFieldBegin(): number {
    const t = this.readByte();
    if (t === TType.STOP) return t;
    this.fieldId = this.readI16();
    return t;
  }

  readListBegin(): number {
    this.elemType = this.readByte();
    const n = this.readI32();
    if (n < 0 || n > this.len - this.pos) throw new ThriftDecodeError(`thrift list of ${n} elements overruns the input`);
    return n;
  }

  readMapBegin(): number {
    this.keyType = this.readByte();
    this.valueType = this.readByte();
    const n = this.readI32();
    if (n < 0 || n > this.len - this.pos) throw new ThriftDecodeError(`thrift map of ${n} entries overruns the input`);
    return n;
  }

  readBool(): boolean {
    return this.buf[this.need(1, 'bool')] !== 0;
  }

  readByte(): number {
    return (this.buf[this.need(1, 'byte')]! << 24) >> 24;
  }

  readI16(): number {
    const p = this.need(2, 'i16');
    return ((this.buf[p]! << 24) >> 16) | this.buf[p + 1]!;
  }

  readI32(): number {
    const p = this.need(4, 'i32');
    const b = this.buf;
    return (b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!;
  }

  readI64(): bigint {
    const hi = this.readI32();
    const lo = this.readI32();
    return int64(hi, lo);
  }

  readI64Hex(): string {
    const p = this.need(8, 'i64');
    return this.buf.hexSlice(p, p + 8);
  }

  readDouble(): number {
    const p = this.need(8, 'double');
    return this.buf.readDoubleBE(p);
  }

  readString(): string {
    const n = this.readI32();
    const p = this.need(n, 'string');
    return readCachedString(this.buf, p, p + n);
  }

  readBinary(): Uint8Array {
    const n = this.readI32();
    const p = this.need(n, 'binary');
    return new Uint8Array(this.buf.subarray(p, p + n)); // a plain copy, not a Buffer
  }

  skip(type: number, depth = 0): void {
    skipValue(this, type, depth);
  }
}
