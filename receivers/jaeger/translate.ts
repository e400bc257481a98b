/**
 * Jaeger spans → OTLP, following the Collector's pkg/translator/jaeger
 * (jaegerproto_to_traces.go; see README.md for the full mapping). One
 * translator serves thrift and protobuf input, so a span looks the same in
 * storage whichever transport carried it.
 */
import type { AnyValue, KeyValue, Resource, ResourceSpans, ScopeSpans, Span, SpanEvent, SpanLink, TracesData } from '../../core/model.ts';
import { SpanKind, StatusCode } from '../../core/model.ts';
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

const KINDS: Record<string, number> = {
  client: SpanKind.CLIENT,
  server: SpanKind.SERVER,
  producer: SpanKind.PRODUCER,
  consumer: SpanKind.CONSUMER,
  internal: SpanKind.INTERNAL,
};

/** strconv.ParseInt(s, 10, 64): whole string, optional sign, int64 range. */
function parseInt64(s: string): bigint | undefined {
  if (!/^[+-]?\d+$/.test(s)) return undefined;
  const n = BigInt(s);
  return n >= -(2n ** 63n) && n < 2n ** 63n ? n : undefined;
}

function takeStatusDescription(attrs: KeyValue[]): string | undefined {
  const d = get(attrs, 'otel.status_description');
  if (!d) return undefined;
  remove(attrs, 'otel.status_description');
  return str(d.value);
}

/** setInternalSpanStatus: the `error` tag wins, then otel.status_code, then http.status_code. */
function setStatus(attrs: KeyValue[], span: Span): void {
  let code: number = StatusCode.UNSET;
  let message = '';
  let exists = false;
  const err = get(attrs, 'error');
  if (err && err.value === true) {
    code = StatusCode.ERROR;
    remove(attrs, 'error');
    exists = true;
    const desc = takeStatusDescription(attrs);
    if (desc !== undefined) message = desc;
    else {
      const m = get(attrs, 'http.status_message');
      if (m) message = str(m.value);
    }
  }
  const codeAttr = get(attrs, 'otel.status_code');
  if (codeAttr) {
    if (!exists) {
      exists = true;
      const v = str(codeAttr.value).toUpperCase();
      if (v === 'OK') code = StatusCode.OK;
      else if (v === 'ERROR') code = StatusCode.ERROR;
      const desc = takeStatusDescription(attrs);
      if (desc !== undefined) message = desc;
    }
    remove(attrs, 'otel.status_code');
  } else if (!exists) {
    const http = get(attrs, 'http.status_code');
    const hv = http?.value;
    const n = typeof hv === 'bigint' ? hv : typeof hv === 'string' ? parseInt64(hv) : undefined;
    if (n !== undefined) {
      let c: number;
      if (n >= 400n && n < 500n && span.kind === SpanKind.CLIENT) c = StatusCode.ERROR;
      else if (n >= 400n && n < 500n && span.kind === SpanKind.SERVER) c = StatusCode.UNSET;
      else c = n >= 100n && n < 399n ? StatusCode.UNSET : StatusCode.ERROR;
      if (c !== StatusCode.UNSET) {
        exists = true;
        code = c;
      }
      const m = get(attrs, 'http.status_message');
      if (m) message = str(m.value);
    }
  }
  if (exists) span.status = { code, message };
}

function translateSpan(js: JSpan): Span {
  const attrs: KeyValue[] = [];
  putAll(attrs, js.tags);
  const span: Span = {
    traceId: nz(js.traceId),
    spanId: nz(js.spanId),
    traceState: '',
    parentSpanId: nz(js.parentSpanId),
    flags: 0,
    name: js.operationName,
    kind: SpanKind.UNSPECIFIED,
    startTimeUnixNano: js.startTimeUnixNano,
    endTimeUnixNano: js.startTimeUnixNano + js.durationNano,
    attributes: attrs,
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    status: { code: StatusCode.UNSET, message: '' },
  };
  const kind = get(attrs, 'span.kind');
  if (kind) {
    span.kind = KINDS[str(kind.value)] ?? SpanKind.UNSPECIFIED;
    remove(attrs, 'span.kind');
  }
  setStatus(attrs, span);
  const ts = get(attrs, 'w3c.tracestate');
  if (ts) {
    span.traceState = str(ts.value);
    remove(attrs, 'w3c.tracestate');
  }
  for (const log of js.logs) {
    const ev: SpanEvent = { timeUnixNano: log.timeUnixNano, name: '', attributes: [], droppedAttributesCount: 0 };
    if (log.fields.length > 0) {
      putAll(ev.attributes, log.fields);
      const name = get(ev.attributes, 'event');
      if (name) {
        ev.name = str(name.value);
        remove(ev.attributes, 'event');
      }
    }
    span.events.push(ev);
  }
  for (const ref of js.references) {
    if (ref.spanId === js.parentSpanId && ref.refType === RefType.CHILD_OF) continue;
    const link: SpanLink = {
      traceId: nz(ref.traceId),
      spanId: nz(ref.spanId),
      traceState: '',
      attributes: [{ key: 'opentracing.ref_type', value: ref.refType === RefType.CHILD_OF ? 'child_of' : 'follows_from' }],
      droppedAttributesCount: 0,
      flags: 0,
    };
    span.links.push(link);
  }
  return span;
}

/**
 * getScope: otel.scope.name/version tags (newer SDKs), else the deprecated
 * otel.library.name/version, are removed from the span and name its scope.
 */
function takeScope(js: JSpan): [string, string] {
  for (const [nameKey, versionKey] of [
    ['otel.scope.name', 'otel.scope.version'],
    ['otel.library.name', 'otel.library.version'],
  ] as const) {
    const i = indexOf(js.tags, nameKey);
    if (i < 0) continue;
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
  return ['', ''];
}

/**
 * Batches → TracesData. Spans are regrouped by process (a span-level process
 * overrides its batch's), one ResourceSpans per distinct process in first-seen
 * order, then one ScopeSpans per instrumentation scope.
 */
export function jaegerToTraces(batches: readonly JBatch[]): TracesData {
  const groups = new Map<string, { process: JProcess | null; spans: JSpan[] }>();
  const group = (p: JProcess | null) => {
    const k = processKey(p);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { process: p, spans: [] }));
    return g;
  };
  for (const b of batches) {
    const g = group(b.process);
    for (const s of b.spans) (s.process === null ? g : group(s.process)).spans.push(s);
  }
  const out: ResourceSpans[] = [];
  for (const g of groups.values()) {
    if (g.process === null && g.spans.length === 0) continue;
    const rs: ResourceSpans = { resource: processToResource(g.process), scopeSpans: [], schemaUrl: '' };
    const byScope = new Map<string, ScopeSpans>();
    for (const js of g.spans) {
      if (js.blank) continue;
      const [name, version] = takeScope(js);
      const key = `${name}\u0000${version}`;
      let ss = byScope.get(key);
      if (!ss) {
        ss = { scope: { name, version, attributes: [], droppedAttributesCount: 0 }, spans: [], schemaUrl: '' };
        byScope.set(key, ss);
        rs.scopeSpans.push(ss);
      }
      ss.spans.push(translateSpan(js));
    }
    out.push(rs);
  }
  return { resourceSpans: out };
}
