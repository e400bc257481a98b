/**
 * Thrift writers for both protocols. The receivers only read thrift; these
 * exist so tests and benchmarks can build exact payloads (the Jaeger agent's
 * compact UDP packets, Zipkin v1 thrift bodies) without a thrift library.
 */
import { TType } from './types.ts';
import { ByteBuf } from '../byte-buf.ts';

export interface ThriftWriter {
  writeMessageBegin(name: string, type: number, seqId: number): void;
  writeStructBegin(): void;
  writeStructEnd(): void;
  writeFieldBegin(type: number, id: number): void;
  writeFieldStop(): void;
  writeListBegin(elemType: number, size: number): void;
  writeBool(v: boolean): void;
  writeByte(v: number): void;
  writeI16(v: number): void;
  writeI32(v: number): void;
  writeI64(v: bigint): void;
  writeDouble(v: number): void;
  writeString(s: string): void;
  writeBinary(b: Uint8Array): void;
  finish(): Buffer;
}

class Bytes extends ByteBuf {
  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v & 0xff;
  }
  raw(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  finish(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}

export class BinaryWriter implements ThriftWriter {
  private readonly b = new Bytes();

  writeMessageBegin(name: string, type: number, seqId: number): void {
    this.writeI32((0x80010000 | type) | 0);
    this.writeString(name);
    this.writeI32(seqId);
  }
  writeStructBegin(): void {}
  writeStructEnd(): void {}
  writeFieldBegin(type: number, id: number): void {
    this.b.u8(type);
    this.writeI16(id);
  }
  writeFieldStop(): void {
    this.b.u8(TType.STOP);
  }
  writeListBegin(elemType: number, size: number): void {
    this.b.u8(elemType);
    this.writeI32(size);
  }
  writeBool(v: boolean): void {
    this.b.u8(v ? 1 : 0);
  }
  writeByte(v: number): void {
    this.b.u8(v);
  }
  writeI16(v: number): void {
    this.b.ensure(2);
    this.b.buf.writeInt16BE(v, this.b.pos);
    this.b.pos += 2;
  }
  writeI32(v: number): void {
    this.b.ensure(4);
    this.b.buf.writeInt32BE(v | 0, this.b.pos);
    this.b.pos += 4;
  }
  writeI64(v: bigint): void {
    this.b.ensure(8);
    this.b.buf.writeBigInt64BE(BigInt.asIntN(64, v), this.b.pos);
    this.b.pos += 8;
  }
  writeDouble(v: number): void {
    this.b.ensure(8);
    this.b.buf.writeDoubleBE(v, this.b.pos);
    this.b.pos += 8;
  }
  writeString(s: string): void {
    this.writeBinary(Buffer.from(s, 'utf8'));
  }
  writeBinary(bytes: Uint8Array): void {
    this.writeI32(bytes.length);
    this.b.raw(bytes);
  }
  finish(): Buffer {
    return this.b.finish();
  }
}

// TType → compact type nibble.
const COMPACT: Record<number, number> = {
  [TType.BOOL]: 1,
  [TType.BYTE]: 3,
  [TType.I16]: 4,
  [TType.I32]: 5,
  [TType.I64]: 6,
  [TType.DOUBLE]: 7,
  [TType.STRING]: 8,
  [TType.LIST]: 9,
  [TType.SET]: 10,
  [TType.MAP]: 11,
  [TType.STRUCT]: 12,
};

export class CompactWriter implements ThriftWriter {
  private readonly b = new Bytes();
  private lastFieldId = 0;
  private readonly stack: number[] = [];
  private pendingBoolField: number | undefined;

  private varint(v: bigint): void {
    let u = BigInt.asUintN(64, v);
    while (u > 0x7fn) {
      this.b.u8(Number(u & 0x7fn) | 0x80);
      u >>= 7n;
    }
    this.b.u8(Number(u));
  }
  private zigzag(v: bigint): void {
    const n = BigInt.asIntN(64, v);
    this.varint((n << 1n) ^ (n >> 63n));
  }
  private fieldHeader(ct: number, id: number): void {
    const delta = id - this.lastFieldId;
    if (delta > 0 && delta <= 15) this.b.u8((delta << 4) | ct);
    else {
      this.b.u8(ct);
      this.writeI16(id);
    }
    this.lastFieldId = id;
  }

  writeMessageBegin(name: string, type: number, seqId: number): void {
    this.b.u8(0x82);
    this.b.u8((type << 5) | 1);
    this.varint(BigInt(seqId >>> 0));
    this.writeString(name);
  }
  writeStructBegin(): void {
    this.stack.push(this.lastFieldId);
    this.lastFieldId = 0;
  }
  writeStructEnd(): void {
    this.lastFieldId = this.stack.pop() ?? 0;
  }
  writeFieldBegin(type: number, id: number): void {
    if (type === TType.BOOL) {
      this.pendingBoolField = id;
      return;
    }
    this.fieldHeader(COMPACT[type]!, id);
  }
  writeFieldStop(): void {
    this.b.u8(0);
  }
  writeListBegin(elemType: number, size: number): void {
    const ct = COMPACT[elemType]!;
    if (size < 15) this.b.u8((size << 4) | ct);
    else {
      this.b.u8(0xf0 | ct);
      this.varint(BigInt(size));
    }
  }
  writeBool(v: boolean): void {
    if (this.pendingBoolField !== undefined) {
      const id = this.pendingBoolField;
      this.pendingBoolField = undefined;
      this.fieldHeader(v ? 1 : 2, id);
      return;
    }
    this.b.u8(v ? 1 : 2);
  }
  writeByte(v: number): void {
    this.b.u8(v);
  }
  writeI16(v: number): void {
    this.zigzag(BigInt(v));
  }
  writeI32(v: number): void {
    this.zigzag(BigInt(v | 0));
  }
  writeI64(v: bigint): void {
    this.zigzag(v);
  }
  writeDouble(v: number): void {
    this.b.ensure(8);
    this.b.buf.writeDoubleLE(v, this.b.pos);
    this.b.pos += 8;
  }
  writeString(s: string): void {
    this.writeBinary(Buffer.from(s, 'utf8'));
  }
  writeBinary(bytes: Uint8Array): void {
    this.varint(BigInt(bytes.length));
    this.b.raw(bytes);
  }
  finish(): Buffer {
    return this.b.finish();
  }
}
