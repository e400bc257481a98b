/**
 * Builds jaeger.thrift payloads for tests and benchmarks: a Batch body for
 * /api/traces, or an agent `emitBatch` UDP packet in either protocol.
 */
import { BinaryWriter, CompactWriter, MessageType, TType, type ThriftWriter } from '../../../core/thrift/index.ts';

export type TTag =
  | { key: string; vStr: string }
  | { key: string; vDouble: number }
  | { key: string; vBool: boolean }
  | { key: string; vLong: bigint }
  | { key: string; vBinary: Uint8Array };

export interface TRef {
  refType: 0 | 1;
  traceIdLow: bigint;
  traceIdHigh: bigint;
  spanId: bigint;
}

export interface TSpan {
  traceIdLow: bigint;
  traceIdHigh: bigint;
  spanId: bigint;
  parentSpanId: bigint;
  operationName: string;
  references?: TRef[];
  flags: number;
  startTime: bigint;
  duration: bigint;
  tags?: TTag[];
  logs?: Array<{ timestamp: bigint; fields: TTag[] }>;
}

export interface TBatch {
  process: { serviceName: string; tags?: TTag[] };
  spans: TSpan[];
}

function writeTag(w: ThriftWriter, t: TTag): void {
  w.writeStructBegin();
  w.writeFieldBegin(TType.STRING, 1);
  w.writeString(t.key);
  w.writeFieldBegin(TType.I32, 2);
  if ('vStr' in t) {
    w.writeI32(0);
    w.writeFieldBegin(TType.STRING, 3);
    w.writeString(t.vStr);
  } else if ('vDouble' in t) {
    w.writeI32(1);
    w.writeFieldBegin(TType.DOUBLE, 4);
    w.writeDouble(t.vDouble);
  } else if ('vBool' in t) {
    w.writeI32(2);
    w.writeFieldBegin(TType.BOOL, 5);
    w.writeBool(t.vBool);
  } else if ('vLong' in t) {
    w.writeI32(3);
    w.writeFieldBegin(TType.I64, 6);
    w.writeI64(t.vLong);
  } else {
    w.writeI32(4);
    w.writeFieldBegin(TType.STRING, 7);
    w.writeBinary(t.vBinary);
  }
  w.writeFieldStop();
  w.writeStructEnd();
}

function writeTags(w: ThriftWriter, id: number, tags: TTag[]): void {
  w.writeFieldBegin(TType.LIST, id);
  w.writeListBegin(TType.STRUCT, tags.length);
  for (const t of tags) writeTag(w, t);
}

function i64(w: ThriftWriter, id: number, v: bigint): void {
  w.writeFieldBegin(TType.I64, id);
  w.writeI64(v);
}

function writeSpan(w: ThriftWriter, s: TSpan): void {
  w.writeStructBegin();
  i64(w, 1, s.traceIdLow);
  i64(w, 2, s.traceIdHigh);
  i64(w, 3, s.spanId);
  i64(w, 4, s.parentSpanId);
  w.writeFieldBegin(TType.STRING, 5);
  w.writeString(s.operationName);
  if (s.references) {
    w.writeFieldBegin(TType.LIST, 6);
    w.writeListBegin(TType.STRUCT, s.references.length);
    for (const r of s.references) {
      w.writeStructBegin();
      w.writeFieldBegin(TType.I32, 1);
      w.writeI32(r.refType);
      i64(w, 2, r.traceIdLow);
      i64(w, 3, r.traceIdHigh);
      i64(w, 4, r.spanId);
      w.writeFieldStop();
      w.writeStructEnd();
    }
  }
  w.writeFieldBegin(TType.I32, 7);
  w.writeI32(s.flags);
  i64(w, 8, s.startTime);
  i64(w, 9, s.duration);
  if (s.tags) writeTags(w, 10, s.tags);
  if (s.logs) {
    w.writeFieldBegin(TType.LIST, 11);
    w.writeListBegin(TType.STRUCT, s.logs.length);
    for (const l of s.logs) {
      w.writeStructBegin();
      i64(w, 1, l.timestamp);
      writeTags(w, 2, l.fields);
      w.writeFieldStop();
      w.writeStructEnd();
    }
  }
  w.writeFieldStop();
  w.writeStructEnd();
}

export function writeBatch(w: ThriftWriter, b: TBatch): void {
  w.writeStructBegin();
  w.writeFieldBegin(TType.STRUCT, 1);
  w.writeStructBegin();
  w.writeFieldBegin(TType.STRING, 1);
  w.writeString(b.process.serviceName);
  if (b.process.tags) writeTags(w, 2, b.process.tags);
  w.writeFieldStop();
  w.writeStructEnd();
  w.writeFieldBegin(TType.LIST, 2);
  w.writeListBegin(TType.STRUCT, b.spans.length);
  for (const s of b.spans) writeSpan(w, s);
  w.writeFieldStop();
  w.writeStructEnd();
}

/** A TBinaryProtocol Batch, as POSTed to /api/traces. */
export function batchBody(b: TBatch): Buffer {
  const w = new BinaryWriter();
  writeBatch(w, b);
  return w.finish();
}

/** An agent UDP packet: oneway `emitBatch(1: batch)`. */
export function emitBatchPacket(protocol: 'compact' | 'binary', b: TBatch, seqId = 1): Buffer {
  const w = protocol === 'compact' ? new CompactWriter() : new BinaryWriter();
  w.writeMessageBegin('emitBatch', MessageType.ONEWAY, seqId);
  w.writeStructBegin();
  w.writeFieldBegin(TType.STRUCT, 1);
  writeBatch(w, b);
  w.writeFieldStop();
  w.writeStructEnd();
  return w.finish();
}

/** A realistic HTTP server span with a child DB span, as a Jaeger SDK would report them. */
export function sampleBatch(i = 0): TBatch {
  const traceIdHigh = 0x4bf92f3577b34da6n;
  const traceIdLow = 0xa3ce929d0e0e4736n + BigInt(i);
  const start = 1_700_000_000_000_000n + BigInt(i) * 1000n;
  return {
    process: {
      serviceName: 'checkout',
      tags: [
        { key: 'hostname', vStr: 'web-1' },
        { key: 'ip', vStr: '10.0.0.7' },
        { key: 'jaeger.version', vStr: 'Go-2.30.0' },
      ],
    },
    spans: [
      {
        traceIdLow,
        traceIdHigh,
        spanId: 0x00f067aa0ba902b7n,
        parentSpanId: 0n,
        operationName: 'GET /api/cart',
        flags: 1,
        startTime: start,
        duration: 5_250n,
        tags: [
          { key: 'span.kind', vStr: 'server' },
          { key: 'http.method', vStr: 'GET' },
          { key: 'http.url', vStr: 'https://shop.example.com/api/cart?id=42' },
          { key: 'http.status_code', vLong: 200n },
          { key: 'component', vStr: 'net/http' },
          { key: 'sampler.type', vStr: 'const' },
          { key: 'sampler.param', vBool: true },
        ],
        logs: [{ timestamp: start + 100n, fields: [{ key: 'event', vStr: 'cache miss' }, { key: 'key', vStr: 'cart:42' }] }],
      },
      {
        traceIdLow,
        traceIdHigh,
        spanId: 0x1111111111111111n,
        parentSpanId: 0x00f067aa0ba902b7n,
        operationName: 'SELECT cart',
        references: [{ refType: 0, traceIdLow, traceIdHigh, spanId: 0x00f067aa0ba902b7n }],
        flags: 1,
        startTime: start + 200n,
        duration: 3_000n,
        tags: [
          { key: 'span.kind', vStr: 'client' },
          { key: 'db.system', vStr: 'postgresql' },
          { key: 'db.statement', vStr: 'SELECT * FROM cart WHERE id = $1' },
          { key: 'db.rows', vLong: 3n },
          { key: 'peer.address', vStr: 'db-1:5432' },
        ],
      },
    ],
  };
}
