/**
 * Thrift-aware mutations (TBinaryProtocol and TCompactProtocol). The seed is
 * walked with the real readers, recording where each field header, list
 * header and string length sits; a mutation then patches those bytes: huge
 * or negative list sizes and string lengths, unknown or wrong field types,
 * other field ids, deep structs and lists, repeated elements. Thrift lengths
 * are counts, not byte lengths of the parent, so no fix-up is needed.
 */
import { BinaryReader, CompactReader, TType, type ThriftReader } from '../../core/thrift/index.ts';
import type { Prng } from './prng.ts';
import { CAP } from './mutate-bytes.ts';

export type ThriftProto = 'binary' | 'compact';
/** What a body holds: a struct (Jaeger /api/traces), a list (Zipkin v1), a message (agent UDP). */
export type ThriftTop = 'struct' | 'list' | 'message';

interface Walk {
  fields: Array<{ at: number; hdrEnd: number; valEnd: number; type: number }>;
  lists: Array<{ at: number; end: number; valEnd: number; elemType: number; count: number }>;
  strings: Array<{ at: number; dataStart: number; dataEnd: number }>;
}

function walkValue(r: ThriftReader & { pos: number }, type: number, w: Walk, depth: number): void {
  if (depth > 64) throw new Error('deep');
  switch (type) {
    case TType.STRING: {
      const at = r.pos;
      const b = r.readBinary();
      w.strings.push({ at, dataStart: r.pos - b.length, dataEnd: r.pos });
      return;
    }
    case TType.STRUCT:
      r.readStructBegin();
      for (;;) {
        const at = r.pos;
        const t = r.readFieldBegin();
        if (t === TType.STOP) break;
        const hdrEnd = r.pos;
        walkValue(r, t, w, depth + 1);
        w.fields.push({ at, hdrEnd, valEnd: r.pos, type: t });
      }
      r.readStructEnd();
      return;
    case TType.LIST:
    case TType.SET: {
      const at = r.pos;
      const n = r.readListBegin();
      const et = r.elemType;
      const end = r.pos;
      for (let i = 0; i < n; i++) walkValue(r, et, w, depth + 1);
      w.lists.push({ at, end, valEnd: r.pos, elemType: et, count: n });
      return;
    }
    default:
      r.skip(type, depth);
  }
}

function walk(proto: ThriftProto, top: ThriftTop, b: Buffer): Walk | null {
  const r = proto === 'binary' ? new BinaryReader(b) : new CompactReader(b);
  const w: Walk = { fields: [], lists: [], strings: [] };
  try {
    if (top === 'message') r.readMessageBegin();
    walkValue(r, top === 'list' ? TType.LIST : TType.STRUCT, w, 0);
  } catch {
    return null;
  }
  return w;
}

// TType → compact type nibble.
const COMPACT: Record<number, number> = { 2: 1, 3: 3, 4: 7, 6: 4, 8: 5, 10: 6, 11: 8, 12: 12, 13: 11, 14: 10, 15: 9 };

function uvarint(n: number): Buffer {
  const out: number[] = [];
  let v = n >>> 0;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return Buffer.from(out);
}
const zigzag32 = (n: number) => ((n << 1) ^ (n >> 31)) >>> 0;

function listHeader(proto: ThriftProto, elemType: number, count: number): Buffer {
  if (proto === 'binary') {
    const b = Buffer.alloc(5);
    b[0] = elemType;
    b.writeInt32BE(count | 0, 1);
    return b;
  }
  const ct = COMPACT[elemType] ?? elemType & 0x0f;
  return count >= 0 && count < 15 ? Buffer.from([(count << 4) | ct]) : Buffer.concat([Buffer.from([0xf0 | ct]), uvarint(count)]);
}

function lengthPrefix(proto: ThriftProto, n: number): Buffer {
  if (proto === 'compact') return uvarint(n);
  const b = Buffer.alloc(4);
  b.writeInt32BE(n | 0);
  return b;
}

/** A field header with an explicit id (compact: delta 0 + zigzag id). */
function fieldHeader(proto: ThriftProto, type: number, id: number): Buffer {
  if (proto === 'binary') return Buffer.from([type, (id >> 8) & 0xff, id & 0xff]);
  return Buffer.concat([Buffer.from([COMPACT[type] ?? type & 0x0f]), uvarint(zigzag32(id))]);
}

const patch = (b: Buffer, at: number, end: number, ins: Buffer) => Buffer.concat([b.subarray(0, at), ins, b.subarray(end)]);

type Op = (rng: Prng, b: Buffer, w: Walk, proto: ThriftProto) => Buffer;
const thriftOps: Record<string, Op> = {
  hugeListSize(rng, b, w, proto) {
    if (w.lists.length === 0) return b;
    const l = rng.pick(w.lists);
    const n = rng.pick([l.count + 1, l.count * 2 + 1, 0x7fffffff, -1, -0x80000000, 65_535, 1_000_000, 0]);
    return patch(b, l.at, l.end, listHeader(proto, l.elemType, n));
  },
  badLength(rng, b, w, proto) {
    if (w.strings.length === 0) return b;
    const s = rng.pick(w.strings);
    const len = s.dataEnd - s.dataStart;
    const n = rng.pick([-1, -0x80000000, len + 1, len + 1000, 0x7fffffff, 0xffffffff, 0]);
    return patch(b, s.at, s.dataStart, lengthPrefix(proto, n));
  },
  unknownFieldType(rng, b, w, proto) {
    if (w.fields.length === 0) return b;
    const f = rng.pick(w.fields);
    const out = Buffer.from(b);
    if (proto === 'binary') out[f.at] = rng.pick([1, 5, 7, 9, 16, 17, 100, 255]);
    else out[f.at] = (out[f.at]! & 0xf0) | rng.pick([13, 14, 15]);
    return out;
  },
  wrongFieldType(rng, b, w, proto) {
    if (w.fields.length === 0) return b;
    const f = rng.pick(w.fields);
    const t = rng.pick([TType.BOOL, TType.BYTE, TType.DOUBLE, TType.I16, TType.I32, TType.I64, TType.STRING, TType.STRUCT, TType.MAP, TType.SET, TType.LIST]);
    const out = Buffer.from(b);
    if (proto === 'binary') out[f.at] = t;
    else out[f.at] = (out[f.at]! & 0xf0) | COMPACT[t]!;
    return out;
  },
  fieldId(rng, b, w, proto) {
    if (w.fields.length === 0) return b;
    const f = rng.pick(w.fields);
    const id = rng.pick([0, -1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 32767, -32768, rng.range(1, 20)]);
    return patch(b, f.at, f.hdrEnd, fieldHeader(proto, f.type, id));
  },
  deepStruct(rng, b, w, proto) {
    // `k` nested structs (field id 999) inserted before a field: struct of struct of …
    const k = rng.pick([10, 63, 64, 65, 100, 1000, 10_000]);
    const at = w.fields.length > 0 ? rng.pick(w.fields).at : 0;
    const open = fieldHeader(proto, TType.STRUCT, 999);
    const ins = Buffer.concat([...Array.from({ length: k }, () => open), Buffer.alloc(k, 0)]);
    return patch(b, at, at, ins);
  },
  deepList(rng, b, w, proto) {
    // A list<list<…<i32>…>> `k` deep, as an unknown field 998.
    const k = rng.pick([10, 64, 65, 1000, 10_000]);
    const at = w.fields.length > 0 ? rng.pick(w.fields).at : 0;
    const parts = [fieldHeader(proto, TType.LIST, 998)];
    for (let i = 0; i < k; i++) parts.push(listHeader(proto, TType.LIST, 1));
    parts.push(listHeader(proto, TType.I32, 0));
    return patch(b, at, at, Buffer.concat(parts));
  },
  repeatElements(rng, b, w, proto) {
    if (w.lists.length === 0) return b;
    const l = rng.pick(w.lists);
    const body = b.subarray(l.end, l.valEnd);
    if (body.length === 0) return b;
    const times = Math.max(1, Math.min(rng.pick([2, 10, 1000, 100_000]), Math.floor(CAP / body.length)));
    return Buffer.concat([b.subarray(0, l.at), listHeader(proto, l.elemType, l.count * times), ...Array.from({ length: times }, () => body), b.subarray(l.valEnd)]);
  },
  duplicateField(rng, b, w) {
    if (w.fields.length === 0) return b;
    const f = rng.pick(w.fields);
    return patch(b, f.valEnd, f.valEnd, b.subarray(f.at, f.valEnd));
  },
  dropField(rng, b, w) {
    if (w.fields.length === 0) return b;
    const f = rng.pick(w.fields);
    return patch(b, f.at, f.valEnd, Buffer.alloc(0));
  },
  stringBytes(rng, b, w, proto) {
    if (w.strings.length === 0) return b;
    const s = rng.pick(w.strings);
    const v = rng.pick([Buffer.from([0xff, 0xfe]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('__proto__'), Buffer.from('constructor'), Buffer.alloc(40_000, 0x61), Buffer.alloc(0), Buffer.from('emitBatch')]);
    return patch(b, s.at, s.dataEnd, Buffer.concat([lengthPrefix(proto, v.length), v]));
  },
};
const thriftOpNames = Object.keys(thriftOps);

/** 1..3 thrift-aware mutations; null when the seed does not walk. */
export function mutateThrift(rng: Prng, seed: Buffer, proto: ThriftProto, top: ThriftTop, log: string[]): Buffer | null {
  let b = seed;
  for (let i = rng.range(1, 3), first = true; i > 0; i--, first = false) {
    const w = walk(proto, top, b);
    if (!w) return first ? null : b; // later rounds stop once the input no longer walks
    const name = rng.pick(thriftOpNames);
    log.push(`thrift.${name}`);
    b = thriftOps[name]!(rng, b, w, proto);
    if (b.length > CAP) b = b.subarray(0, CAP);
  }
  return b;
}
