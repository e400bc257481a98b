/**
 * Zipkin v1 spans (JSON or thrift, decoded into V1Span) → OTLP, following the
 * Collector's pkg/translator/zipkin/zipkinv1: the span kind comes from the
 * first cs/cr/ss/sr/ms/mr annotation, whose endpoint names the service; other
 * annotations become events; binary annotations become attributes, with the
 * status taken from census/otel/error/http tags; spans are grouped into one
 * ResourceSpans per endpoint (service.name + ipv4/ipv6/port attributes).
 */
import type { AnyValue, KeyValue, ResourceSpans, Span, TracesData } from '../../core/model.ts';
import { SpanKind, StatusCode } from '../../core/model.ts';
import { START_TIME_ABSENT } from './v2-translate.ts';

export interface V1Endpoint {
  serviceName: string;
  ipv4: string;
  ipv6: string;
  port: number;
}

export interface V1Annotation {
  timestampUs: bigint;
  value: string;
  endpoint: V1Endpoint | null;
}

export interface V1BinaryAnnotation {
  key: string;
  value: AnyValue;
  /** The value as text (the local component's name when key is "lc"). */
  text: string;
  endpoint: V1Endpoint | null;
}

export interface V1Span {
  traceId: string;
  id: string;
  parentId: string;
  name: string;
  /** undefined when the span carries no timestamp (JSON: absent or 0; thrift: absent). */
  timestampUs: bigint | undefined;
  durationUs: bigint;
  annotations: V1Annotation[];
  binaryAnnotations: V1BinaryAnnotation[];
  /** JSON: which service the binary annotations name (thrift: any host, even unnamed). */
  hostNamesServiceOnlyIfNamed: boolean;
  /** JSON spans without any time get "now" and the absent-start flag; thrift spans keep 0. */
  defaultStartToNow: boolean;
}

const UNKNOWN_SERVICE = 'unknown-service';
// Null prototype: an annotation value is sender data, and "__proto__" or
// "constructor" must find nothing here (not Object.prototype's members).
const KIND_ANNOTATIONS: Record<string, number | undefined> = Object.assign(Object.create(null) as Record<string, number>, {
  cs: SpanKind.CLIENT,
  cr: SpanKind.CLIENT,
  ms: SpanKind.PRODUCER,
  mr: SpanKind.CONSUMER,
  ss: SpanKind.SERVER,
  sr: SpanKind.SERVER,
});

/** µs → ns, wrapping into uint64 as the Collector's conversion does (an int64 µs × 1000 can exceed it). */
const usToNs = (us: bigint) => (us <= 0n ? 0n : BigInt.asUintN(64, us * 1000n));

/** attribToStatusCode: an int, or a string holding one, within int32. */
function statusInt(v: AnyValue): number | undefined {
  let n: bigint | undefined;
  if (typeof v === 'bigint') n = v;
  else if (typeof v === 'string' && /^[+-]?\d+$/.test(v)) n = BigInt(v);
  if (n === undefined || n > 2147483647n || n < -2147483648n) return undefined;
  return Number(n);
}

interface Status {
  code?: number;
  message: string;
}

/** The Collector's zipkinv1 statusMapper: census > otel > error > http. */
class StatusMapper {
  census: Status = { message: '' };
  otel: Status = { message: '' };
  http: Status = { message: '' };
  error: Status = { message: '' };

  /** Returns true when the tag is consumed (not kept as an attribute). */
  take(key: string, v: AnyValue): boolean {
    const s = typeof v === 'string' ? v : '';
    switch (key) {
      case 'census.status_code': {
        const c = statusInt(v);
        if (c !== undefined) this.census.code = c === 0 ? StatusCode.OK : StatusCode.ERROR;
        return true;
      }
      case 'census.status_description':
      case 'opencensus.status_description':
        this.census.message = s;
        return true;
      case 'otel.status_code': {
        const c = statusInt(v);
        if (c !== undefined) this.otel.code = c;
        return true;
      }
      case 'otel.status_description':
        this.otel.message = s;
        return true;
      case 'http.status_code': {
        const c = statusInt(v);
        if (c !== undefined) this.http.code = c >= 100 && c < 400 ? StatusCode.UNSET : StatusCode.ERROR;
        return false;
      }
      case 'http.status_message':
        this.http.message = s;
        return false;
      case 'error':
        this.error.code = StatusCode.ERROR;
        return true;
    }
    return false;
  }

  apply(span: Span): void {
    let s: Status | undefined;
    if (this.census.code !== undefined) s = this.census;
    else if (this.otel.code !== undefined) s = this.otel;
    else if (this.error.code !== undefined) s = { code: this.error.code, message: this.census.message || this.otel.message };
    else if (this.http.code !== undefined) s = this.http;
    if (s?.code !== undefined) span.status = { code: s.code, message: s.message };
  }
}

function translate(z: V1Span): { span: Span; endpoint: V1Endpoint } {
  const span: Span = {
    traceId: /^0*$/.test(z.traceId) ? '' : z.traceId,
    spanId: /^0*$/.test(z.id) ? '' : z.id,
    traceState: '',
    parentSpanId: z.parentId === '' || /^0*$/.test(z.parentId) ? '' : z.parentId,
    flags: 0,
    name: z.name,
    kind: SpanKind.UNSPECIFIED,
    startTimeUnixNano: 0n,
    endTimeUnixNano: 0n,
    attributes: [],
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    status: { code: StatusCode.UNSET, message: '' },
  };
  let endpoint: V1Endpoint | undefined;
  let kindSet = false;
  let earliest: bigint | undefined;
  let latest: bigint | undefined;
  for (const a of z.annotations) {
    if (a.value === '') continue;
    const kind = KIND_ANNOTATIONS[a.value];
    if (!endpoint && kind !== undefined && a.endpoint && a.endpoint.serviceName !== '') endpoint = a.endpoint;
    if (!kindSet && kind !== undefined) {
      span.kind = kind;
      kindSet = true;
    }
    const ts = usToNs(a.timestampUs);
    if (earliest === undefined || a.timestampUs < earliest) {
      earliest = a.timestampUs;
      span.startTimeUnixNano = ts;
    }
    if (latest === undefined || a.timestampUs > latest) {
      latest = a.timestampUs;
      span.endTimeUnixNano = ts;
    }
    if (kind === undefined) span.events.push({ timeUnixNano: ts, name: a.value, attributes: [], droppedAttributesCount: 0 });
  }
  endpoint = endpoint ? { ...endpoint } : { serviceName: UNKNOWN_SERVICE, ipv4: '', ipv6: '', port: 0 };

  let fallbackService = '';
  let localComponent = '';
  const status = new StatusMapper();
  const attrs: KeyValue[] = span.attributes;
  for (const b of z.binaryAnnotations) {
    if (b.endpoint && (b.endpoint.serviceName !== '' || !z.hostNamesServiceOnlyIfNamed)) fallbackService = b.endpoint.serviceName;
    let key = b.key;
    if (key === 'lc') {
      key = 'component';
      localComponent = b.text;
    }
    if (status.take(key, b.value)) continue;
    const i = attrs.findIndex((x) => x.key === key);
    if (i >= 0) attrs[i]!.value = b.value;
    else attrs.push({ key, value: b.value });
  }
  if (z.binaryAnnotations.length > 0) status.apply(span);
  const named = fallbackService || localComponent;
  if (endpoint.serviceName === UNKNOWN_SERVICE && named !== '') endpoint.serviceName = named;

  if (z.timestampUs !== undefined) {
    span.startTimeUnixNano = usToNs(z.timestampUs);
    span.endTimeUnixNano = usToNs(z.timestampUs + z.durationUs);
  }
  if (z.defaultStartToNow && span.startTimeUnixNano === 0n) {
    const now = BigInt(Date.now()) * 1_000_000n;
    span.startTimeUnixNano = now;
    span.endTimeUnixNano = now;
    attrs.push({ key: START_TIME_ABSENT, value: true });
  }
  return { span, endpoint };
}

export function zipkinV1ToTraces(spans: readonly V1Span[]): TracesData {
  const out: ResourceSpans[] = [];
  const byEndpoint = new Map<string, Span[]>();
  for (const z of spans) {
    const { span, endpoint: e } = translate(z);
    const key = `${e.serviceName}-${e.ipv4}-${e.ipv6}-${e.port}`;
    let list = byEndpoint.get(key);
    if (!list) {
      list = [];
      byEndpoint.set(key, list);
      const attrs: KeyValue[] = [{ key: 'service.name', value: e.serviceName }];
      if (e.ipv4) attrs.push({ key: 'ipv4', value: e.ipv4 });
      if (e.ipv6) attrs.push({ key: 'ipv6', value: e.ipv6 });
      if (e.port !== 0) attrs.push({ key: 'port', value: String(e.port) });
      out.push({
        resource: { attributes: attrs, droppedAttributesCount: 0 },
        scopeSpans: [{ scope: { name: '', version: '', attributes: [], droppedAttributesCount: 0 }, spans: list, schemaUrl: '' }],
        schemaUrl: '',
      });
    }
    list.push(span);
  }
  return { resourceSpans: out };
}
