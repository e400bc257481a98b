/**
 * Jaeger spans → OTLP, following the Collector's pkg/translator/jaeger
 * (jaegerproto_to_traces.go; see README.md for the full mapping). One
 * translator serves thrift and protobuf input, so a span looks the same in
 * storage whichever transport carried it.
 *
 * The translation writes ExportTraceServiceRequest protobuf straight from the
 * decoded Jaeger spans, with no OTLP records in between: what follows the
 * receiver either forwards the bytes (the spool, Kafka) or decodes them once
 * (`jaegerToTraces`).
 */
import type { AnyValue, KeyValue, Resource, TracesData } from '../../core/model.ts';
import { SpanKind, StatusCode } from '../../core/model.ts';
import { writeEnumField, writeKeyValue, writeResource, writeScope, writeStringField } from '../../core/otlp/common-proto.ts';
import { lazyTraces } from '../../core/otlp/lazy.ts';
import { sharedWriter, type Writer } from '../../core/otlp/protowire.ts';
import { decodeTracesProto, writeFixed64Field } from '../../core/otlp/traces-proto.ts';
import {
  ExportTraceServiceRequestField, ResourceSpansField, ScopeSpansField, SpanEventField, SpanField, SpanLinkField,
  StatusField,
} from '../../core/otlp/wire-fields.gen.ts';
import { RefType, ZERO_SPAN, ZERO_TRACE, type JBatch, type JProcess, type JSpan } from './model.ts';

/** tracetranslator.ResourceNoServiceName: a process with this name yields an empty resource. */

const NO_SERVICE_NAME = 'OTLPResourceNoServiceName';

/** pcommon Value.Str(): the string, or '' for any other type. */
function str(v: AnyValue): string {
  return typeof v === 'string' ? v : '';
}

function indexOf(attrs: readonly KeyValue[], key: string): number {
  for (let i = 0; i < attrs.length; i++) if (attrs[i]!.key === key) return i;
  return -1;
}

function get(attrs: readonly KeyValue[], key: string): KeyValue | undefined {
  const i = indexOf(attrs, key);
  return i < 0 ? undefined : attrs[i];
}

function remove(attrs: KeyValue[], key: string): void {
  const i = indexOf(attrs, key);
  if (i >= 0) attrs.splice(i, 1);
}

/** pcommon Map.Put*: a repeated key replaces the earlier value in place. */
function putAll(dest: KeyValue[], tags: readonly KeyValue[]): void {
  for (const t of tags) {
    const i = dest.length === 0 ? -1 : indexOf(dest, t.key);
    if (i < 0) dest.push({ key: t.key, value: t.value });
    else dest[i]!.value = t.value;
  }
}

const nz = (id: string) => (id === ZERO_TRACE || id === ZERO_SPAN ? '' : id);

function processKey(p: JProcess | null): string {
  if (p === null) return '\u0000';
  let k = p.serviceName;
  for (const t of p.tags) {
    const v = t.value;
    k += `\u0001${t.key}\u0002${typeof v}:${v instanceof Uint8Array ? Buffer.from(v).toString('hex') : String(v)}`;
  }
  return k;
}

export function processToResource(p: JProcess | null): Resource {
  const res: Resource = { attributes: [], droppedAttributesCount: 0 };
  if (p === null || p.serviceName === NO_SERVICE_NAME) return res;
  const attrs = res.attributes;
  if (p.serviceName !== '') attrs.push({ key: 'service.name', value: p.serviceName });
  putAll(attrs, p.tags);
  const hostname = get(attrs, 'hostname');
  if (hostname && !get(attrs, 'host.name')) {
    attrs.push({ key: 'host.name', value: hostname.value });
    remove(attrs, 'hostname');
  }
  const jv = get(attrs, 'jaeger.version');
  if (jv && !get(attrs, 'opencensus.exporterversion')) {
    attrs.push({ key: 'opencensus.exporterversion', value: 'Jaeger-' + str(jv.value) });
    remove(attrs, 'jaeger.version');
  }
  return res;
}

const KINDS: Record<string, number | undefined> = Object.assign(Object.create(null) as Record<string, number>, {
  client: SpanKind.CLIENT,
  server: SpanKind.SERVER,
  producer: SpanKind.PRODUCER,
  consumer: SpanKind.CONSUMER,
  internal: SpanKind.INTERNAL,
});

/** strconv.ParseInt(s, 10, 64): whole string, optional sign, int64 range. */
function parseInt64(s: string): bigint | undefined {
  if (!/^[+-]?\d+$/.test(s)) return undefined;
  const n = BigInt(s);
  return n >= -(2n ** 63n) && n < 2n ** 63n ? n : undefined;
}

/** A span's tags with repeated keys resolved as pcommon Put does: the last value, at the first key's place. */
function uniqueTags(tags: readonly KeyValue[]): readonly KeyValue[] {
  for (let i = 1; i < tags.length; i++) {
    const k = tags[i]!.key;
    for (let j = 0; j < i; j++) {
      if (tags[j]!.key === k) {
        const out: KeyValue[] = [];
        putAll(out, tags);
        return out;
      }
    }
  }
  return tags;
}

/** The tags the translation reads, found in one pass over a span's (unique) tags. */
class SpanTags {
  kind: KeyValue | undefined;
  error: KeyValue | undefined;
  description: KeyValue | undefined;
  code: KeyValue | undefined;
  httpCode: KeyValue | undefined;
  httpMessage: KeyValue | undefined;
  traceState: KeyValue | undefined;

  constructor(attrs: readonly KeyValue[]) {
    for (let i = 0; i < attrs.length; i++) {
      const kv = attrs[i]!;
      switch (kv.key) {
        case 'span.kind': this.kind = kv; break;
        case 'error': this.error = kv; break;
        case 'otel.status_description': this.description = kv; break;
        case 'otel.status_code': this.code = kv; break;
        case 'http.status_code': this.httpCode = kv; break;
        case 'http.status_message': this.httpMessage = kv; break;
        case 'w3c.tracestate': this.traceState = kv; break;
      }
    }
  }
}

/**
 * setInternalSpanStatus: the `error` tag wins, then otel.status_code, then
 * http.status_code. Returns the tags it consumed (removed from the attributes)
 * via `t`: `error` and `otel.status_description` stay unless taken.
 */
function writeStatus(w: Writer, t: SpanTags, kind: number): { takesError: boolean; takesDescription: boolean } {
  let code: number = StatusCode.UNSET;
  let message = '';
  let exists = false;
  let takesError = false;
  let takesDescription = false;
  if (t.error !== undefined && t.error.value === true) {
    code = StatusCode.ERROR;
    exists = true;
    takesError = true;
    if (t.description !== undefined) {
      message = str(t.description.value);
      takesDescription = true;
    } else if (t.httpMessage !== undefined) message = str(t.httpMessage.value);
  }
  if (t.code !== undefined) {
    if (!exists) {
      exists = true;
      const v = str(t.code.value).toUpperCase();
      if (v === 'OK') code = StatusCode.OK;
      else if (v === 'ERROR') code = StatusCode.ERROR;
      if (t.description !== undefined) {
        message = str(t.description.value);
        takesDescription = true;
      }
    }
  } else if (!exists && t.httpCode !== undefined) {
    const hv = t.httpCode.value;
    const n = typeof hv === 'bigint' ? hv : typeof hv === 'string' ? parseInt64(hv) : undefined;
    if (n !== undefined) {
      let c: number;
      if (n >= 400n && n < 500n && kind === SpanKind.CLIENT) c = StatusCode.ERROR;
      else if (n >= 400n && n < 500n && kind === SpanKind.SERVER) c = StatusCode.UNSET;
      else c = n >= 100n && n < 399n ? StatusCode.UNSET : StatusCode.ERROR;
      if (c !== StatusCode.UNSET) {
        exists = true;
        code = c;
        if (t.httpMessage !== undefined) message = str(t.httpMessage.value);
      }
    }
  }
  const at = w.startMessage(SpanField.status);
  if (exists) {
    writeStringField(w, StatusField.message, message);
    writeEnumField(w, StatusField.code, code);
  }
  w.endMessage(at);
  return { takesError, takesDescription };
}

function writeSpan(w: Writer, js: JSpan): void {
  const attrs = uniqueTags(js.tags);
  const t = new SpanTags(attrs);
  const at = w.startMessage(ScopeSpansField.spans);
  const traceId = nz(js.traceId);
  const spanId = nz(js.spanId);
  const parentId = nz(js.parentSpanId);
  if (traceId !== '') w.hexBytes(SpanField.trace_id, traceId);
  if (spanId !== '') w.hexBytes(SpanField.span_id, spanId);
  if (t.traceState !== undefined) writeStringField(w, SpanField.trace_state, str(t.traceState.value));
  if (parentId !== '') w.hexBytes(SpanField.parent_span_id, parentId);
  writeStringField(w, SpanField.name, js.operationName);
  const kind = t.kind === undefined ? SpanKind.UNSPECIFIED : (KINDS[str(t.kind.value)] ?? SpanKind.UNSPECIFIED);
  writeEnumField(w, SpanField.kind, kind);
  writeFixed64Field(w, SpanField.start_time_unix_nano, js.startTimeUnixNano);
  writeFixed64Field(w, SpanField.end_time_unix_nano, js.startTimeUnixNano + js.durationNano);
  const { takesError, takesDescription } = writeStatus(w, t, kind);
  for (let i = 0; i < attrs.length; i++) {
    const kv = attrs[i]!;
    if (kv === t.kind || kv === t.code || kv === t.traceState) continue;
    if ((takesError && kv === t.error) || (takesDescription && kv === t.description)) continue;
    writeKeyValue(w, SpanField.attributes, kv.key, kv.value);
  }
  for (const log of js.logs) {
    const eat = w.startMessage(SpanField.events);
    writeFixed64Field(w, SpanEventField.time_unix_nano, log.timeUnixNano);
    const fields = uniqueTags(log.fields);
    let name: KeyValue | undefined;
    for (const kv of fields) if (kv.key === 'event') name = kv;
    if (name !== undefined) writeStringField(w, SpanEventField.name, str(name.value));
    for (const kv of fields) if (kv !== name) writeKeyValue(w, SpanEventField.attributes, kv.key, kv.value);
    w.endMessage(eat);
  }
  for (const ref of js.references) {
    if (ref.spanId === js.parentSpanId && ref.refType === RefType.CHILD_OF) continue;
    const lat = w.startMessage(SpanField.links);
    const lt = nz(ref.traceId);
    const ls = nz(ref.spanId);
    if (lt !== '') w.hexBytes(SpanLinkField.trace_id, lt);
    if (ls !== '') w.hexBytes(SpanLinkField.span_id, ls);
    writeKeyValue(w, SpanLinkField.attributes, 'opentracing.ref_type', ref.refType === RefType.CHILD_OF ? 'child_of' : 'follows_from');
    w.endMessage(lat);
  }
  w.endMessage(at);
}

/** Takes `nameKey`/`versionKey` out of the span's tags; undefined when there is no `nameKey` tag. */
function takeScopeTags(js: JSpan, nameKey: string, versionKey: string): [string, string] | undefined {
  const i = indexOf(js.tags, nameKey);
  if (i < 0) return undefined;
  const name = str(js.tags[i]!.value);
  js.tags.splice(i, 1);
  let version = '';
  const j = indexOf(js.tags, versionKey);
  if (j >= 0) {
    version = str(js.tags[j]!.value);
    js.tags.splice(j, 1);
  }
  return [name, version];
}

const NO_SCOPE: [string, string] = ['', ''];

/**
 * getScope: otel.scope.name/version tags (newer SDKs), else the deprecated
 * otel.library.name/version, are removed from the span and name its scope.
 */
function takeScope(js: JSpan): [string, string] {
  return takeScopeTags(js, 'otel.scope.name', 'otel.scope.version') ?? takeScopeTags(js, 'otel.library.name', 'otel.library.version') ?? NO_SCOPE;
}

type Groups = Map<string, { process: JProcess | null; spans: JSpan[] }>;

/** The group of spans of process `p` (by its service and tags), added if new. */
function groupOf(groups: Groups, p: JProcess | null): { process: JProcess | null; spans: JSpan[] } {
  const k = processKey(p);
  let g = groups.get(k);
  if (!g) groups.set(k, (g = { process: p, spans: [] }));
  return g;
}

/**
 * Batches → ExportTraceServiceRequest protobuf and its span count. Spans are
 * regrouped by process (a span-level process overrides its batch's), one
 * ResourceSpans per distinct process in first-seen order, then one ScopeSpans
 * per instrumentation scope in first-seen order.
 */
export function jaegerToProto(batches: readonly JBatch[]): { bytes: Uint8Array; spans: number } {
  const groups: Groups = new Map();
  for (const b of batches) {
    const g = groupOf(groups, b.process);
    for (const s of b.spans) (s.process === null ? g : groupOf(groups, s.process)).spans.push(s);
  }
  const w = sharedWriter();
  let count = 0;
  for (const g of groups.values()) {
    if (g.process === null && g.spans.length === 0) continue;
    const rsAt = w.startMessage(ExportTraceServiceRequestField.resource_spans);
    writeResource(w, ResourceSpansField.resource, processToResource(g.process));
    const byScope = new Map<string, { name: string; version: string; spans: JSpan[] }>();
    for (const js of g.spans) {
      if (js.blank) continue;
      const [name, version] = takeScope(js);
      const key = `${name}\u0000${version}`;
      let sc = byScope.get(key);
      if (!sc) byScope.set(key, (sc = { name, version, spans: [] }));
      sc.spans.push(js);
    }
    for (const sc of byScope.values()) {
      const ssAt = w.startMessage(ResourceSpansField.scope_spans);
      writeScope(w, ScopeSpansField.scope, { name: sc.name, version: sc.version, attributes: [], droppedAttributesCount: 0 });
      for (const js of sc.spans) writeSpan(w, js);
      count += sc.spans.length;
      w.endMessage(ssAt);
    }
    w.endMessage(rsAt);
  }
  return { bytes: w.finish(), spans: count };
}

/** What a Jaeger receiver hands on: the protobuf, decoded only if a later stage reads records. */
export function jaegerPayload(batches: readonly JBatch[]): TracesData {
  const { bytes, spans } = jaegerToProto(batches);
  return lazyTraces([bytes], spans);
}

/** The same translation as records (tests, tools). */
export function jaegerToTraces(batches: readonly JBatch[]): TracesData {
  return decodeTracesProto(jaegerToProto(batches).bytes);
}
