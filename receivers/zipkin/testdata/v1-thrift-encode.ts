/** Builds zipkin v1 thrift bodies (TBinaryProtocol list<zipkincore.Span>) for tests. */
import { BinaryWriter, TType } from '../../../core/thrift/index.ts';

export interface TEndpoint { ipv4?: number; port?: number; serviceName: string; ipv6?: Uint8Array }
export interface TV1Span {
  traceId: bigint;
  traceIdHigh?: bigint;
  name: string;
  id: bigint;
  parentId?: bigint;
  annotations?: Array<{ timestamp: bigint; value: string; host?: TEndpoint }>;
  binaryAnnotations?: Array<{ key: string; value: Uint8Array; type: number; host?: TEndpoint }>;
  timestamp?: bigint;
  duration?: bigint;
}

function endpoint(w: BinaryWriter, id: number, e: TEndpoint): void {
  w.writeFieldBegin(TType.STRUCT, id);
  w.writeFieldBegin(TType.I32, 1);
  w.writeI32(e.ipv4 ?? 0);
  w.writeFieldBegin(TType.I16, 2);
  w.writeI16(e.port ?? 0);
  w.writeFieldBegin(TType.STRING, 3);
  w.writeString(e.serviceName);
  if (e.ipv6) {
    w.writeFieldBegin(TType.STRING, 4);
    w.writeBinary(e.ipv6);
  }
  w.writeFieldStop();
}

export function v1ThriftBody(spans: TV1Span[]): Buffer {
  const w = new BinaryWriter();
  w.writeListBegin(TType.STRUCT, spans.length);
  for (const s of spans) {
    w.writeFieldBegin(TType.I64, 1);
    w.writeI64(s.traceId);
    w.writeFieldBegin(TType.STRING, 3);
    w.writeString(s.name);
    w.writeFieldBegin(TType.I64, 4);
    w.writeI64(s.id);
    if (s.parentId !== undefined) {
      w.writeFieldBegin(TType.I64, 5);
      w.writeI64(s.parentId);
    }
    w.writeFieldBegin(TType.LIST, 6);
    w.writeListBegin(TType.STRUCT, s.annotations?.length ?? 0);
    for (const a of s.annotations ?? []) {
      w.writeFieldBegin(TType.I64, 1);
      w.writeI64(a.timestamp);
      w.writeFieldBegin(TType.STRING, 2);
      w.writeString(a.value);
      if (a.host) endpoint(w, 3, a.host);
      w.writeFieldStop();
    }
    w.writeFieldBegin(TType.LIST, 8);
    w.writeListBegin(TType.STRUCT, s.binaryAnnotations?.length ?? 0);
    for (const b of s.binaryAnnotations ?? []) {
      w.writeFieldBegin(TType.STRING, 1);
      w.writeString(b.key);
      w.writeFieldBegin(TType.STRING, 2);
      w.writeBinary(b.value);
      w.writeFieldBegin(TType.I32, 3);
      w.writeI32(b.type);
      if (b.host) endpoint(w, 4, b.host);
      w.writeFieldStop();
    }
    if (s.timestamp !== undefined) {
      w.writeFieldBegin(TType.I64, 10);
      w.writeI64(s.timestamp);
    }
    if (s.duration !== undefined) {
      w.writeFieldBegin(TType.I64, 11);
      w.writeI64(s.duration);
    }
    if (s.traceIdHigh !== undefined) {
      w.writeFieldBegin(TType.I64, 12);
      w.writeI64(s.traceIdHigh);
    }
    w.writeFieldStop();
  }
  return w.finish();
}
