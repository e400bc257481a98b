/**
 * Validates an ExportLogsServiceRequest / ExportTraceServiceRequest without
 * building it: the same walk as decodeLogsProto / decodeTracesProto (same
 * fields, wire types, id lengths, nesting limit and message-end checks, so
 * a request is accepted here exactly when the decoder would accept it), but
 * nothing is allocated: no strings, no ids, no objects. It returns the
 * number of records, which is all a stage that only forwards the bytes
 * needs (the gateway: OTLP in, Kafka out; see core/model.ts lazyLogs).
 *
 * scan.test.ts holds the equivalence to the decoders: every valid fixture
 * and thousands of truncated and bit-flipped variants get the same verdict.
 */
import { MAX_DEPTH, WT_I32, WT_I64 } from './protowire.ts';
import { Reader } from './protowire.ts';
import { beginUtf8, endUtf8, utf8Ok } from './utf8.ts';
import { otlpKnown, otlpTag } from './wire-fields.gen.ts';

// Module-level aliases, so optimized code has the tags as constants (wire-fields.gen.ts).
const T = otlpTag;
const K = otlpKnown;
// ExportTraceServiceRequest, ResourceSpans and ScopeSpans have the same tags and fields as
// their logs counterparts (wire-fields.test.ts): one walk serves both signals.
const RES = T.ResourceLogs;
const SCOPE = T.ScopeLogs;

/** A bytes field: only its length is checked. */
function len(r: Reader, limit: number): void {
  r.pos = r.lenEnd(limit);
}

/** A string field: its length, and that it is UTF-8, as Reader.string demands. */
function text(r: Reader, limit: number): void {
  const end = r.lenEnd(limit);
  if (!utf8Ok(r.pos, end)) r.fail('string field is not valid UTF-8');
  r.pos = end;
}

/** A trace id (16) or span id (8): empty or exactly that many bytes, as Reader.id demands. */
function id(r: Reader, limit: number, size: number, what: string): void {
  const end = r.lenEnd(limit);
  if (end !== r.pos && end - r.pos !== size) r.fail(`${what} must be ${size} bytes, got ${end - r.pos}`);
  r.pos = end;
}

function fixed(r: Reader, wireType: number): void {
  const n = wireType === WT_I64 ? 8 : 4;
  if (r.pos + n > r.len) r.fail(n === 8 ? 'truncated fixed64' : 'truncated fixed32');
  r.pos += n;
}

function anyValue(r: Reader, limit: number, depth: number): void {
  const end = r.lenEnd(limit);
  if (depth > MAX_DEPTH) r.fail(`AnyValue nested deeper than ${MAX_DEPTH}`);
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case T.AnyValue.string_value: text(r, end); break;
      case T.AnyValue.bytes_value: len(r, end); break;
      case T.AnyValue.bool_value: case T.AnyValue.int_value: r.varint64(); break;
      case T.AnyValue.double_value: fixed(r, WT_I64); break;
      case T.AnyValue.array_value: list(r, end, depth + 1, 'ArrayValue', false); break;
      case T.AnyValue.kvlist_value: list(r, end, depth + 1, 'KeyValueList', true); break;
      default: r.other(tag, K.AnyValue, end, 'AnyValue');
    }
  }
  r.expectEnd(end, 'AnyValue');
}

function list(r: Reader, limit: number, depth: number, message: string, keyValues: boolean): void {
  const end = r.lenEnd(limit);
  while (r.pos < end) {
    const tag = r.uint32();
    // ArrayValue and KeyValueList: both `1 values` only.
    if (tag !== T.ArrayValue.values) r.other(tag, K.ArrayValue, end, message);
    else if (keyValues) keyValue(r, end, depth);
    else anyValue(r, end, depth);
  }
  r.expectEnd(end, message);
}

function keyValue(r: Reader, limit: number, depth = 0): void {
  const end = r.lenEnd(limit);
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === T.KeyValue.key) text(r, end);
    else if (tag === T.KeyValue.value) anyValue(r, end, depth);
    else r.other(tag, K.KeyValue, end, 'KeyValue');
  }
  r.expectEnd(end, 'KeyValue');
}

function scope(r: Reader, limit: number): void {
  const end = r.lenEnd(limit);
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case T.InstrumentationScope.name: case T.InstrumentationScope.version: text(r, end); break;
      case T.InstrumentationScope.attributes: keyValue(r, end); break;
      case T.InstrumentationScope.dropped_attributes_count: r.uint32(); break;
      default: r.other(tag, K.InstrumentationScope, end, 'InstrumentationScope');
    }
  }
  r.expectEnd(end, 'InstrumentationScope');
}

function resource(r: Reader, limit: number): void {
  const end = r.lenEnd(limit);
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === T.Resource.attributes) keyValue(r, end);
    else if (tag === T.Resource.dropped_attributes_count) r.uint32();
    else r.other(tag, K.Resource, end, 'Resource');
  }
  r.expectEnd(end, 'Resource');
}

function logRecord(r: Reader, limit: number): void {
  const end = r.lenEnd(limit);
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case T.LogRecord.time_unix_nano: case T.LogRecord.observed_time_unix_nano: fixed(r, WT_I64); break;
      case T.LogRecord.severity_number: case T.LogRecord.dropped_attributes_count: r.uint32(); break;
      case T.LogRecord.severity_text: case T.LogRecord.event_name: text(r, end); break;
      case T.LogRecord.body: anyValue(r, end, 0); break;
      case T.LogRecord.attributes: keyValue(r, end); break;
      case T.LogRecord.flags: fixed(r, WT_I32); break;
      case T.LogRecord.trace_id: id(r, end, 16, 'LogRecord.trace_id'); break;
      case T.LogRecord.span_id: id(r, end, 8, 'LogRecord.span_id'); break;
      default: r.other(tag, K.LogRecord, end, 'LogRecord');
    }
  }
  r.expectEnd(end, 'LogRecord');
}

function event(r: Reader, limit: number): void {
  const end = r.lenEnd(limit);
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case T.SpanEvent.time_unix_nano: fixed(r, WT_I64); break;
      case T.SpanEvent.name: text(r, end); break;
      case T.SpanEvent.attributes: keyValue(r, end); break;
      case T.SpanEvent.dropped_attributes_count: r.uint32(); break;
      default: r.other(tag, K.SpanEvent, end, 'Span.Event');
    }
  }
  r.expectEnd(end, 'Span.Event');
}

function link(r: Reader, limit: number): void {
  const end = r.lenEnd(limit);
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case T.SpanLink.trace_id: id(r, end, 16, 'Span.Link.trace_id'); break;
      case T.SpanLink.span_id: id(r, end, 8, 'Span.Link.span_id'); break;
      case T.SpanLink.trace_state: text(r, end); break;
      case T.SpanLink.attributes: keyValue(r, end); break;
      case T.SpanLink.dropped_attributes_count: r.uint32(); break;
      case T.SpanLink.flags: fixed(r, WT_I32); break;
      default: r.other(tag, K.SpanLink, end, 'Span.Link');
    }
  }
  r.expectEnd(end, 'Span.Link');
}

function status(r: Reader, limit: number): void {
  const end = r.lenEnd(limit);
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === T.Status.message) text(r, end);
    else if (tag === T.Status.code) r.uint32();
    else r.other(tag, K.Status, end, 'Status');
  }
  r.expectEnd(end, 'Status');
}

function span(r: Reader, limit: number): void {
  const end = r.lenEnd(limit);
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case T.Span.trace_id: id(r, end, 16, 'Span.trace_id'); break;
      case T.Span.span_id: id(r, end, 8, 'Span.span_id'); break;
      case T.Span.parent_span_id: id(r, end, 8, 'Span.parent_span_id'); break;
      case T.Span.trace_state: case T.Span.name: text(r, end); break;
      case T.Span.kind: case T.Span.dropped_attributes_count: case T.Span.dropped_events_count: case T.Span.dropped_links_count: r.uint32(); break;
      case T.Span.start_time_unix_nano: case T.Span.end_time_unix_nano: fixed(r, WT_I64); break;
      case T.Span.attributes: keyValue(r, end); break;
      case T.Span.events: event(r, end); break;
      case T.Span.links: link(r, end); break;
      case T.Span.status: status(r, end); break;
      case T.Span.flags: fixed(r, WT_I32); break;
      default: r.other(tag, K.Span, end, 'Span');
    }
  }
  r.expectEnd(end, 'Span');
}

type RecordScan = (r: Reader, limit: number) => void;

/** ScopeLogs / ScopeSpans: 1 scope, 2 records, 3 schema_url. Returns its record count. */
function scopeRecords(r: Reader, limit: number, rec: RecordScan, message: string): number {
  const end = r.lenEnd(limit);
  let n = 0;
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case SCOPE.scope: scope(r, end); break;
      case SCOPE.log_records: rec(r, end); n++; break;
      case SCOPE.schema_url: text(r, end); break;
      default: r.other(tag, K.ScopeLogs, end, message);
    }
  }
  r.expectEnd(end, message);
  return n;
}

/** ResourceLogs / ResourceSpans: 1 resource, 2 scopes, 3 schema_url. */
function resourceRecords(r: Reader, limit: number, rec: RecordScan, message: string, scopeMessage: string): number {
  const end = r.lenEnd(limit);
  let n = 0;
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case RES.resource: resource(r, end); break;
      case RES.scope_logs: n += scopeRecords(r, end, rec, scopeMessage); break;
      case RES.schema_url: text(r, end); break;
      default: r.other(tag, K.ResourceLogs, end, message);
    }
  }
  r.expectEnd(end, message);
  return n;
}

function request(data: Uint8Array, rec: RecordScan, message: string, resourceMessage: string, scopeMessage: string): number {
  const r = new Reader(data);
  const end = r.len;
  let n = 0;
  beginUtf8(r.buf);
  try {
    while (r.pos < end) {
      const tag = r.uint32();
      if (tag === T.ExportLogsServiceRequest.resource_logs) n += resourceRecords(r, end, rec, resourceMessage, scopeMessage);
      else r.other(tag, K.ExportLogsServiceRequest, end, message);
    }
  } finally {
    endUtf8();
  }
  return n;
}

/** Checks ExportLogsServiceRequest bytes as decodeLogsProto would; returns the log record count. Throws OtlpDecodeError. */
export function scanLogsProto(data: Uint8Array): number {
  return request(data, logRecord, 'ExportLogsServiceRequest', 'ResourceLogs', 'ScopeLogs');
}

/** Checks ExportTraceServiceRequest bytes as decodeTracesProto would; returns the span count. Throws OtlpDecodeError. */
export function scanTracesProto(data: Uint8Array): number {
  return request(data, span, 'ExportTraceServiceRequest', 'ResourceSpans', 'ScopeSpans');
}
