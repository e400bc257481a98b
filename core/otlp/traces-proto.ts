/**
 * opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest (the same
 * bytes as trace.v1.TracesData) on the protobuf wire.
 *
 *   ExportTraceServiceRequest: 1 resource_spans
 *   ResourceSpans: 1 resource, 2 scope_spans, 3 schema_url
 *   ScopeSpans:    1 scope, 2 spans, 3 schema_url
 *   Span:   1 trace_id, 2 span_id, 3 trace_state, 4 parent_span_id, 5 name, 6 kind,
 *           7 start_time_unix_nano (fixed64), 8 end_time_unix_nano (fixed64),
 *           9 attributes, 10 dropped_attributes_count, 11 events, 12 dropped_events_count,
 *           13 links, 14 dropped_links_count, 15 status, 16 flags (fixed32)
 *   Event:  1 time_unix_nano (fixed64), 2 name, 3 attributes, 4 dropped_attributes_count
 *   Link:   1 trace_id, 2 span_id, 3 trace_state, 4 attributes, 5 dropped_attributes_count,
 *           6 flags (fixed32)
 *   Status: 2 message, 3 code   (1 is reserved)
 */
import { emptyResource, emptyScope } from '../model.ts';
import type { ResourceSpans, ScopeSpans, Span, SpanEvent, SpanLink, SpanStatus, TracesData } from '../model.ts';
import {
  readKeyValue, readResource, readScope,
  writeAttributes, writeEnumField, writeResource, writeScope, writeStringField, writeUint32Field,
} from './common-proto.ts';
import { Reader, fields, sharedWriter } from './protowire.ts';
import type { Writer } from './protowire.ts';

const REQUEST_FIELDS = fields(1);
const RESOURCE_SPANS_FIELDS = fields(1, 2, 3);
const SCOPE_SPANS_FIELDS = fields(1, 2, 3);
const SPAN_FIELDS = fields(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);
const EVENT_FIELDS = fields(1, 2, 3, 4);
const LINK_FIELDS = fields(1, 2, 3, 4, 5, 6);
const STATUS_FIELDS = fields(2, 3);

/** Decodes ExportTraceServiceRequest / TracesData bytes; throws OtlpDecodeError. */
export function decodeTracesProto(data: Uint8Array): TracesData {
  const r = new Reader(data);
  const end = r.len;
  const resourceSpans: ResourceSpans[] = [];
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 0x0a) resourceSpans.push(readResourceSpans(r, end));
    else r.other(tag, REQUEST_FIELDS, end, 'ExportTraceServiceRequest');
  }
  return { resourceSpans };
}

function readResourceSpans(r: Reader, limit: number): ResourceSpans {
  const end = r.lenEnd(limit);
  const out: ResourceSpans = { resource: emptyResource(), scopeSpans: [], schemaUrl: '' };
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 0x0a: readResource(r, end, out.resource); break;
      case 0x12: out.scopeSpans.push(readScopeSpans(r, end)); break;
      case 0x1a: out.schemaUrl = r.string(end); break;
      default: r.other(tag, RESOURCE_SPANS_FIELDS, end, 'ResourceSpans');
    }
  }
  r.expectEnd(end, 'ResourceSpans');
  return out;
}

function readScopeSpans(r: Reader, limit: number): ScopeSpans {
  const end = r.lenEnd(limit);
  const out: ScopeSpans = { scope: emptyScope(), spans: [], schemaUrl: '' };
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 0x0a: readScope(r, end, out.scope); break;
      case 0x12: out.spans.push(readSpan(r, end)); break;
      case 0x1a: out.schemaUrl = r.string(end); break;
      default: r.other(tag, SCOPE_SPANS_FIELDS, end, 'ScopeSpans');
    }
  }
  r.expectEnd(end, 'ScopeSpans');
  return out;
}

function readSpan(r: Reader, limit: number): Span {
  const end = r.lenEnd(limit);
  // Same shape (and property order) as newSpan, so V8 keeps one hidden class.
  const s: Span = {
    traceId: '',
    spanId: '',
    traceState: '',
    parentSpanId: '',
    flags: 0,
    name: '',
    kind: 0,
    startTimeUnixNano: 0n,
    endTimeUnixNano: 0n,
    attributes: [],
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    status: { message: '', code: 0 },
  };
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 0x0a: s.traceId = r.id(end, 16, 'Span.trace_id'); break;
      case 0x12: s.spanId = r.id(end, 8, 'Span.span_id'); break;
      case 0x1a: s.traceState = r.string(end); break;
      case 0x22: s.parentSpanId = r.id(end, 8, 'Span.parent_span_id'); break;
      case 0x2a: s.name = r.string(end); break;
      case 0x30: s.kind = r.uint32() | 0; break;
      case 0x39: s.startTimeUnixNano = r.fixed64(); break;
      case 0x41: s.endTimeUnixNano = r.fixed64(); break;
      case 0x4a: s.attributes.push(readKeyValue(r, end)); break;
      case 0x50: s.droppedAttributesCount = r.uint32(); break;
      case 0x5a: s.events.push(readEvent(r, end)); break;
      case 0x60: s.droppedEventsCount = r.uint32(); break;
      case 0x6a: s.links.push(readLink(r, end)); break;
      case 0x70: s.droppedLinksCount = r.uint32(); break;
      case 0x7a: readStatus(r, end, s.status); break;
      case 0x85: s.flags = r.fixed32(); break;
      default: r.other(tag, SPAN_FIELDS, end, 'Span');
    }
  }
  r.expectEnd(end, 'Span');
  return s;
}

export function readEvent(r: Reader, limit: number): SpanEvent {
  const end = r.lenEnd(limit);
  const e: SpanEvent = { timeUnixNano: 0n, name: '', attributes: [], droppedAttributesCount: 0 };
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 0x09: e.timeUnixNano = r.fixed64(); break;
      case 0x12: e.name = r.string(end); break;
      case 0x1a: e.attributes.push(readKeyValue(r, end)); break;
      case 0x20: e.droppedAttributesCount = r.uint32(); break;
      default: r.other(tag, EVENT_FIELDS, end, 'Span.Event');
    }
  }
  r.expectEnd(end, 'Span.Event');
  return e;
}

export function readLink(r: Reader, limit: number): SpanLink {
  const end = r.lenEnd(limit);
  const l: SpanLink = { traceId: '', spanId: '', traceState: '', attributes: [], droppedAttributesCount: 0, flags: 0 };
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 0x0a: l.traceId = r.id(end, 16, 'Span.Link.trace_id'); break;
      case 0x12: l.spanId = r.id(end, 8, 'Span.Link.span_id'); break;
      case 0x1a: l.traceState = r.string(end); break;
      case 0x22: l.attributes.push(readKeyValue(r, end)); break;
      case 0x28: l.droppedAttributesCount = r.uint32(); break;
      case 0x35: l.flags = r.fixed32(); break;
      default: r.other(tag, LINK_FIELDS, end, 'Span.Link');
    }
  }
  r.expectEnd(end, 'Span.Link');
  return l;
}

function readStatus(r: Reader, limit: number, into: SpanStatus): void {
  const end = r.lenEnd(limit);
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 0x12) into.message = r.string(end);
    else if (tag === 0x18) into.code = r.uint32() | 0;
    else r.other(tag, STATUS_FIELDS, end, 'Status');
  }
  r.expectEnd(end, 'Status');
}

// ---------------------------------------------------------------- encode

/** Encodes TracesData as ExportTraceServiceRequest bytes (proto3: defaults omitted). */
export function encodeTracesProto(data: TracesData): Uint8Array {
  const w = sharedWriter();
  for (const rs of data.resourceSpans) {
    const at = w.startMessage(1);
    writeResource(w, 1, rs.resource);
    for (const ss of rs.scopeSpans) {
      const sat = w.startMessage(2);
      writeScope(w, 1, ss.scope);
      for (const span of ss.spans) writeSpan(w, span);
      writeStringField(w, 3, ss.schemaUrl);
      w.endMessage(sat);
    }
    writeStringField(w, 3, rs.schemaUrl);
    w.endMessage(at);
  }
  return w.finish();
}

export function writeFixed64Field(w: Writer, field: number, v: bigint): void {
  if (v !== 0n) {
    w.tag(field, 1);
    w.fixed64(v);
  }
}

export function writeFixed32Field(w: Writer, field: number, v: number): void {
  if (v !== 0) {
    w.tag(field, 5);
    w.fixed32(v);
  }
}

/** Span.events entry (field 11). */
export function writeEvent(w: Writer, e: SpanEvent): void {
  const at = w.startMessage(11);
  writeFixed64Field(w, 1, e.timeUnixNano);
  writeStringField(w, 2, e.name);
  writeAttributes(w, 3, e.attributes);
  writeUint32Field(w, 4, e.droppedAttributesCount);
  w.endMessage(at);
}

/** Span.links entry (field 13). */
export function writeLink(w: Writer, l: SpanLink): void {
  const at = w.startMessage(13);
  if (l.traceId !== '') w.hexBytes(1, l.traceId);
  if (l.spanId !== '') w.hexBytes(2, l.spanId);
  writeStringField(w, 3, l.traceState);
  writeAttributes(w, 4, l.attributes);
  writeUint32Field(w, 5, l.droppedAttributesCount);
  writeFixed32Field(w, 6, l.flags);
  w.endMessage(at);
}

function writeSpan(w: Writer, s: Span): void {
  const at = w.startMessage(2);
  if (s.traceId !== '') w.hexBytes(1, s.traceId);
  if (s.spanId !== '') w.hexBytes(2, s.spanId);
  writeStringField(w, 3, s.traceState);
  if (s.parentSpanId !== '') w.hexBytes(4, s.parentSpanId);
  writeStringField(w, 5, s.name);
  writeEnumField(w, 6, s.kind);
  writeFixed64Field(w, 7, s.startTimeUnixNano);
  writeFixed64Field(w, 8, s.endTimeUnixNano);
  writeAttributes(w, 9, s.attributes);
  writeUint32Field(w, 10, s.droppedAttributesCount);
  for (const e of s.events) writeEvent(w, e);
  writeUint32Field(w, 12, s.droppedEventsCount);
  for (const l of s.links) writeLink(w, l);
  writeUint32Field(w, 14, s.droppedLinksCount);
  const st = w.startMessage(15);
  writeStringField(w, 2, s.status.message);
  writeEnumField(w, 3, s.status.code);
  w.endMessage(st);
  writeFixed32Field(w, 16, s.flags);
  w.endMessage(at);
}
