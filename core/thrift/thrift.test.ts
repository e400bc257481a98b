import { describe, expect, it } from 'vitest';
import { BinaryReader, BinaryWriter, CompactReader, CompactWriter, MessageType, TType, ThriftDecodeError } from './index.ts';
import type { ThriftReader, ThriftWriter } from './index.ts';

function writeSample(w: ThriftWriter): Buffer {
  w.writeMessageBegin('emitBatch', MessageType.ONEWAY, 7);
  w.writeStructBegin();
  w.writeFieldBegin(TType.I64, 1);
  w.writeI64(-2n);
  w.writeFieldBegin(TType.BOOL, 2);
  w.writeBool(true);
  w.writeFieldBegin(TType.BOOL, 3);
  w.writeBool(false);
  w.writeFieldBegin(TType.STRING, 20); // delta > 15 → long-form header in compact
  w.writeString('héllo');
  w.writeFieldBegin(TType.LIST, 21);
  w.writeListBegin(TType.I32, 20);
  for (let i = 0; i < 20; i++) w.writeI32(-1000 * i || 0);
  w.writeFieldBegin(TType.DOUBLE, 22);
  w.writeDouble(3.25);
  w.writeFieldBegin(TType.STRUCT, 23); // unknown to the reader: skipped
  w.writeStructBegin();
  w.writeFieldBegin(TType.I16, 1);
  w.writeI16(-5);
  w.writeFieldBegin(TType.LIST, 2);
  w.writeListBegin(TType.BOOL, 2);
  w.writeBool(true);
  w.writeBool(false);
  w.writeFieldStop();
  w.writeStructEnd();
  w.writeFieldBegin(TType.I64, 24);
  w.writeI64(0x7fffffffffffffffn);
  w.writeFieldStop();
  w.writeStructEnd();
  return w.finish();
}

function readSample(r: ThriftReader) {
  const msg = r.readMessageBegin();
  const out: Record<string, unknown> = { msg };
  r.readStructBegin();
  for (;;) {
    const t = r.readFieldBegin();
    if (t === TType.STOP) break;
    switch (r.fieldId) {
      case 1: out.hex = r.readI64Hex(); break;
      case 2: out.b1 = r.readBool(); break;
      case 3: out.b2 = r.readBool(); break;
      case 20: out.s = r.readString(); break;
      case 21: {
        const n = r.readListBegin();
        const xs: number[] = [];
        for (let i = 0; i < n; i++) xs.push(r.readI32());
        out.list = xs;
        break;
      }
      case 22: out.d = r.readDouble(); break;
      case 24: out.big = r.readI64(); break;
      default: r.skip(t);
    }
  }
  r.readStructEnd();
  return out;
}

describe.each([
  ['binary', () => new BinaryWriter(), (b: Buffer) => new BinaryReader(b)],
  ['compact', () => new CompactWriter(), (b: Buffer) => new CompactReader(b)],
] as const)('%s protocol', (_name, mkWriter, mkReader) => {
  it('round-trips every type, skipping unknown fields', () => {
    const out = readSample(mkReader(writeSample(mkWriter())));
    expect(out).toEqual({
      msg: { name: 'emitBatch', type: MessageType.ONEWAY, seqId: 7 },
      hex: 'fffffffffffffffe',
      b1: true,
      b2: false,
      s: 'héllo',
      list: Array.from({ length: 20 }, (_, i) => -1000 * i || 0),
      d: 3.25,
      big: 0x7fffffffffffffffn,
    });
  });

  it('throws ThriftDecodeError on every truncation, never reads past the end', () => {
    const full = writeSample(mkWriter());
    for (let n = 0; n < full.length; n++) {
      expect(() => readSample(mkReader(full.subarray(0, n))), `cut at ${n}`).toThrow(ThriftDecodeError);
    }
  });
});

describe('binary protocol', () => {
  it('rejects a list count larger than the input', () => {
    const w = new BinaryWriter();
    w.writeListBegin(TType.STRUCT, 1_000_000_000);
    expect(() => new BinaryReader(w.finish()).readListBegin()).toThrow(/overruns/);
  });
  it('accepts the old unversioned message header', () => {
    const w = new BinaryWriter();
    w.writeString('emitBatch');
    w.writeByte(MessageType.ONEWAY);
    w.writeI32(3);
    expect(new BinaryReader(w.finish()).readMessageBegin()).toEqual({ name: 'emitBatch', type: 4, seqId: 3 });
  });
});

describe('string cache', () => {
  it('returns exactly the encoded strings, across slot collisions and non-ASCII', () => {
    const words: string[] = [];
    for (let i = 0; i < 3000; i++) words.push(`k${(i * 7919) % 1000}.${String.fromCharCode(97 + (i % 26))}`);
    words.push('ünïcode', 'ab', 'ba', 'x'.repeat(32), 'y'.repeat(33), '');
    for (const mk of [() => new BinaryWriter(), () => new CompactWriter()]) {
      const w = mk();
      for (const s of [...words, ...words]) w.writeString(s);
      const buf = w.finish();
      const r = w instanceof BinaryWriter ? new BinaryReader(buf) : new CompactReader(buf);
      const got = [...words, ...words].map(() => r.readString());
      expect(got).toEqual([...words, ...words]);
    }
  });
});
