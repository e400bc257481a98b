/**
 * Validates an ExportLogsServiceRequest / ExportTraceServiceRequest without
 * building it: the same walk as decodeLogsProto / decodeTracesProto (same
 * fields, wire types, id lengths, nesting limit and message-end checks, so
 * a request is accepted here exactly when the decoder would accept it), but
 * nothing is allocated: no strings, no ids, no objects. It returns the
 * number of records, which is all a stage that only forwards the bytes
 * needs (the gateway: OTLP in, Kafka out; see core/payload.ts Payload.scan).
 *
 * scan.test.ts holds the equivalence to the decoders: every valid fixture
 * and thousands of truncated and bit-flipped variants get the same verdict.
 */
import { MAX_DEPTH, WT_I32, WT_I64, fields } from './protowire.ts';
import { Reader } from './protowire.ts';
import { beginUtf8, endUtf8, utf8Ok } from './utf8.ts';

const REQUEST_FIELDS = fields(1);
const RESOURCE_FIELDS = fields(1, 2);
const SCOPE_FIELDS = fields(1, 2, 3, 4);
const KV_FIELDS = fields(1, 2);
const ANY_FIELDS = fields(1, 2, 3, 4, 5, 6, 7);
const LIST_FIELDS = fields(1);
const CONTAINER_FIELDS = fields(1, 2, 3); // ResourceLogs/ResourceSpans, ScopeLogs/ScopeSpans
const LOG_RECORD_FIELDS = fields(1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12);
const SPAN_FIELDS = fields(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);
const EVENT_FIELDS = fields(1, 2, 3, 4);
const LINK_FIELDS = fields(1, 2, 3, 4, 5, 6);
const STATUS_FIELDS = fields(2, 3);

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
      case 0x0a: text(r, end); break;
      case 0x3a: len(r, end); break;
      case 0x10: case 0x18: r.varint64(); break;
      case 0x21: fixed(r, WT_I64); break;
      case 0x2a: list(r, end, depth + 1, 'ArrayValue', false); break;
      case 0x32: list(r, end, depth + 1, 'KeyValueList', true); break;
      default: r.other(tag, ANY_FIELDS, end, 'AnyValue');
    }
  }
  r.expectEnd(end, 'AnyValue');
}

function list(r: Reader, limit: number, depth: number, message: string, keyValues: boolean): void {
  const end = r.lenEnd(limit);
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag !== 0x0a) r.other(tag, LIST_FIELDS, end, message);
    else if (keyValues) keyValue(r, end, depth);
    else anyValue(r, end, depth);
  }
  r.expectEnd(end, message);
}

function keyValue(r: Reader, limit: number, depth = 0): void {
  const end = r.lenEnd(limit);
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 0x0a) text(r, end);
    else if (tag === 0x12) anyValue(r, end, depth);
    else r.other(tag, KV_FIELDS, end, 'KeyValue');
  }
  r.expectEnd(end, 'KeyValue');
}

function scope(r: Reader, limit: number): void {
  const end = r.lenEnd(limit);
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 0x0a: case 0x12: text(r, end); break;
      case 0x1a: keyValue(r, end); break;
      case 0x20: r.uint32(); break;
      default: r.other(tag, SCOPE_FIELDS, end, 'InstrumentationScope');
    }
  }
  r.expectEnd(end, 'InstrumentationScope');
}

function resource(r: Reader, limit: number): void {
  const end = r.lenEnd(limit);
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 0x0a) keyValue(r, end);
    else if (tag === 0x10) r.uint32();
    else r.other(tag, RESOURCE_FIELDS, end, 'Resource');
  }
  r.expectEnd(end, 'Resource');
}

function logRecord(r: Reader, limit: number): void {
  const end = r.lenEnd(limit);
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 0x09: case 0x59: fixed(r, WT_I64); break;
      case 0x10: case 0x38: r.uint32(); break;
      case 0x1a: case 0x62: text(r, end); break;
      case 0x2a: anyValue(r, end, 0); break;
      case 0x32: keyValue(r, end); break;
      case 0x45: fixed(r, WT_I32); break;
      case 0x4a: id(r, end, 16, 'LogRecord.trace_id'); break;
      case 0x52: id(r, end, 8, 'LogRecord.span_id'); break;
      default: r.other(tag, LOG_RECORD_FIELDS, end, 'LogRecord');
    }
  }
  r.expectEnd(end, 'LogRecord');
}

function event(r: Reader, limit: number): void {
  const end = r.lenEnd(limit);
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 0x09: fixed(r, WT_I64); break;
      case 0x12: text(r, end); break;
      case 0x1a: keyValue(r, end); break;
      case 0x20: r.uint32(); break;
      default: r.other(tag, EVENT_FIELDS, end, 'Span.Event');
    }
  }
  r.expectEnd(end, 'Span.Event');
}

function link(r: Reader, limit: number): void {
  const end = r.lenEnd(limit);
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 0x0a: id(r, end, 16, 'Span.Link.trace_id'); break;
      case 0x12: id(r, end, 8, 'Span.Link.span_id'); break;
      case 0x1a: text(r, end); break;
      case 0x22: keyValue(r, end); break;
      case 0x28: r.uint32(); break;
      case 0x35: fixed(r, WT_I32); break;
      default: r.other(tag, LINK_FIELDS, end, 'Span.Link');
    }
  }
  r.expectEnd(end, 'Span.Link');
}

function status(r: Reader, limit: number): void {
  const end = r.lenEnd(limit);
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 0x12) text(r, end);
    else if (tag === 0x18) r.uint32();
    else r.other(tag, STATUS_FIELDS, end, 'Status');
  }
  r.expectEnd(end, 'Status');
}

function span(r: Reader, limit: number): void {
  const end = r.lenEnd(limit);
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 0x0a: id(r, end, 16, 'Span.trace_id'); break;
      case 0x12: id(r, end, 8, 'Span.span_id'); break;
      case 0x22: id(r, end, 8, 'Span.parent_span_id'); break;
      case 0x1a: case 0x2a: text(r, end); break;
      case 0x30: case 0x50: case 0x60: case 0x70: r.uint32(); break;
      case 0x39: case 0x41: fixed(r, WT_I64); break;
      case 0x4a: keyValue(r, end); break;
      case 0x5a: event(r, end); break;
      case 0x6a: link(r, end); break;
      case 0x7a: status(r, end); break;
      case 0x85: fixed(r, WT_I32); break;
      default: r.other(tag, SPAN_FIELDS, end, 'Span');
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
      case 0x0a: scope(r, end); break;
      case 0x12: rec(r, end); n++; break;
      case 0x1a: text(r, end); break;
      default: r.other(tag, CONTAINER_FIELDS, end, message);
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
      case 0x0a: resource(r, end); break;
      case 0x12: n += scopeRecords(r, end, rec, scopeMessage); break;
      case 0x1a: text(r, end); break;
      default: r.other(tag, CONTAINER_FIELDS, end, message);
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
      if (tag === 0x0a) n += resourceRecords(r, end, rec, resourceMessage, scopeMessage);
      else r.other(tag, REQUEST_FIELDS, end, message);
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
