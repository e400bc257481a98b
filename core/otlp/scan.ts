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
import {
  AnyValueTag, ArrayValueTag, ExportLogsServiceRequestTag, InstrumentationScopeTag, KeyValueTag, LogRecordTag,
  ResourceLogsTag, ResourceTag, ScopeLogsTag, SpanEventTag, SpanLinkTag, SpanTag, StatusTag, otlpKnown,
} from './wire-fields.gen.ts';

// ExportTraceServiceRequest, ResourceSpans and ScopeSpans have the same tags and fields as their
// logs counterparts (wire-fields.test.ts): the walk below names the logs ones for both signals.

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
      case AnyValueTag.string_value: text(r, end); break;
      case AnyValueTag.bytes_value: len(r, end); break;
      case AnyValueTag.bool_value: case AnyValueTag.int_value: r.varint64(); break;
      case AnyValueTag.double_value: fixed(r, WT_I64); break;
      case AnyValueTag.array_value: list(r, end, depth + 1, 'ArrayValue', false); break;
      case AnyValueTag.kvlist_value: list(r, end, depth + 1, 'KeyValueList', true); break;
      default: r.other(tag, otlpKnown.AnyValue, end, 'AnyValue');
    }
  }
  r.expectEnd(end, 'AnyValue');
}

function list(r: Reader, limit: number, depth: number, message: string, keyValues: boolean): void {
  const end = r.lenEnd(limit);
  while (r.pos < end) {
    const tag = r.uint32();
    // ArrayValue and KeyValueList: both `1 values` only.
    if (tag !== ArrayValueTag.values) r.other(tag, otlpKnown.ArrayValue, end, message);
    else if (keyValues) keyValue(r, end, depth);
    else anyValue(r, end, depth);
  }
  r.expectEnd(end, message);
}

function keyValue(r: Reader, limit: number, depth = 0): void {
  const end = r.lenEnd(limit);
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === KeyValueTag.key) text(r, end);
    else if (tag === KeyValueTag.value) anyValue(r, end, depth);
    else r.other(tag, otlpKnown.KeyValue, end, 'KeyValue');
  }
  r.expectEnd(end, 'KeyValue');
}

function scope(r: Reader, limit: number): void {
  const end = r.lenEnd(limit);
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case InstrumentationScopeTag.name: case InstrumentationScopeTag.version: text(r, end); break;
      case InstrumentationScopeTag.attributes: keyValue(r, end); break;
      case InstrumentationScopeTag.dropped_attributes_count: r.uint32(); break;
      default: r.other(tag, otlpKnown.InstrumentationScope, end, 'InstrumentationScope');
    }
  }
  r.expectEnd(end, 'InstrumentationScope');
}

function resource(r: Reader, limit: number): void {
  const end = r.lenEnd(limit);
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === ResourceTag.attributes) keyValue(r, end);
    else if (tag === ResourceTag.dropped_attributes_count) r.uint32();
    else r.other(tag, otlpKnown.Resource, end, 'Resource');
  }
  r.expectEnd(end, 'Resource');
}

function logRecord(r: Reader, limit: number): void {
  const end = r.lenEnd(limit);
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case LogRecordTag.time_unix_nano: case LogRecordTag.observed_time_unix_nano: fixed(r, WT_I64); break;
      case LogRecordTag.severity_number: case LogRecordTag.dropped_attributes_count: r.uint32(); break;
      case LogRecordTag.severity_text: case LogRecordTag.event_name: text(r, end); break;
      case LogRecordTag.body: anyValue(r, end, 0); break;
      case LogRecordTag.attributes: keyValue(r, end); break;
      case LogRecordTag.flags: fixed(r, WT_I32); break;
      case LogRecordTag.trace_id: id(r, end, 16, 'LogRecord.trace_id'); break;
      case LogRecordTag.span_id: id(r, end, 8, 'LogRecord.span_id'); break;
      default: r.other(tag, otlpKnown.LogRecord, end, 'LogRecord');
    }
  }
  r.expectEnd(end, 'LogRecord');
}

function event(r: Reader, limit: number): void {
  const end = r.lenEnd(limit);
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case SpanEventTag.time_unix_nano: fixed(r, WT_I64); break;
      case SpanEventTag.name: text(r, end); break;
      case SpanEventTag.attributes: keyValue(r, end); break;
      case SpanEventTag.dropped_attributes_count: r.uint32(); break;
      default: r.other(tag, otlpKnown.SpanEvent, end, 'Span.Event');
    }
  }
  r.expectEnd(end, 'Span.Event');
}

function link(r: Reader, limit: number): void {
  const end = r.lenEnd(limit);
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case SpanLinkTag.trace_id: id(r, end, 16, 'Span.Link.trace_id'); break;
      case SpanLinkTag.span_id: id(r, end, 8, 'Span.Link.span_id'); break;
      case SpanLinkTag.trace_state: text(r, end); break;
      case SpanLinkTag.attributes: keyValue(r, end); break;
      case SpanLinkTag.dropped_attributes_count: r.uint32(); break;
      case SpanLinkTag.flags: fixed(r, WT_I32); break;
      default: r.other(tag, otlpKnown.SpanLink, end, 'Span.Link');
    }
  }
  r.expectEnd(end, 'Span.Link');
}

function status(r: Reader, limit: number): void {
  const end = r.lenEnd(limit);
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === StatusTag.message) text(r, end);
    else if (tag === StatusTag.code) r.uint32();
    else r.other(tag, otlpKnown.Status, end, 'Status');
  }
  r.expectEnd(end, 'Status');
}

function span(r: Reader, limit: number): void {
  const end = r.lenEnd(limit);
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case SpanTag.trace_id: id(r, end, 16, 'Span.trace_id'); break;
      case SpanTag.span_id: id(r, end, 8, 'Span.span_id'); break;
      case SpanTag.parent_span_id: id(r, end, 8, 'Span.parent_span_id'); break;
      case SpanTag.trace_state: case SpanTag.name: text(r, end); break;
      case SpanTag.kind: case SpanTag.dropped_attributes_count: case SpanTag.dropped_events_count: case SpanTag.dropped_links_count: r.uint32(); break;
      case SpanTag.start_time_unix_nano: case SpanTag.end_time_unix_nano: fixed(r, WT_I64); break;
      case SpanTag.attributes: keyValue(r, end); break;
      case SpanTag.events: event(r, end); break;
      case SpanTag.links: link(r, end); break;
      case SpanTag.status: status(r, end); break;
      case SpanTag.flags: fixed(r, WT_I32); break;
      default: r.other(tag, otlpKnown.Span, end, 'Span');
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
      case ScopeLogsTag.scope: scope(r, end); break;
      case ScopeLogsTag.log_records: rec(r, end); n++; break;
      case ScopeLogsTag.schema_url: text(r, end); break;
      default: r.other(tag, otlpKnown.ScopeLogs, end, message);
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
      case ResourceLogsTag.resource: resource(r, end); break;
      case ResourceLogsTag.scope_logs: n += scopeRecords(r, end, rec, scopeMessage); break;
      case ResourceLogsTag.schema_url: text(r, end); break;
      default: r.other(tag, otlpKnown.ResourceLogs, end, message);
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
      if (tag === ExportLogsServiceRequestTag.resource_logs) n += resourceRecords(r, end, rec, resourceMessage, scopeMessage);
      else r.other(tag, otlpKnown.ExportLogsServiceRequest, end, message);
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
