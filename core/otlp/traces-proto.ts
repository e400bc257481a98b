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
import { Reader, sharedWriter } from './protowire.ts';
import type { Writer } from './protowire.ts';
import {
  ExportTraceServiceRequestField, ExportTraceServiceRequestTag, ResourceSpansField, ResourceSpansTag,
  ScopeSpansField, ScopeSpansTag, SpanEventField, SpanEventTag, SpanField, SpanLinkField, SpanLinkTag, SpanTag,
  StatusField, StatusTag, otlpKnown,
} from './wire-fields.gen.ts';

/** Decodes ExportTraceServiceRequest / TracesData bytes; throws OtlpDecodeError. */
export function decodeTracesProto(data: Uint8Array): TracesData {
  const r = new Reader(data);
  const end = r.len;
  const resourceSpans: ResourceSpans[] = [];
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === ExportTraceServiceRequestTag.resource_spans) resourceSpans.push(readResourceSpans(r, end));
    else r.other(tag, otlpKnown.ExportTraceServiceRequest, end, 'ExportTraceServiceRequest');
  }
  return { resourceSpans };
}

function readResourceSpans(r: Reader, limit: number): ResourceSpans {
  const end = r.lenEnd(limit);
  const out: ResourceSpans = { resource: emptyResource(), scopeSpans: [], schemaUrl: '' };
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case ResourceSpansTag.resource: readResource(r, end, out.resource); break;
      case ResourceSpansTag.scope_spans: out.scopeSpans.push(readScopeSpans(r, end)); break;
      case ResourceSpansTag.schema_url: out.schemaUrl = r.string(end); break;
      default: r.other(tag, otlpKnown.ResourceSpans, end, 'ResourceSpans');
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
      case ScopeSpansTag.scope: readScope(r, end, out.scope); break;
      case ScopeSpansTag.spans: out.spans.push(readSpan(r, end)); break;
      case ScopeSpansTag.schema_url: out.schemaUrl = r.string(end); break;
      default: r.other(tag, otlpKnown.ScopeSpans, end, 'ScopeSpans');
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
      case SpanTag.trace_id: s.traceId = r.id(end, 16, 'Span.trace_id'); break;
      case SpanTag.span_id: s.spanId = r.id(end, 8, 'Span.span_id'); break;
      case SpanTag.trace_state: s.traceState = r.string(end); break;
      case SpanTag.parent_span_id: s.parentSpanId = r.id(end, 8, 'Span.parent_span_id'); break;
      case SpanTag.name: s.name = r.string(end); break;
      case SpanTag.kind: s.kind = r.uint32() | 0; break;
      case SpanTag.start_time_unix_nano: s.startTimeUnixNano = r.fixed64(); break;
      case SpanTag.end_time_unix_nano: s.endTimeUnixNano = r.fixed64(); break;
      case SpanTag.attributes: s.attributes.push(readKeyValue(r, end)); break;
      case SpanTag.dropped_attributes_count: s.droppedAttributesCount = r.uint32(); break;
      case SpanTag.events: s.events.push(readEvent(r, end)); break;
      case SpanTag.dropped_events_count: s.droppedEventsCount = r.uint32(); break;
      case SpanTag.links: s.links.push(readLink(r, end)); break;
      case SpanTag.dropped_links_count: s.droppedLinksCount = r.uint32(); break;
      case SpanTag.status: readStatus(r, end, s.status); break;
      case SpanTag.flags: s.flags = r.fixed32(); break;
      default: r.other(tag, otlpKnown.Span, end, 'Span');
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
      case SpanEventTag.time_unix_nano: e.timeUnixNano = r.fixed64(); break;
      case SpanEventTag.name: e.name = r.string(end); break;
      case SpanEventTag.attributes: e.attributes.push(readKeyValue(r, end)); break;
      case SpanEventTag.dropped_attributes_count: e.droppedAttributesCount = r.uint32(); break;
      default: r.other(tag, otlpKnown.SpanEvent, end, 'Span.Event');
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
      case SpanLinkTag.trace_id: l.traceId = r.id(end, 16, 'Span.Link.trace_id'); break;
      case SpanLinkTag.span_id: l.spanId = r.id(end, 8, 'Span.Link.span_id'); break;
      case SpanLinkTag.trace_state: l.traceState = r.string(end); break;
      case SpanLinkTag.attributes: l.attributes.push(readKeyValue(r, end)); break;
      case SpanLinkTag.dropped_attributes_count: l.droppedAttributesCount = r.uint32(); break;
      case SpanLinkTag.flags: l.flags = r.fixed32(); break;
      default: r.other(tag, otlpKnown.SpanLink, end, 'Span.Link');
    }
  }
  r.expectEnd(end, 'Span.Link');
  return l;
}

function readStatus(r: Reader, limit: number, into: SpanStatus): void {
  const end = r.lenEnd(limit);
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === StatusTag.message) into.message = r.string(end);
    else if (tag === StatusTag.code) into.code = r.uint32() | 0;
    else r.other(tag, otlpKnown.Status, end, 'Status');
  }
  r.expectEnd(end, 'Status');
}

// ---------------------------------------------------------------- encode

/** Encodes TracesData as ExportTraceServiceRequest bytes (proto3: defaults omitted). */
export function encodeTracesProto(data: TracesData): Uint8Array {
  const w = sharedWriter();
  for (const rs of data.resourceSpans) {
    const at = w.startMessage(ExportTraceServiceRequestField.resource_spans);
    writeResource(w, ResourceSpansField.resource, rs.resource);
    for (const ss of rs.scopeSpans) {
      const sat = w.startMessage(ResourceSpansField.scope_spans);
      writeScope(w, ScopeSpansField.scope, ss.scope);
      for (const span of ss.spans) writeSpan(w, span);
      writeStringField(w, ScopeSpansField.schema_url, ss.schemaUrl);
      w.endMessage(sat);
    }
    writeStringField(w, ResourceSpansField.schema_url, rs.schemaUrl);
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

/** A Span.events entry. */
export function writeEvent(w: Writer, e: SpanEvent): void {
  const at = w.startMessage(SpanField.events);
  writeFixed64Field(w, SpanEventField.time_unix_nano, e.timeUnixNano);
  writeStringField(w, SpanEventField.name, e.name);
  writeAttributes(w, SpanEventField.attributes, e.attributes);
  writeUint32Field(w, SpanEventField.dropped_attributes_count, e.droppedAttributesCount);
  w.endMessage(at);
}

/** A Span.links entry. */
export function writeLink(w: Writer, l: SpanLink): void {
  const at = w.startMessage(SpanField.links);
  if (l.traceId !== '') w.hexBytes(SpanLinkField.trace_id, l.traceId);
  if (l.spanId !== '') w.hexBytes(SpanLinkField.span_id, l.spanId);
  writeStringField(w, SpanLinkField.trace_state, l.traceState);
  writeAttributes(w, SpanLinkField.attributes, l.attributes);
  writeUint32Field(w, SpanLinkField.dropped_attributes_count, l.droppedAttributesCount);
  writeFixed32Field(w, SpanLinkField.flags, l.flags);
  w.endMessage(at);
}

function writeSpan(w: Writer, s: Span): void {
  const at = w.startMessage(ScopeSpansField.spans);
  if (s.traceId !== '') w.hexBytes(SpanField.trace_id, s.traceId);
  if (s.spanId !== '') w.hexBytes(SpanField.span_id, s.spanId);
  writeStringField(w, SpanField.trace_state, s.traceState);
  if (s.parentSpanId !== '') w.hexBytes(SpanField.parent_span_id, s.parentSpanId);
  writeStringField(w, SpanField.name, s.name);
  writeEnumField(w, SpanField.kind, s.kind);
  writeFixed64Field(w, SpanField.start_time_unix_nano, s.startTimeUnixNano);
  writeFixed64Field(w, SpanField.end_time_unix_nano, s.endTimeUnixNano);
  writeAttributes(w, SpanField.attributes, s.attributes);
  writeUint32Field(w, SpanField.dropped_attributes_count, s.droppedAttributesCount);
  for (const e of s.events) writeEvent(w, e);
  writeUint32Field(w, SpanField.dropped_events_count, s.droppedEventsCount);
  for (const l of s.links) writeLink(w, l);
  writeUint32Field(w, SpanField.dropped_links_count, s.droppedLinksCount);
  const st = w.startMessage(SpanField.status);
  writeStringField(w, StatusField.message, s.status.message);
  writeEnumField(w, StatusField.code, s.status.code);
  w.endMessage(st);
  writeFixed32Field(w, SpanField.flags, s.flags);
  w.endMessage(at);
}
