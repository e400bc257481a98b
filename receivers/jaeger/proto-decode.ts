/**
 * Decodes jaeger api_v2 protobuf (model.proto, collector.proto) by hand with
 * the shared protowire Reader. Field numbers:
 *
 *   PostSpansRequest  1 batch
 *   Batch      1 spans, 2 process
 *   Span       1 trace_id (16 B), 2 span_id (8 B), 3 operation_name, 4 references,
 *              5 flags, 6 start_time (Timestamp), 7 duration (Duration), 8 tags,
 *              9 logs, 10 process, 11 process_id, 12 warnings
 *   SpanRef    1 trace_id, 2 span_id, 3 ref_type (CHILD_OF 0, FOLLOWS_FROM 1)
 *   Process    1 service_name, 2 tags
 *   Log        1 timestamp, 2 fields
 *   KeyValue   1 key, 2 v_type (STRING 0, BOOL 1, INT64 2, FLOAT64 3, BINARY 4),
 *              3 v_str, 4 v_bool, 5 v_int64, 6 v_float64, 7 v_binary
 *   Timestamp / Duration  1 seconds (int64), 2 nanos (int32)
 */
import type { AnyValue, KeyValue } from '../../core/model.ts';
import { Reader, WT_I64, WT_LEN, WT_VARINT, fields } from '../../core/otlp/protowire.ts';
import { RefType, ZERO_SPAN, ZERO_TRACE, type JBatch, type JLog, type JProcess, type JRef, type JSpan } from './model.ts';

const tag = (field: number, wt: number) => (field << 3) | wt;

/** Jaeger ids are fixed-size byte strings: 16 bytes for a trace, 8 for a span. */
function id(r: Reader, limit: number, size: 8 | 16, what: string): string {
  const end = r.lenEnd(limit);
  const start = r.pos;
  r.pos = end;
  if (end === start) return size === 16 ? ZERO_TRACE : ZERO_SPAN;
  if (end - start !== size) r.fail(`${what} must be ${size} bytes, got ${end - start}`);
  return r.buf.hexSlice(start, end);
}

/** google.protobuf.Timestamp / Duration → ns. */
function time(r: Reader, limit: number): bigint {
  const end = r.lenEnd(limit);
  let seconds = 0n;
  let nanos = 0;
  while (r.pos < end) {
    const t = r.uint32();
    if (t === tag(1, WT_VARINT)) seconds = r.int64();
    else if (t === tag(2, WT_VARINT)) nanos = r.uint32() | 0;
    else r.other(t, fields(1, 2), end, 'Timestamp');
  }
  r.expectEnd(end, 'Timestamp');
  return seconds * 1_000_000_000n + BigInt(nanos);
}

const KV_FIELDS = fields(1, 2, 3, 4, 5, 6, 7);

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
      case tag(1, WT_LEN): key = r.string(end); break;
      case tag(2, WT_VARINT): vType = r.uint32(); break;
      case tag(3, WT_LEN): vStr = r.string(end); break;
      case tag(4, WT_VARINT): vBool = r.bool(); break;
      case tag(5, WT_VARINT): vInt = r.int64(); break;
      case tag(6, WT_I64): vFloat = r.double(); break;
      case tag(7, WT_LEN): vBin = r.bytes(end); break;
      default: r.other(t, KV_FIELDS, end, 'KeyValue');
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
    if (t === tag(1, WT_LEN)) p.serviceName = r.string(end);
    else if (t === tag(2, WT_LEN)) p.tags.push(keyValue(r, end));
    else r.other(t, fields(1, 2), end, 'Process');
  }
  r.expectEnd(end, 'Process');
  return p;
}

function log(r: Reader, limit: number): JLog {
  const end = r.lenEnd(limit);
  const l: JLog = { timeUnixNano: 0n, fields: [] };
  while (r.pos < end) {
    const t = r.uint32();
    if (t === tag(1, WT_LEN)) l.timeUnixNano = time(r, end);
    else if (t === tag(2, WT_LEN)) l.fields.push(keyValue(r, end));
    else r.other(t, fields(1, 2), end, 'Log');
  }
  r.expectEnd(end, 'Log');
  return l;
}

function ref(r: Reader, limit: number): JRef {
  const end = r.lenEnd(limit);
  const x: JRef = { traceId: ZERO_TRACE, spanId: ZERO_SPAN, refType: RefType.CHILD_OF };
  while (r.pos < end) {
    const t = r.uint32();
    if (t === tag(1, WT_LEN)) x.traceId = id(r, end, 16, 'SpanRef.trace_id');
    else if (t === tag(2, WT_LEN)) x.spanId = id(r, end, 8, 'SpanRef.span_id');
    else if (t === tag(3, WT_VARINT)) x.refType = r.uint32();
    else r.other(t, fields(1, 2, 3), end, 'SpanRef');
  }
  r.expectEnd(end, 'SpanRef');
  return x;
}

const SPAN_FIELDS = fields(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12);

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
      case tag(1, WT_LEN): s.traceId = id(r, end, 16, 'Span.trace_id'); break;
      case tag(2, WT_LEN): s.spanId = id(r, end, 8, 'Span.span_id'); break;
      case tag(3, WT_LEN): s.operationName = r.string(end); break;
      case tag(4, WT_LEN): s.references.push(ref(r, end)); break;
      case tag(5, WT_VARINT): s.flags = r.uint32(); break;
      case tag(6, WT_LEN): s.startTimeUnixNano = time(r, end); break;
      case tag(7, WT_LEN): s.durationNano = time(r, end); break;
      case tag(8, WT_LEN): s.tags.push(keyValue(r, end)); break;
      case tag(9, WT_LEN): s.logs.push(log(r, end)); break;
      case tag(10, WT_LEN): s.process = process(r, end); break;
      case tag(11, WT_LEN): r.string(end); break; // process_id: unused, as in the Collector
      case tag(12, WT_LEN): r.string(end); break; // warnings
      default: r.other(t, SPAN_FIELDS, end, 'Span');
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
    if (t === tag(1, WT_LEN)) b.spans.push(span(r, end));
    else if (t === tag(2, WT_LEN)) b.process = process(r, end);
    else r.other(t, fields(1, 2), end, 'Batch');
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
    if (t === tag(1, WT_LEN)) b = batch(r, r.len);
    else r.other(t, fields(1), r.len, 'PostSpansRequest');
  }
  return b;
}
