/**
 * ExportTraceServiceRequest / TracesData in OTLP/JSON: lowerCamelCase keys (snake_case
 * accepted), ids as hex, timestamps as decimal strings, kind and status code as
 * integers (names accepted when parsing), unknown keys ignored.
 */
import type { ResourceSpans, ScopeSpans, Span, SpanEvent, SpanLink, SpanStatus, TracesData } from '../model.ts';
import {
  attributesFromJson, attributesToJson, put, resourceFromJson, resourceToJson, scopeFromJson, scopeToJson,
} from './common-json.ts';
import { elemObj, enumField, hexId, lookupTable, mapArr, parseJsonRoot, str, subObj, u32, u64 } from './json-util.ts';
import type { Obj } from './json-util.ts';

const KIND_NAMES = lookupTable<number>({
  SPAN_KIND_UNSPECIFIED: 0, SPAN_KIND_INTERNAL: 1, SPAN_KIND_SERVER: 2,
  SPAN_KIND_CLIENT: 3, SPAN_KIND_PRODUCER: 4, SPAN_KIND_CONSUMER: 5,
});
const STATUS_NAMES = lookupTable<number>({ STATUS_CODE_UNSET: 0, STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 });

/** Decodes an OTLP/JSON traces request body; throws OtlpDecodeError with the failing path. */
export function decodeTracesJson(input: string | Uint8Array): TracesData {
  return parseJsonRoot(input, 'traces request', (root) => ({
    resourceSpans: mapArr(root, 'resourceSpans', 'resource_spans', resourceSpansFromJson),
  }));
}

function resourceSpansFromJson(v: unknown): ResourceSpans {
  const o = elemObj(v);
  return {
    resource: subObj(o, 'resource', 'resource', resourceFromJson),
    scopeSpans: mapArr(o, 'scopeSpans', 'scope_spans', scopeSpansFromJson),
    schemaUrl: str(o, 'schemaUrl', 'schema_url'),
  };
}

function scopeSpansFromJson(v: unknown): ScopeSpans {
  const o = elemObj(v);
  return {
    scope: subObj(o, 'scope', 'scope', scopeFromJson),
    spans: mapArr(o, 'spans', 'spans', spanFromJson),
    schemaUrl: str(o, 'schemaUrl', 'schema_url'),
  };
}

function spanFromJson(v: unknown): Span {
  const o = elemObj(v);
  return {
    traceId: hexId(o, 'traceId', 'trace_id', 16),
    spanId: hexId(o, 'spanId', 'span_id', 8),
    traceState: str(o, 'traceState', 'trace_state'),
    parentSpanId: hexId(o, 'parentSpanId', 'parent_span_id', 8),
    flags: u32(o, 'flags', 'flags'),
    name: str(o, 'name', 'name'),
    kind: enumField(o, 'kind', 'kind', KIND_NAMES),
    startTimeUnixNano: u64(o, 'startTimeUnixNano', 'start_time_unix_nano'),
    endTimeUnixNano: u64(o, 'endTimeUnixNano', 'end_time_unix_nano'),
    attributes: attributesFromJson(o),
    droppedAttributesCount: u32(o, 'droppedAttributesCount', 'dropped_attributes_count'),
    events: mapArr(o, 'events', 'events', eventFromJson),
    droppedEventsCount: u32(o, 'droppedEventsCount', 'dropped_events_count'),
    links: mapArr(o, 'links', 'links', linkFromJson),
    droppedLinksCount: u32(o, 'droppedLinksCount', 'dropped_links_count'),
    status: subObj(o, 'status', 'status', statusFromJson),
  };
}

function eventFromJson(v: unknown): SpanEvent {
  const o = elemObj(v);
  return {
    timeUnixNano: u64(o, 'timeUnixNano', 'time_unix_nano'),
    name: str(o, 'name', 'name'),
    attributes: attributesFromJson(o),
    droppedAttributesCount: u32(o, 'droppedAttributesCount', 'dropped_attributes_count'),
  };
}

function linkFromJson(v: unknown): SpanLink {
  const o = elemObj(v);
  return {
    traceId: hexId(o, 'traceId', 'trace_id', 16),
    spanId: hexId(o, 'spanId', 'span_id', 8),
    traceState: str(o, 'traceState', 'trace_state'),
    attributes: attributesFromJson(o),
    droppedAttributesCount: u32(o, 'droppedAttributesCount', 'dropped_attributes_count'),
    flags: u32(o, 'flags', 'flags'),
  };
}

function statusFromJson(o: Obj | undefined): SpanStatus {
  if (o === undefined) return { message: '', code: 0 };
  return { message: str(o, 'message', 'message'), code: enumField(o, 'code', 'code', STATUS_NAMES) };
}

// ---------------------------------------------------------------- encode

/** Encodes TracesData as an OTLP/JSON request body (defaults omitted). */
export function encodeTracesJson(data: TracesData): string {
  return JSON.stringify({
    resourceSpans: data.resourceSpans.map((rs) => {
      const o: Obj = { resource: resourceToJson(rs.resource) };
      put(o, 'scopeSpans', rs.scopeSpans.map((ss) => {
        const so: Obj = { scope: scopeToJson(ss.scope) };
        put(so, 'spans', ss.spans.map(spanToJson));
        put(so, 'schemaUrl', ss.schemaUrl);
        return so;
      }));
      put(o, 'schemaUrl', rs.schemaUrl);
      return o;
    }),
  });
}

function spanToJson(s: Span): Obj {
  const o: Obj = {};
  put(o, 'traceId', s.traceId);
  put(o, 'spanId', s.spanId);
  put(o, 'traceState', s.traceState);
  put(o, 'parentSpanId', s.parentSpanId);
  put(o, 'flags', s.flags);
  put(o, 'name', s.name);
  put(o, 'kind', s.kind);
  put(o, 'startTimeUnixNano', s.startTimeUnixNano);
  put(o, 'endTimeUnixNano', s.endTimeUnixNano);
  put(o, 'attributes', attributesToJson(s.attributes));
  put(o, 'droppedAttributesCount', s.droppedAttributesCount);
  put(o, 'events', s.events.map((e) => {
    const eo: Obj = {};
    put(eo, 'timeUnixNano', e.timeUnixNano);
    put(eo, 'name', e.name);
    put(eo, 'attributes', attributesToJson(e.attributes));
    put(eo, 'droppedAttributesCount', e.droppedAttributesCount);
    return eo;
  }));
  put(o, 'droppedEventsCount', s.droppedEventsCount);
  put(o, 'links', s.links.map((l) => {
    const lo: Obj = {};
    put(lo, 'traceId', l.traceId);
    put(lo, 'spanId', l.spanId);
    put(lo, 'traceState', l.traceState);
    put(lo, 'attributes', attributesToJson(l.attributes));
    put(lo, 'droppedAttributesCount', l.droppedAttributesCount);
    put(lo, 'flags', l.flags);
    return lo;
  }));
  put(o, 'droppedLinksCount', s.droppedLinksCount);
  const st: Obj = {};
  put(st, 'message', s.status.message);
  put(st, 'code', s.status.code);
  if (st.message !== undefined || st.code !== undefined) o.status = st;
  return o;
}
