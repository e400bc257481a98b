/**
 * Decodes jaeger api_v2 protobuf (model.proto, collector.proto) by hand with
 * the shared protowire Reader. Tags and field numbers: wire-fields.gen.ts,
 * generated from testdata/*.proto (npm run gen:wire). Enums read here:
 * SpanRef.ref_type (CHILD_OF 0, FOLLOWS_FROM 1), KeyValue.v_type (STRING 0,
 * BOOL 1, INT64 2, FLOAT64 3, BINARY 4).
 */
import type { AnyValue, KeyValue } from '../../core/model.ts';
import { Reader } from '../../core/otlp/protowire.ts';
import {
  BatchTag, GoogleProtobufTimestampTag, KeyValueTag, LogTag, PostSpansRequestTag, ProcessTag, SpanRefTag, SpanTag,
  jaegerKnown,
} from './wire-fields.gen.ts';
import { RefType, ZERO_SPAN, ZERO_TRACE, type JBatch, type JLog, type JProcess, type JRef, type JSpan } from './model.ts';

/** Jaeger ids are fixed-size byte strings: 16 bytes for a trace, 8 for a span. */
function id(r: Reader, limit: number, size: 8 | 16, what: string): string {
  const end = r.lenEnd(limit);
  const start = r.pos;
  r.pos = end;
  if (end === start) return size === 16 ? ZERO_TRACE : ZERO_SPAN;
  if (end - start !== size) r.fail(`${what} must be ${size} bytes, got ${end - start}`);
  return r.buf.hexSlice(start, end);
}

/** google.protobuf.Timestamp / Duration (the same two fields and tags) → ns. */
function time(r: Reader, limit: number): bigint {
  const end = r.lenEnd(limit);
  let seconds = 0n;
  let nanos = 0;
  while (r.pos < end) {
    const t = r.uint32();
    if (t === GoogleProtobufTimestampTag.seconds) seconds = r.int64();
    else if (t === GoogleProtobufTimestampTag.nanos) nanos = r.uint32() | 0;
    else r.other(t, jaegerKnown.GoogleProtobufTimestamp, end, 'Timestamp');
  }
  r.expectEnd(end, 'Timestamp');
  return seconds * 1_000_000_000n + BigInt(nanos);
}

function keyValue(r: Reader, limit: number): KeyValue {
  const end = r.lenEnd(limit);
  let key = '';
  let vType = 0;
  let vStr = '';
  let vBool = false;
  let vInt = 0n;
  let vFloat = 0;
  let vBin: Uint8Array | undefined;
  while (r.pos < end) {
    const t = r.uint32();
    switch (t) {
      case KeyValueTag.key: key = r.string(end); break;
      case KeyValueTag.v_type: vType = r.uint32(); break;
      case KeyValueTag.v_str: vStr = r.string(end); break;
      case KeyValueTag.v_bool: vBool = r.bool(); break;
      case KeyValueTag.v_int64: vInt = r.int64(); break;
      case KeyValueTag.v_float64: vFloat = r.double(); break;
      case KeyValueTag.v_binary: vBin = r.bytes(end); break;
      default: r.other(t, jaegerKnown.KeyValue, end, 'KeyValue');
    }
  }
  r.expectEnd(end, 'KeyValue');
  let value: AnyValue;
  switch (vType) {
    case 0: value = vStr; break;
    case 1: value = vBool; break;
    case 2: value = vInt; break;
    case 3: value = vFloat; break;
    case 4: value = vBin ?? new Uint8Array(0); break;
    default: value = `<Unknown Jaeger TagType "${vType}">`;
  }
  return { key, value };
}

function process(r: Reader, limit: number): JProcess {
  const end = r.lenEnd(limit);
  const p: JProcess = { serviceName: '', tags: [] };
  while (r.pos < end) {
    const t = r.uint32();
    if (t === ProcessTag.service_name) p.serviceName = r.string(end);
    else if (t === ProcessTag.tags) p.tags.push(keyValue(r, end));
    else r.other(t, jaegerKnown.Process, end, 'Process');
  }
  r.expectEnd(end, 'Process');
  return p;
}

function log(r: Reader, limit: number): JLog {
  const end = r.lenEnd(limit);
  const l: JLog = { timeUnixNano: 0n, fields: [] };
  while (r.pos < end) {
    const t = r.uint32();
    if (t === LogTag.timestamp) l.timeUnixNano = time(r, end);
    else if (t === LogTag.fields) l.fields.push(keyValue(r, end));
    else r.other(t, jaegerKnown.Log, end, 'Log');
  }
  r.expectEnd(end, 'Log');
  return l;
}

function ref(r: Reader, limit: number): JRef {
  const end = r.lenEnd(limit);
  const x: JRef = { traceId: ZERO_TRACE, spanId: ZERO_SPAN, refType: RefType.CHILD_OF };
  while (r.pos < end) {
    const t = r.uint32();
    if (t === SpanRefTag.trace_id) x.traceId = id(r, end, 16, 'SpanRef.trace_id');
    else if (t === SpanRefTag.span_id) x.spanId = id(r, end, 8, 'SpanRef.span_id');
    else if (t === SpanRefTag.ref_type) x.refType = r.uint32();
    else r.other(t, jaegerKnown.SpanRef, end, 'SpanRef');
  }
  r.expectEnd(end, 'SpanRef');
  return x;
}

function span(r: Reader, limit: number): JSpan {
  const end = r.lenEnd(limit);
  const s: JSpan = {
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
    blank: end === r.pos,
  };
  while (r.pos < end) {
    const t = r.uint32();
    switch (t) {
      case SpanTag.trace_id: s.traceId = id(r, end, 16, 'Span.trace_id'); break;
      case SpanTag.span_id: s.spanId = id(r, end, 8, 'Span.span_id'); break;
      case SpanTag.operation_name: s.operationName = r.string(end); break;
      case SpanTag.references: s.references.push(ref(r, end)); break;
      case SpanTag.flags: s.flags = r.uint32(); break;
      case SpanTag.start_time: s.startTimeUnixNano = time(r, end); break;
      case SpanTag.duration: s.durationNano = time(r, end); break;
      case SpanTag.tags: s.tags.push(keyValue(r, end)); break;
      case SpanTag.logs: s.logs.push(log(r, end)); break;
      case SpanTag.process: s.process = process(r, end); break;
      case SpanTag.process_id: r.string(end); break; // process_id: unused, as in the Collector
      case SpanTag.warnings: r.string(end); break; // warnings
      default: r.other(t, jaegerKnown.Span, end, 'Span');
    }
  }
  r.expectEnd(end, 'Span');
  // model.Span.ParentSpanID(): the first CHILD_OF reference within the same trace.
  for (const x of s.references) {
    if (x.traceId === s.traceId && x.refType === RefType.CHILD_OF) {
      s.parentSpanId = x.spanId;
      break;
    }
  }
  return s;
}

function batch(r: Reader, limit: number): JBatch {
  const end = r.lenEnd(limit);
  const b: JBatch = { process: null, spans: [] };
  while (r.pos < end) {
    const t = r.uint32();
    if (t === BatchTag.spans) b.spans.push(span(r, end));
    else if (t === BatchTag.process) b.process = process(r, end);
    else r.other(t, jaegerKnown.Batch, end, 'Batch');
  }
  r.expectEnd(end, 'Batch');
  return b;
}

/** PostSpansRequest → its Batch (an empty request is an empty batch). */
export function decodePostSpansRequest(data: Uint8Array): JBatch {
  const r = new Reader(data);
  let b: JBatch = { process: null, spans: [] };
  while (r.pos < r.len) {
    const t = r.uint32();
    if (t === PostSpansRequestTag.batch) b = batch(r, r.len);
    else r.other(t, jaegerKnown.PostSpansRequest, r.len, 'PostSpansRequest');
  }
  return b;
}
