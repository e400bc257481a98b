/**
 * Decodes jaeger.thrift's Batch (and the agent's `Agent.emitBatch` oneway
 * message around it) over either thrift protocol. Field ids from
 * jaeger-idl thrift/jaeger.thrift and agent.thrift:
 *
 *   Tag      1 key, 2 vType (STRING 0, DOUBLE 1, BOOL 2, LONG 3, BINARY 4),
 *            3 vStr, 4 vDouble, 5 vBool, 6 vLong, 7 vBinary
 *   Log      1 timestamp (µs), 2 fields: list<Tag>
 *   SpanRef  1 refType (CHILD_OF 0, FOLLOWS_FROM 1), 2 traceIdLow, 3 traceIdHigh, 4 spanId
 *   Span     1 traceIdLow, 2 traceIdHigh, 3 spanId, 4 parentSpanId, 5 operationName,
 *            6 references, 7 flags, 8 startTime (µs), 9 duration (µs), 10 tags, 11 logs
 *   Process  1 serviceName, 2 tags
 *   Batch    1 process, 2 spans, 3 seqNo, 4 stats
 *   emitBatch_args  1 batch
 */
import type { AnyValue, KeyValue } from '../../core/model.ts';
import { MessageType, TType, ThriftDecodeError, type ThriftReader } from '../../core/thrift/index.ts';
import { RefType, ZERO_SPAN, ZERO_TRACE, type JBatch, type JLog, type JProcess, type JRef, type JSpan } from './model.ts';

function expectType(got: number, want: number, what: string): void {
  if (got !== want) throw new ThriftDecodeError(`${what}: expected thrift type ${want}, got ${got}`);
}

/** µs → ns, wrapping like the Collector's uint64 conversion. */
function microsToNanos(us: bigint): bigint {
  return BigInt.asUintN(64, us * 1000n);
}

function readList<T>(r: ThriftReader, elem: number, what: string, read: (r: ThriftReader) => T): T[] {
  const n = r.readListBegin();
  expectType(r.elemType, elem, what);
  const out = new Array<T>(n);
  for (let i = 0; i < n; i++) out[i] = read(r);
  return out;
}

export function readTag(r: ThriftReader): KeyValue {
  let key = '';
  let vType = 0;
  let vStr = '';
  let vDouble = 0;
  let vBool = false;
  let vLong = 0n;
  let vBinary: Uint8Array | undefined;
  let seen = 0;
  r.readStructBegin();
  for (;;) {
    const t = r.readFieldBegin();
    if (t === TType.STOP) break;
    const id = r.fieldId;
    if (id === 1 && t === TType.STRING) {
      key = r.readString();
      seen |= 1;
    } else if (id === 2 && t === TType.I32) {
      vType = r.readI32();
      seen |= 2;
    }
    else if (id === 3 && t === TType.STRING) vStr = r.readString();
    else if (id === 4 && t === TType.DOUBLE) vDouble = r.readDouble();
    else if (id === 5 && t === TType.BOOL) vBool = r.readBool();
    else if (id === 6 && t === TType.I64) vLong = r.readI64();
    else if (id === 7 && t === TType.STRING) vBinary = r.readBinary();
    else r.skip(t);
  }
  r.readStructEnd();
  if (seen !== 3) throw new ThriftDecodeError('jaeger Tag: required field key or vType is missing');
  let value: AnyValue;
  switch (vType) {
    case 0: value = vStr; break;
    case 1: value = vDouble; break;
    case 2: value = vBool; break;
    case 3: value = vLong; break;
    case 4: value = vBinary ?? new Uint8Array(0); break;
    default: value = '<Unknown Jaeger TagType "<UNSET>">';
  }
  return { key, value };
}

function readTags(r: ThriftReader): KeyValue[] {
  return readList(r, TType.STRUCT, 'tags', readTag);
}

function readLog(r: ThriftReader): JLog {
  const log: JLog = { timeUnixNano: 0n, fields: [] };
  r.readStructBegin();
  for (;;) {
    const t = r.readFieldBegin();
    if (t === TType.STOP) break;
    if (r.fieldId === 1 && t === TType.I64) log.timeUnixNano = microsToNanos(r.readI64());
    else if (r.fieldId === 2 && t === TType.LIST) log.fields = readTags(r);
    else r.skip(t);
  }
  r.readStructEnd();
  return log;
}

function readRef(r: ThriftReader): JRef {
  let lo = ZERO_SPAN;
  let hi = ZERO_SPAN;
  const ref: JRef = { traceId: '', spanId: ZERO_SPAN, refType: 0 };
  r.readStructBegin();
  for (;;) {
    const t = r.readFieldBegin();
    if (t === TType.STOP) break;
    const id = r.fieldId;
    if (id === 1 && t === TType.I32) ref.refType = r.readI32();
    else if (id === 2 && t === TType.I64) lo = r.readI64Hex();
    else if (id === 3 && t === TType.I64) hi = r.readI64Hex();
    else if (id === 4 && t === TType.I64) ref.spanId = r.readI64Hex();
    else r.skip(t);
  }
  r.readStructEnd();
  ref.traceId = hi + lo;
  return ref;
}

/** jThriftSpanParentID: the field, else a same-trace CHILD_OF, else FOLLOWS_FROM reference. */
function inferParent(span: JSpan, parentField: string): string {
  if (parentField !== ZERO_SPAN) return parentField;
  let followsFrom: string | undefined;
  for (const ref of span.references) {
    if (ref.traceId !== span.traceId) continue;
    if (ref.refType === RefType.CHILD_OF) return ref.spanId;
    if (followsFrom === undefined && ref.refType === RefType.FOLLOWS_FROM) followsFrom = ref.spanId;
  }
  return followsFrom ?? ZERO_SPAN;
}

// traceIdLow, traceIdHigh, spanId, parentSpanId, operationName, flags, startTime, duration.
const SPAN_REQUIRED = (1 << 1) | (1 << 2) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 7) | (1 << 8) | (1 << 9);

export function readSpan(r: ThriftReader): JSpan {
  let lo = ZERO_SPAN;
  let hi = ZERO_SPAN;
  let parent = ZERO_SPAN;
  let fields = 0; // bit per required field seen
  const span: JSpan = {
    traceId: ZERO_TRACE,
    spanId: ZERO_SPAN,
    parentSpanId: ZERO_SPAN,
    operationName: '',
    references: [],
    flags: 0,
    startTimeUnixNano: 0n,
    durationNano: 0n,
    tags: [],
    logs: [],
    process: null,
    blank: false,
  };
  let startUs = 0n;
  let durUs = 0n;
  r.readStructBegin();
  for (;;) {
    const t = r.readFieldBegin();
    if (t === TType.STOP) break;
    const id = r.fieldId;
    switch (id) {
      case 1: if (t === TType.I64) { lo = r.readI64Hex(); fields |= 1 << id; continue; } break;
      case 2: if (t === TType.I64) { hi = r.readI64Hex(); fields |= 1 << id; continue; } break;
      case 3: if (t === TType.I64) { span.spanId = r.readI64Hex(); fields |= 1 << id; continue; } break;
      case 4: if (t === TType.I64) { parent = r.readI64Hex(); fields |= 1 << id; continue; } break;
      case 5: if (t === TType.STRING) { span.operationName = r.readString(); fields |= 1 << id; continue; } break;
      case 6: if (t === TType.LIST) { span.references = readList(r, TType.STRUCT, 'references', readRef); fields |= 1 << id; continue; } break;
      case 7: if (t === TType.I32) { span.flags = r.readI32(); fields |= 1 << id; continue; } break;
      case 8: if (t === TType.I64) { startUs = r.readI64(); fields |= 1 << id; continue; } break;
      case 9: if (t === TType.I64) { durUs = r.readI64(); fields |= 1 << id; continue; } break;
      case 10: if (t === TType.LIST) { span.tags = readTags(r); fields |= 1 << id; continue; } break;
      case 11: if (t === TType.LIST) { span.logs = readList(r, TType.STRUCT, 'logs', readLog); fields |= 1 << id; continue; } break;
    }
    r.skip(t);
  }
  r.readStructEnd();
  if ((fields & SPAN_REQUIRED) !== SPAN_REQUIRED) throw new ThriftDecodeError('jaeger Span: a required field is missing');
  span.traceId = hi + lo;
  span.startTimeUnixNano = microsToNanos(startUs);
  // The Collector computes end = (start + duration) µs → ns.
  span.durationNano = microsToNanos(startUs + durUs) - span.startTimeUnixNano;
  span.parentSpanId = inferParent(span, parent);
  span.blank =
    span.traceId === ZERO_TRACE && span.spanId === ZERO_SPAN && parent === ZERO_SPAN && span.operationName === '' &&
      span.flags === 0 && startUs === 0n && durUs === 0n && span.references.length === 0 && span.tags.length === 0 &&
      span.logs.length === 0;
  return span;
}

function readProcess(r: ThriftReader): JProcess {
  const p: JProcess = { serviceName: '', tags: [] };
  r.readStructBegin();
  for (;;) {
    const t = r.readFieldBegin();
    if (t === TType.STOP) break;
    if (r.fieldId === 1 && t === TType.STRING) p.serviceName = r.readString();
    else if (r.fieldId === 2 && t === TType.LIST) p.tags = readTags(r);
    else r.skip(t);
  }
  r.readStructEnd();
  return p;
}

export function readBatch(r: ThriftReader): JBatch {
  const batch: JBatch = { process: null, spans: [] };
  let sawSpans = false;
  r.readStructBegin();
  for (;;) {
    const t = r.readFieldBegin();
    if (t === TType.STOP) break;
    if (r.fieldId === 1 && t === TType.STRUCT) batch.process = readProcess(r);
    else if (r.fieldId === 2 && t === TType.LIST) {
      batch.spans = readList(r, TType.STRUCT, 'spans', readSpan);
      sawSpans = true;
    } else r.skip(t);
  }
  r.readStructEnd();
  // Both are `required` in jaeger.thrift; the Go decoder rejects a batch without them.
  if (batch.process === null) throw new ThriftDecodeError('jaeger Batch: required field process is missing');
  if (!sawSpans) throw new ThriftDecodeError('jaeger Batch: required field spans is missing');
  return batch;
}

/** A whole request body of /api/traces: one Batch struct, nothing after it. */
export function readBatchBody(r: ThriftReader): JBatch {
  const batch = readBatch(r);
  if (r.remaining() !== 0) throw new ThriftDecodeError(`${r.remaining()} unexpected bytes after the jaeger Batch`);
  return batch;
}

/** An agent UDP packet: `Agent.emitBatch(1: Batch)` as a oneway (or call) message. */
export function readEmitBatch(r: ThriftReader): JBatch {
  const msg = r.readMessageBegin();
  if (msg.name !== 'emitBatch') throw new ThriftDecodeError(`unsupported agent method ${JSON.stringify(msg.name)} (only emitBatch)`);
  if (msg.type !== MessageType.ONEWAY && msg.type !== MessageType.CALL) throw new ThriftDecodeError(`unexpected thrift message type ${msg.type}`);
  let batch: JBatch | undefined;
  r.readStructBegin();
  for (;;) {
    const t = r.readFieldBegin();
    if (t === TType.STOP) break;
    if (r.fieldId === 1 && t === TType.STRUCT) batch = readBatch(r);
    else r.skip(t);
  }
  r.readStructEnd();
  if (!batch) throw new ThriftDecodeError('emitBatch without a batch argument');
  return batch;
}
