/**
 * Zipkin v2 spans → OTLP, following the Collector's
 * pkg/translator/zipkin/zipkinv2 ToTranslator (see README.md for the table):
 * spans are ordered by (local service, otel.library.name) and grouped into
 * one ResourceSpans per service and one ScopeSpans per library.
 */
import type { KeyValue, Resource, ResourceSpans, Span, SpanEvent, SpanLink, TracesData } from '../../core/model.ts';
import { SpanKind, StatusCode } from '../../core/model.ts';
import { RESOURCE_KEYS } from './resource-keys.ts';
import { ZipkinDecodeError, type ZSpan } from './model.ts';

const NO_SERVICE_NAME = 'OTLPResourceNoServiceName';
const SERVICE_NAME_SOURCE = 'otlp.service.name.source';
export const START_TIME_ABSENT = 'otel.zipkin.absentField.startTime';
const LIB_NAME = 'otel.library.name';
const LIB_VERSION = 'otel.library.version';

/** Tags never copied to span attributes (they describe the resource or scope). */
const NON_SPAN = new Set<string>([
  ...RESOURCE_KEYS,
  SERVICE_NAME_SOURCE,
  LIB_NAME,
  LIB_VERSION,
  'opencensus.starttime',
  'opencensus.exporterversion',
  'opencensus.resourcetype',
]);

/**
 * otel.status_code values: the Collector's names ("STATUS_CODE_ERROR",
 * "Error") and, deliberately beyond it, the spec's "OK"/"ERROR"/"UNSET" that
 * the OTel SDKs' Zipkin exporters write (the Collector reads those as UNSET).
 */
const STATUS: Record<string, number> = {
  STATUS_CODE_UNSET: 0,
  STATUS_CODE_OK: 1,
  STATUS_CODE_ERROR: 2,
  Unset: 0,
  Ok: 1,
  Error: 2,
  UNSET: 0,
  OK: 1,
  ERROR: 2,
};

const KINDS: Record<string, number> = {
  CLIENT: SpanKind.CLIENT,
  SERVER: SpanKind.SERVER,
  PRODUCER: SpanKind.PRODUCER,
  CONSUMER: SpanKind.CONSUMER,
};

export interface V2Options {
  /** Turn tag strings that look like ints, doubles or bools into typed attributes. */
  parseStringTags: boolean;
}

const serviceOf = (z: ZSpan) => z.localEndpoint?.serviceName || NO_SERVICE_NAME;
const libraryOf = (z: ZSpan) => z.tags.get(LIB_NAME) ?? '';
const isZero = (id: string) => /^0*$/.test(id);

/** DetermineValueType + the strconv parse the Collector applies with parse_string_tags. */
export function parseTag(v: string): KeyValue['value'] {
  if (/^-?\d+$/.test(v)) {
    const n = BigInt(v);
    return n >= -(2n ** 63n) && n < 2n ** 63n ? n : 0n; // ParseInt's error is ignored: 0
  }
  if (/^-?\d+\.\d+$/.test(v)) return Number(v);
  if (v === 'true' || v === 'false') return v === 'true';
  return v;
}

function populateResource(tags: Map<string, string>, service: string): Resource {
  const res: Resource = { attributes: [], droppedAttributesCount: 0 };
  if (service === NO_SERVICE_NAME) return res;
  const source = tags.get(SERVICE_NAME_SOURCE);
  res.attributes.push({ key: source || 'service.name', value: service });
  tags.delete(SERVICE_NAME_SOURCE);
  for (const [k, v] of tags) {
    if (NON_SPAN.has(k) && k !== LIB_NAME && k !== LIB_VERSION) {
      const i = res.attributes.findIndex((a) => a.key === k);
      if (i >= 0) res.attributes[i]!.value = v;
      else res.attributes.push({ key: k, value: v });
      tags.delete(k);
    }
  }
  return res;
}

function statusFromTags(tags: Map<string, string>, span: Span): void {
  const code = tags.get('otel.status_code');
  if (code !== undefined) {
    span.status.code = STATUS[code] ?? 0;
    tags.delete('otel.status_code');
    const desc = tags.get('otel.status_description');
    if (desc !== undefined) {
      span.status.message = desc;
      tags.delete('otel.status_description');
    }
  }
  const err = tags.get('error');
  if (err !== undefined) {
    span.status.code = StatusCode.ERROR;
    if (err === 'true') tags.delete('error');
  }
}

/** `"<json>"|"..."` helper: the parts between the name and the dropped count, rejoined. */
function jsonAttributes(json: string): KeyValue[] {
  let obj: unknown;
  try {
    obj = JSON.parse(json);
  } catch (err) {
    throw new ZipkinDecodeError(`invalid attributes JSON ${JSON.stringify(json)}: ${(err as Error).message}`);
  }
  if (obj !== null && (typeof obj !== 'object' || Array.isArray(obj))) {
    throw new ZipkinDecodeError(`attributes JSON ${JSON.stringify(json)} is not an object`);
  }
  const out: KeyValue[] = [];
  for (const [k, v] of Object.entries(obj ?? {})) {
    if (typeof v === 'string') out.push({ key: k, value: v });
    else if (typeof v === 'number') out.push({ key: k, value: Number.isInteger(v) ? BigInt(v) : v });
    else if (typeof v === 'boolean') out.push({ key: k, value: v });
  }
  return out;
}

function dropped(s: string): number {
  if (!/^\d+$/.test(s) || Number(s) > 0xffffffff) throw new ZipkinDecodeError(`invalid dropped attributes count ${JSON.stringify(s)}`);
  return Number(s);
}

/** otlp.link.N tags ("traceId|spanId|tracestate|{attrs json}|dropped"), as the Collector's exporter writes them. */
function linksFromTags(tags: Map<string, string>, span: Span): void {
  for (let i = 0; i < 128; i++) {
    const key = `otlp.link.${i}`;
    const val = tags.get(key);
    if (val === undefined) return;
    tags.delete(key);
    const parts = val.split('|');
    if (parts.length < 5) continue;
    const id = (s: string, n: number) => {
      const t = s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1) : s;
      if (t === '') return '';
      if (t.length !== n || !/^[0-9a-fA-F]+$/.test(t)) throw new ZipkinDecodeError(`invalid otlp.link id ${JSON.stringify(t)}`);
      return isZero(t) ? '' : t.toLowerCase();
    };
    const link: SpanLink = {
      traceId: id(parts[0]!, 32),
      spanId: id(parts[1]!, 16),
      traceState: parts[2]!,
      attributes: jsonAttributes(parts.slice(3, -1).join('|')),
      droppedAttributesCount: dropped(parts[parts.length - 1]!),
      flags: 0,
    };
    span.links.push(link);
  }
}

function events(z: ZSpan): SpanEvent[] {
  return z.annotations.map((a) => {
    const parts = a.value.split('|');
    const ev: SpanEvent = { timeUnixNano: a.timestampUs * 1000n, name: parts[0]!, attributes: [], droppedAttributesCount: 0 };
    if (parts.length >= 3) {
      ev.attributes = jsonAttributes(parts.slice(1, -1).join('|'));
      ev.droppedAttributesCount = dropped(parts[parts.length - 1]!);
    }
    return ev;
  });
}

function translateSpan(z: ZSpan, tags: Map<string, string>, opts: V2Options): Span {
  const span: Span = {
    traceId: isZero(z.traceId) ? '' : z.traceId,
    spanId: isZero(z.id) ? '' : z.id,
    traceState: '',
    parentSpanId: z.parentId !== '' && z.parentId !== z.id && !isZero(z.parentId) ? z.parentId : '',
    flags: 0,
    name: z.name,
    kind: SpanKind.UNSPECIFIED,
    startTimeUnixNano: z.timestampUs * 1000n,
    endTimeUnixNano: (z.timestampUs + z.durationUs) * 1000n,
    attributes: [],
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    status: { code: StatusCode.UNSET, message: '' },
  };
  const ts = tags.get('w3c.tracestate');
  if (ts !== undefined) {
    span.traceState = ts;
    tags.delete('w3c.tracestate');
  }
  const kind = KINDS[z.kind];
  if (kind !== undefined) span.kind = kind;
  else {
    const k = tags.get('span.kind');
    if (k !== undefined) {
      tags.delete('span.kind');
      if (k === 'internal') span.kind = SpanKind.INTERNAL;
    }
  }
  statusFromTags(tags, span);
  linksFromTags(tags, span);
  const attrs = span.attributes;
  for (const [k, v] of tags) {
    if (NON_SPAN.has(k)) continue;
    attrs.push({ key: k, value: opts.parseStringTags ? parseTag(v) : v });
  }
  const put = (key: string, value: KeyValue['value']) => {
    const i = attrs.findIndex((a) => a.key === key);
    if (i >= 0) attrs[i]!.value = value;
    else attrs.push({ key, value });
  };
  // Endpoint attributes, with the keys of the Collector's current default
  // semantic conventions (zipkin EmitV1/DontEmitV0 NetworkConventions gates, beta).
  const le = z.localEndpoint;
  if (le) {
    if (le.ipv4) put('network.local.address', le.ipv4);
    if (le.ipv6) put('network.local.address', le.ipv6);
    if (le.port > 0) put('net.host.port', BigInt(le.port));
  }
  const re = z.remoteEndpoint;
  if (re) {
    if (re.serviceName) put('service.peer.name', re.serviceName);
    if (re.ipv4) put('network.peer.address', re.ipv4);
    if (re.ipv6) put('network.peer.address', re.ipv6);
    if (re.port > 0) put('net.peer.port', BigInt(re.port));
  }
  if (z.flagAbsentStart) {
    // Start unset: unix epoch, end = the duration, flagged so an exporter can restore it.
    span.startTimeUnixNano = 0n;
    span.endTimeUnixNano = z.durationUs * 1000n;
    put(START_TIME_ABSENT, true);
  }
  span.events = events(z);
  return span;
}

export function zipkinV2ToTraces(spans: readonly ZSpan[], opts: V2Options): TracesData {
  const out: ResourceSpans[] = [];
  // Stable sort: Go's sort.Sort leaves equal keys in an unspecified order; we keep arrival order.
  const sorted = spans
    .map((z, i) => ({ z, i, svc: serviceOf(z), lib: libraryOf(z) }))
    .sort((a, b) => (a.svc < b.svc ? -1 : a.svc > b.svc ? 1 : a.lib < b.lib ? -1 : a.lib > b.lib ? 1 : a.i - b.i));
  let prevSvc = '';
  let prevLib = '';
  let rs: ResourceSpans | undefined;
  let ss: Span[] | undefined;
  for (const { z, svc, lib } of sorted) {
    const tags = new Map(z.tags);
    if (!rs || svc !== prevSvc) {
      prevSvc = svc;
      rs = { resource: populateResource(tags, svc), scopeSpans: [], schemaUrl: '' };
      out.push(rs);
      ss = undefined;
    }
    if (!ss || lib !== prevLib) {
      prevLib = lib;
      const scope = { name: '', version: '', attributes: [], droppedAttributesCount: 0 };
      if (lib !== '') {
        scope.name = tags.get(LIB_NAME) ?? '';
        tags.delete(LIB_NAME);
        const v = tags.get(LIB_VERSION);
        if (v !== undefined) {
          scope.version = v;
          tags.delete(LIB_VERSION);
        }
      }
      ss = [];
      rs.scopeSpans.push({ scope, spans: ss, schemaUrl: '' });
    }
    ss.push(translateSpan(z, tags, opts));
  }
  return { resourceSpans: out };
}
