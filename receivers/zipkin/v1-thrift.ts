/**
 * Zipkin v1 thrift (`POST /api/v1/spans`, `application/x-thrift`): a
 * TBinaryProtocol list<zipkincore.Span>. Field ids from zipkinCore.thrift:
 *
 *   Endpoint          1 ipv4 (i32), 2 port (i16), 3 service_name, 4 ipv6 (binary)
 *   Annotation        1 timestamp (µs), 2 value, 3 host
 *   BinaryAnnotation  1 key, 2 value (binary), 3 annotation_type, 4 host
 *   Span              1 trace_id, 3 name, 4 id, 5 parent_id, 6 annotations,
 *                     8 binary_annotations, 9 debug, 10 timestamp, 11 duration,
 *                     12 trace_id_high
 *
 * Binary annotation values are typed by annotation_type (BOOL 0, BYTES 1 →
 * base64, I16 2, I32 3, I64 4, DOUBLE 5, STRING 6) exactly as the Collector
 * reads them, including its unsigned I16/I32 and "<...>" error strings.
 */
import type { AnyValue } from '../../core/model.ts';
import { BinaryReader, TType, ThriftDecodeError, type ThriftReader } from '../../core/thrift/index.ts';
import { ipString } from './model.ts';
import type { V1Annotation, V1BinaryAnnotation, V1Endpoint, V1Span } from './v1-translate.ts';

function endpoint(r: ThriftReader): V1Endpoint {
  const e: V1Endpoint = { serviceName: '', ipv4: '', ipv6: '', port: 0 };
  r.readStructBegin();
  for (;;) {
    const t = r.readFieldBegin();
    if (t === TType.STOP) break;
    const id = r.fieldId;
    if (id === 1 && t === TType.I32) {
      const v = r.readI32();
      if (v !== 0) e.ipv4 = `${(v >>> 24) & 255}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
    } else if (id === 2 && t === TType.I16) e.port = r.readI16();
    else if (id === 3 && t === TType.STRING) e.serviceName = r.readString();
    else if (id === 4 && t === TType.STRING) {
      const b = r.readBinary();
      if (b.length > 0) e.ipv6 = ipString(b);
    } else r.skip(t);
  }
  r.readStructEnd();
  return e;
}

function annotation(r: ThriftReader): V1Annotation {
  const a: V1Annotation = { timestampUs: 0n, value: '', endpoint: null };
  r.readStructBegin();
  for (;;) {
    const t = r.readFieldBegin();
    if (t === TType.STOP) break;
    const id = r.fieldId;
    if (id === 1 && t === TType.I64) a.timestampUs = r.readI64();
    else if (id === 2 && t === TType.STRING) a.value = r.readString();
    else if (id === 3 && t === TType.STRUCT) a.endpoint = endpoint(r);
    else r.skip(t);
  }
  r.readStructEnd();
  return a;
}

const NOT_ENOUGH = '<not enough bytes representing the number>';

function typedValue(b: Uint8Array, type: number): AnyValue {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  switch (type) {
    case 0: return b.length === 1 && b[0] === 1;
    case 1: return Buffer.from(b).toString('base64');
    case 2: return b.length < 2 ? NOT_ENOUGH : BigInt(dv.getUint16(0));
    case 3: return b.length < 4 ? NOT_ENOUGH : BigInt(dv.getUint32(0));
    case 4: return b.length < 8 ? NOT_ENOUGH : dv.getBigInt64(0);
    case 5: return b.length < 8 ? NOT_ENOUGH : dv.getFloat64(0);
    case 6: return Buffer.from(b).toString('utf8');
    default: return `<unknown zipkin v1 binary annotation type (${type})>`;
  }
}

function binaryAnnotation(r: ThriftReader): V1BinaryAnnotation {
  let key = '';
  let raw: Uint8Array = new Uint8Array(0);
  let type = 0;
  let host: V1Endpoint | null = null;
  r.readStructBegin();
  for (;;) {
    const t = r.readFieldBegin();
    if (t === TType.STOP) break;
    const id = r.fieldId;
    if (id === 1 && t === TType.STRING) key = r.readString();
    else if (id === 2 && t === TType.STRING) raw = r.readBinary();
    else if (id === 3 && t === TType.I32) type = r.readI32();
    else if (id === 4 && t === TType.STRUCT) host = endpoint(r);
    else r.skip(t);
  }
  r.readStructEnd();
  return { key, value: typedValue(raw, type), text: Buffer.from(raw).toString('utf8'), endpoint: host };
}

function readList<T>(r: ThriftReader, read: (r: ThriftReader) => T, what: string): T[] {
  const n = r.readListBegin();
  if (r.elemType !== TType.STRUCT) throw new ThriftDecodeError(`${what}: expected a list of structs`);
  const out = new Array<T>(n);
  for (let i = 0; i < n; i++) out[i] = read(r);
  return out;
}

function span(r: ThriftReader): V1Span {
  let lo = '0'.repeat(16);
  let hi = '0'.repeat(16);
  const s: V1Span = {
    traceId: '',
    id: '0'.repeat(16),
    parentId: '',
    name: '',
    timestampUs: undefined,
    durationUs: 0n,
    annotations: [],
    binaryAnnotations: [],
    hostNamesServiceOnlyIfNamed: false,
    defaultStartToNow: false,
  };
  r.readStructBegin();
  for (;;) {
    const t = r.readFieldBegin();
    if (t === TType.STOP) break;
    const id = r.fieldId;
    if (id === 1 && t === TType.I64) lo = r.readI64Hex();
    else if (id === 3 && t === TType.STRING) s.name = r.readString();
    else if (id === 4 && t === TType.I64) s.id = r.readI64Hex();
    else if (id === 5 && t === TType.I64) s.parentId = r.readI64Hex();
    else if (id === 6 && t === TType.LIST) s.annotations = readList(r, annotation, 'annotations');
    else if (id === 8 && t === TType.LIST) s.binaryAnnotations = readList(r, binaryAnnotation, 'binary_annotations');
    else if (id === 10 && t === TType.I64) s.timestampUs = r.readI64();
    else if (id === 11 && t === TType.I64) s.durationUs = r.readI64();
    else if (id === 12 && t === TType.I64) hi = r.readI64Hex();
    else r.skip(t);
  }
  r.readStructEnd();
  s.traceId = hi + lo;
  return s;
}

/** The whole request body: one list<Span>, nothing after it. */
export function decodeV1Thrift(body: Uint8Array): V1Span[] {
  const r = new BinaryReader(body);
  const spans = readList(r, span, 'zipkin v1 thrift spans');
  if (r.remaining() !== 0) throw new ThriftDecodeError(`${r.remaining()} unexpected bytes after the zipkin span list`);
  return spans;
}
