/**
 * opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest (the same
 * bytes as trace.v1.TracesData) on the protobuf wire: ResourceSpans,
 * ScopeSpans, Span, Span.Event, Span.Link, Status. Field numbers and tags:
 * wire-fields.gen.ts, generated from proto/.
 */
import { emptyResource, emptyScope } from '../model.ts';
import type { ResourceSpans, ScopeSpans, Span, SpanEvent, SpanLink, SpanStatus, TracesData } from '../model.ts';
import {
  readKeyValue, readResource, readScope,
  writeAttributes, writeEnumField, writeResource, writeScope, writeStringField, writeUint32Field,
} from './common-proto.ts';
import { Reader, WT_I32, WT_I64, sharedWriter } from './protowire.ts';
import type { Writer } from './protowire.ts';
import { otlpField, otlpKnown, otlpTag } from './wire-fields.gen.ts';

// Module-level aliases, so optimized code has the tags as constants (wire-fields.gen.ts).
const T = otlpTag;
const F = otlpField;
const K = otlpKnown;

/** Decodes ExportTraceServiceRequest / TracesData bytes; throws OtlpDecodeError. */
export function decodeTracesProto(data: Uint8Array): TracesData {
  const r = new Reader(data);
  const end = r.len;
  const resourceSpans: ResourceSpans[] = [];
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === T.ExportTraceServiceRequest.resource_spans) resourceSpans.push(readResourceSpans(r, end));
    else r.other(tag, K.ExportTraceServiceRequest, end, 'ExportTraceServiceRequest');
  }
  return { resourceSpans };
}

function readResourceSpans(r: Reader, limit: number): ResourceSpans {
  const end = r.lenEnd(limit);
  const out: ResourceSpans = { resource: emptyResource(), scopeSpans: [], schemaUrl: '' };
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case T.ResourceSpans.resource: readResource(r, end, out.resource); break;
      case T.ResourceSpans.scope_spans: out.scopeSpans.push(readScopeSpans(r, end)); break;
      case T.ResourceSpans.schema_url: out.schemaUrl = r.string(end); break;
      default: r.other(tag, K.ResourceSpans, end, 'ResourceSpans');
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
      case T.ScopeSpans.scope: readScope(r, end, out.scope); break;
      case T.ScopeSpans.spans: out.spans.push(readSpan(r, end)); break;
      case T.ScopeSpans.schema_url: out.schemaUrl = r.string(end); break;
      default: r.other(tag, K.ScopeSpans, end, 'ScopeSpans');
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
      case T.Span.trace_id: s.traceId = r.id(end, 16, 'Span.trace_id'); break;
      case T.Span.span_id: s.spanId = r.id(end, 8, 'Span.span_id'); break;
      case T.Span.trace_state: s.traceState = r.string(end); break;
      case T.Span.parent_span_id: s.parentSpanId = r.id(end, 8, 'Span.parent_span_id'); break;
      case T.Span.name: s.name = r.string(end); break;
      case T.Span.kind: s.kind = r.uint32() | 0; break;
      case T.Span.start_time_unix_nano: s.startTimeUnixNano = r.fixed64(); break;
      case T.Span.end_time_unix_nano: s.endTimeUnixNano = r.fixed64(); break;
      case T.Span.attributes: s.attributes.push(readKeyValue(r, end)); break;
      case T.Span.dropped_attributes_count: s.droppedAttributesCount = r.uint32(); break;
      case T.Span.events: s.events.push(readEvent(r, end)); break;
      case T.Span.dropped_events_count: s.droppedEventsCount = r.uint32(); break;
      case T.Span.links: s.links.push(readLink(r, end)); break;
      case T.Span.dropped_links_count: s.droppedLinksCount = r.uint32(); break;
      case T.Span.status: readStatus(r, end, s.status); break;
      case T.Span.flags: s.flags = r.fixed32(); break;
      default: r.other(tag, K.Span, end, 'Span');
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
      case T.SpanEvent.time_unix_nano: e.timeUnixNano = r.fixed64(); break;
      case T.SpanEvent.name: e.name = r.string(end); break;
      case T.SpanEvent.attributes: e.attributes.push(readKeyValue(r, end)); break;
      case T.SpanEvent.dropped_attributes_count: e.droppedAttributesCount = r.uint32(); break;
      default: r.other(tag, K.SpanEvent, end, 'Span.Event');
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
      case T.SpanLink.trace_id: l.traceId = r.id(end, 16, 'Span.Link.trace_id'); break;
      case T.SpanLink.span_id: l.spanId = r.id(end, 8, 'Span.Link.span_id'); break;
      case T.SpanLink.trace_state: l.traceState = r.string(end); break;
      case T.SpanLink.attributes: l.attributes.push(readKeyValue(r, end)); break;
      case T.SpanLink.dropped_attributes_count: l.droppedAttributesCount = r.uint32(); break;
      case T.SpanLink.flags: l.flags = r.fixed32(); break;
      default: r.other(tag, K.SpanLink, end, 'Span.Link');
    }
  }
  r.expectEnd(end, 'Span.Link');
  return l;
}

function readStatus(r: Reader, limit: number, into: SpanStatus): void {
  const end = r.lenEnd(limit);
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === T.Status.message) into.message = r.string(end);
    else if (tag === T.Status.code) into.code = r.uint32() | 0;
    else r.other(tag, K.Status, end, 'Status');
  }
  r.expectEnd(end, 'Status');
}

// ---------------------------------------------------------------- encode

/** Encodes TracesData as ExportTraceServiceRequest bytes (proto3: defaults omitted). */
export function encodeTracesProto(data: TracesData): Uint8Array {
  const w = sharedWriter();
  for (const rs of data.resourceSpans) {
    const at = w.startMessage(F.ExportTraceServiceRequest.resource_spans);
    writeResource(w, F.ResourceSpans.resource, rs.resource);
    for (const ss of rs.scopeSpans) {
      const sat = w.startMessage(F.ResourceSpans.scope_spans);
      writeScope(w, F.ScopeSpans.scope, ss.scope);
      for (const span of ss.spans) writeSpan(w, span);
      writeStringField(w, F.ScopeSpans.schema_url, ss.schemaUrl);
      w.endMessage(sat);
    }
    writeStringField(w, F.ResourceSpans.schema_url, rs.schemaUrl);
    w.endMessage(at);
  }
  return w.finish();
}

export function writeFixed64Field(w: Writer, field: number, v: bigint): void {
  if (v !== 0n) {
    w.tag(field, WT_I64);
    w.fixed64(v);
  }
}

export function writeFixed32Field(w: Writer, field: number, v: number): void {
  if (v !== 0) {
    w.tag(field, WT_I32);
    w.fixed32(v);
  }
}

/** A Span.events entry. */
export function writeEvent(w: Writer, e: SpanEvent): void {
  const at = w.startMessage(F.Span.events);
  writeFixed64Field(w, F.SpanEvent.time_unix_nano, e.timeUnixNano);
  writeStringField(w, F.SpanEvent.name, e.name);
  writeAttributes(w, F.SpanEvent.attributes, e.attributes);
  writeUint32Field(w, F.SpanEvent.dropped_attributes_count, e.droppedAttributesCount);
  w.endMessage(at);
}

/** A Span.links entry. */
export function writeLink(w: Writer, l: SpanLink): void {
  const at = w.startMessage(F.Span.links);
  if (l.traceId !== '') w.hexBytes(F.SpanLink.trace_id, l.traceId);
  if (l.spanId !== '') w.hexBytes(F.SpanLink.span_id, l.spanId);
  writeStringField(w, F.SpanLink.trace_state, l.traceState);
  writeAttributes(w, F.SpanLink.attributes, l.attributes);
  writeUint32Field(w, F.SpanLink.dropped_attributes_count, l.droppedAttributesCount);
  writeFixed32Field(w, F.SpanLink.flags, l.flags);
  w.endMessage(at);
}

function writeSpan(w: Writer, s: Span): void {
  const at = w.startMessage(F.ScopeSpans.spans);
  if (s.traceId !== '') w.hexBytes(F.Span.trace_id, s.traceId);
  if (s.spanId !== '') w.hexBytes(F.Span.span_id, s.spanId);
  writeStringField(w, F.Span.trace_state, s.traceState);
  if (s.parentSpanId !== '') w.hexBytes(F.Span.parent_span_id, s.parentSpanId);
  writeStringField(w, F.Span.name, s.name);
  writeEnumField(w, F.Span.kind, s.kind);
  writeFixed64Field(w, F.Span.start_time_unix_nano, s.startTimeUnixNano);
  writeFixed64Field(w, F.Span.end_time_unix_nano, s.endTimeUnixNano);
  writeAttributes(w, F.Span.attributes, s.attributes);
  writeUint32Field(w, F.Span.dropped_attributes_count, s.droppedAttributesCount);
  for (const e of s.events) writeEvent(w, e);
  writeUint32Field(w, F.Span.dropped_events_count, s.droppedEventsCount);
  for (const l of s.links) writeLink(w, l);
  writeUint32Field(w, F.Span.dropped_links_count, s.droppedLinksCount);
  const st = w.startMessage(F.Span.status);
  writeStringField(w, F.Status.message, s.status.message);
  writeEnumField(w, F.Status.code, s.status.code);
  w.endMessage(st);
  writeFixed32Field(w, F.Span.flags, s.flags);
  w.endMessage(at);
}
