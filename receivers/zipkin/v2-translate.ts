/**
 * Zipkin v2 spans → OTLP, following the Collector's
 * pkg/translator/zipkin/zipkinv2 ToTranslator (see README.md for the table):
 * spans are ordered by (local service, otel.library.name) and grouped into
 * one ResourceSpans per service and one ScopeSpans per library.
 *
 * The translation writes ExportTraceServiceRequest protobuf straight from the
 * decoded Zipkin spans, with no OTLP records in between: what follows the
 * receiver either forwards the bytes (the spool, Kafka) or decodes them once
 * (`zipkinV2ToTraces`). One writer keeps one set of mapping rules.
 */
import type { KeyValue, Resource, SpanLink, TracesData } from '../../core/model.ts';
import { SpanKind, StatusCode } from '../../core/model.ts';
import { writeAttributes, writeKeyValue, writeEnumField, writeResource, writeScope, writeStringField, writeUint32Field } from '../../core/otlp/common-proto.ts';
import { sharedWriter, type Writer } from '../../core/otlp/protowire.ts';
import { decodeTracesProto, writeLink } from '../../core/otlp/traces-proto.ts';
import {
  AnyValueTag, ExportTraceServiceRequestField, KeyValueField, ResourceSpansField, ScopeSpansField,
  SpanEventField, SpanField, SpanTag, StatusField,
} from '../../core/otlp/wire-fields.gen.ts';
import { RESOURCE_KEYS } from './resource-keys.ts';
import { ZipkinDecodeError, isZeroId, type ZSpan, type ZTags } from './model.ts';

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

/** A lookup table that answers undefined for "constructor" and the like. */
function nullProto<T>(o: Record<string, T>): Record<string, T | undefined> {
  return Object.assign(Object.create(null) as Record<string, T>, o);
}

/**
 * otel.status_code values: the Collector's names ("STATUS_CODE_ERROR",
 * "Error") and, deliberately beyond it, the spec's "OK"/"ERROR"/"UNSET" that
 * the OTel SDKs' Zipkin exporters write (the Collector reads those as UNSET).
 */
const STATUS = nullProto<number>({
  STATUS_CODE_UNSET: 0,
  STATUS_CODE_OK: 1,
  STATUS_CODE_ERROR: 2,
  Unset: 0,
  Ok: 1,
  Error: 2,
  UNSET: 0,
  OK: 1,
  ERROR: 2,
});

const KINDS = nullProto<number>({
  CLIENT: SpanKind.CLIENT,
  SERVER: SpanKind.SERVER,
  PRODUCER: SpanKind.PRODUCER,
  CONSUMER: SpanKind.CONSUMER,
});

export interface V2Options {
  /** Turn tag strings that look like ints, doubles or bools into typed attributes. */
  parseStringTags: boolean;
}

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

/** The resource of a service group, from the tags of its first span. */
function resourceOf(tags: ZTags, service: string): Resource {
  const res: Resource = { attributes: [], droppedAttributesCount: 0 };
  if (service === NO_SERVICE_NAME) return res;
  const attrs = res.attributes;
  attrs.push({ key: tags[SERVICE_NAME_SOURCE] || 'service.name', value: service });
  for (const k in tags) {
    if (!NON_SPAN.has(k) || k === LIB_NAME || k === LIB_VERSION || k === SERVICE_NAME_SOURCE) continue;
    const i = attrs.findIndex((a) => a.key === k);
    if (i >= 0) attrs[i]!.value = tags[k];
    else attrs.push({ key: k, value: tags[k] });
  }
  return res;
}

/** A malformed otlp.link.N tag: consumed, no link. */
const NOT_A_LINK: SpanLink = { traceId: '', spanId: '', traceState: '', attributes: [], droppedAttributesCount: 0, flags: 0 };

function linkId(s: string, n: number): string {
  const t = s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1) : s;
  if (t === '') return '';
  if (t.length !== n || !/^[0-9a-fA-F]+$/.test(t)) throw new ZipkinDecodeError(`invalid otlp.link id ${JSON.stringify(t)}`);
  return isZeroId(t) ? '' : t.toLowerCase();
}

/**
 * otlp.link.N tags ("traceId|spanId|tracestate|{attrs json}|dropped"), as the
 * Collector's exporter writes them, from N = 0 up to the first missing one.
 */
function linksFromTags(tags: ZTags): SpanLink[] {
  const links: SpanLink[] = [];
  for (let i = 0; i < 128; i++) {
    const val = tags[`otlp.link.${i}`];
    if (val === undefined) break;
    const parts = val.split('|');
    if (parts.length < 5) {
      links.push(NOT_A_LINK);
      continue;
    }
    links.push({
      traceId: linkId(parts[0]!, 32),
      spanId: linkId(parts[1]!, 16),
      traceState: parts[2]!,
      attributes: jsonAttributes(parts.slice(3, -1).join('|')),
      droppedAttributesCount: dropped(parts[parts.length - 1]!),
      flags: 0,
    });
  }
  return links;
}

/** otlp.link.0 … otlp.link.(count-1): the tags linksFromTags consumed. */
function isLinkTag(k: string, count: number): boolean {
  if (!k.startsWith('otlp.link.')) return false;
  const n = k.slice(10);
  return /^(0|[1-9]\d*)$/.test(n) && Number(n) < count;
}

/** A time field from µs (omitted when 0, as proto3 does). */
function micros(w: Writer, field: number, us: number): void {
  if (us === 0) return;
  w.tag(field, 1);
  w.fixed64Micros(us);
}

/** Annotations → events; "name|{attrs json}|dropped" carries an OTel event's attributes. */
function writeEvents(w: Writer, z: ZSpan): void {
  for (const a of z.annotations) {
    const v = a.value;
    const at = w.startMessage(SpanField.events);
    micros(w, SpanEventField.time_unix_nano, a.timestamp);
    if (!v.includes('|')) {
      writeStringField(w, SpanEventField.name, v);
    } else {
      const parts = v.split('|');
      writeStringField(w, SpanEventField.name, parts[0]!);
      if (parts.length >= 3) {
        writeAttributes(w, SpanEventField.attributes, jsonAttributes(parts.slice(1, -1).join('|')));
        writeUint32Field(w, SpanEventField.dropped_attributes_count, dropped(parts[parts.length - 1]!));
      }
    }
    w.endMessage(at);
  }
}

/** The attributes a span's endpoints (and an absent start) add; null once written or when unset. */
interface Puts {
  localAddress: string | null;
  /** Ports are written as int attributes. */
  hostPort: number | null;
  peerName: string | null;
  peerAddress: string | null;
  peerPort: number | null;
  absentStart: true | null;
}

function putsOf(z: ZSpan): Puts {
  const le = z.localEndpoint;
  const re = z.remoteEndpoint;
  return {
    localAddress: le ? le.ipv6 || le.ipv4 || null : null,
    hostPort: le && le.port > 0 ? le.port : null,
    peerName: re ? re.serviceName || null : null,
    peerAddress: re ? re.ipv6 || re.ipv4 || null : null,
    peerPort: re && re.port > 0 ? re.port : null,
    absentStart: z.flagAbsentStart ? true : null,
  };
}

/** Takes the value `p` puts under `key`, if any (a number is an int attribute). */
function takePut(p: Puts, key: string): string | number | true | null {
  let v: string | number | true | null = null;
  switch (key) {
    case 'network.local.address': v = p.localAddress; p.localAddress = null; break;
    case 'net.host.port': v = p.hostPort; p.hostPort = null; break;
    case 'service.peer.name': v = p.peerName; p.peerName = null; break;
    case 'network.peer.address': v = p.peerAddress; p.peerAddress = null; break;
    case 'net.peer.port': v = p.peerPort; p.peerPort = null; break;
    case START_TIME_ABSENT: v = p.absentStart; p.absentStart = null; break;
  }
  return v;
}

/** A span attribute. */
function writeAttr(w: Writer, key: string, value: KeyValue['value']): void {
  writeKeyValue(w, SpanField.attributes, key, value);
}

/** An int attribute from a port (0–65535), without a bigint. */
function writePortAttr(w: Writer, key: string, port: number): void {
  const at = w.startMessage(SpanField.attributes);
  w.string(KeyValueField.key, key);
  const v = w.startMessage(KeyValueField.value);
  w.uint32(AnyValueTag.int_value);
  w.uint32(port);
  w.endMessage(v);
  w.endMessage(at);
}

function writeSpan(w: Writer, z: ZSpan, opts: V2Options): void {
  const tags = z.tags;
  const at = w.startMessage(ScopeSpansField.spans);
  if (!isZeroId(z.traceId)) w.hexBytes(SpanField.trace_id, z.traceId);
  if (!isZeroId(z.id)) w.hexBytes(SpanField.span_id, z.id);
  const traceState = tags['w3c.tracestate'];
  if (traceState !== undefined) writeStringField(w, SpanField.trace_state, traceState);
  if (z.parentId !== '' && z.parentId !== z.id && !isZeroId(z.parentId)) w.hexBytes(SpanField.parent_span_id, z.parentId);
  writeStringField(w, SpanField.name, z.name);
  let kind = KINDS[z.kind];
  const kindTag = kind === undefined ? tags['span.kind'] : undefined;
  if (kind === undefined) kind = kindTag === 'internal' ? SpanKind.INTERNAL : SpanKind.UNSPECIFIED;
  writeEnumField(w, SpanField.kind, kind);
  if (z.flagAbsentStart) {
    // Start unset: unix epoch, end = the duration, flagged so an exporter can restore it.
    micros(w, SpanField.end_time_unix_nano, z.duration);
  } else {
    micros(w, SpanField.start_time_unix_nano, z.timestamp);
    const end = z.timestamp + z.duration;
    if (Number.isSafeInteger(end)) micros(w, SpanField.end_time_unix_nano, end);
    else {
      w.uint32(SpanTag.end_time_unix_nano);
      w.fixed64((BigInt(z.timestamp) + BigInt(z.duration)) * 1000n);
    }
  }
  // Status: otel.status_code (and its description), then the `error` tag.
  const codeTag = tags['otel.status_code'];
  let code: number = StatusCode.UNSET;
  let message = '';
  if (codeTag !== undefined) {
    code = STATUS[codeTag] ?? StatusCode.UNSET;
    message = tags['otel.status_description'] ?? '';
  }
  const errorTag = tags.error;
  if (errorTag !== undefined) code = StatusCode.ERROR;
  const links = tags['otlp.link.0'] === undefined ? undefined : linksFromTags(tags);
  // Attributes: the tags no rule above consumed, in wire order. An endpoint
  // attribute whose key a tag has replaces that tag's value in place (pcommon Put).
  const puts = putsOf(z);
  for (const k in tags) {
    if (NON_SPAN.has(k)) continue;
    switch (k) {
      case 'w3c.tracestate':
      case 'otel.status_code':
        continue;
      case 'otel.status_description':
        if (codeTag !== undefined) continue;
        break;
      case 'span.kind':
        if (kindTag !== undefined) continue;
        break;
      case 'error':
        if (errorTag === 'true') continue;
        break;
    }
    if (links !== undefined && isLinkTag(k, links.length)) continue;
    const put = takePut(puts, k);
    if (typeof put === 'number') writePortAttr(w, k, put);
    else writeAttr(w, k, put ?? (opts.parseStringTags ? parseTag(tags[k]!) : tags[k]));
  }
  // Endpoint attributes, with the keys of the Collector's current default
  // semantic conventions (zipkin EmitV1/DontEmitV0 NetworkConventions gates, beta).
  if (puts.localAddress !== null) writeAttr(w, 'network.local.address', puts.localAddress);
  if (puts.hostPort !== null) writePortAttr(w, 'net.host.port', puts.hostPort);
  if (puts.peerName !== null) writeAttr(w, 'service.peer.name', puts.peerName);
  if (puts.peerAddress !== null) writeAttr(w, 'network.peer.address', puts.peerAddress);
  if (puts.peerPort !== null) writePortAttr(w, 'net.peer.port', puts.peerPort);
  if (puts.absentStart !== null) writeAttr(w, START_TIME_ABSENT, true);
  writeEvents(w, z);
  if (links !== undefined) for (const l of links) if (l !== NOT_A_LINK) writeLink(w, l);
  const st = w.startMessage(SpanField.status);
  writeStringField(w, StatusField.message, message);
  writeEnumField(w, StatusField.code, code);
  w.endMessage(st);
  w.endMessage(at);
}

function compareGroups(svcs: readonly string[], libs: readonly string[], a: number, b: number): number {
  const sa = svcs[a]!;
  const sb = svcs[b]!;
  if (sa !== sb) return sa < sb ? -1 : 1;
  const la = libs[a]!;
  const lb = libs[b]!;
  if (la !== lb) return la < lb ? -1 : 1;
  return a - b;
}

/** Zipkin v2 spans → ExportTraceServiceRequest protobuf. Throws ZipkinDecodeError. */
export function zipkinV2ToProto(spans: readonly ZSpan[], opts: V2Options): Uint8Array {
  const n = spans.length;
  const svcs = new Array<string>(n);
  const libs = new Array<string>(n);
  let sorted = true;
  for (let i = 0; i < n; i++) {
    const z = spans[i]!;
    svcs[i] = z.localEndpoint?.serviceName || NO_SERVICE_NAME;
    libs[i] = z.tags[LIB_NAME] ?? '';
    if (sorted && i > 0 && compareGroups(svcs, libs, i - 1, i) > 0) sorted = false;
  }
  // Stable: Go's sort.Sort leaves equal keys in an unspecified order; we keep arrival order.
  const order = sorted ? undefined : Array.from({ length: n }, (_, i) => i).sort((a, b) => compareGroups(svcs, libs, a, b));
  const w = sharedWriter();
  let rsAt = -1;
  let ssAt = -1;
  let prevSvc = '';
  let prevLib = '';
  for (let k = 0; k < n; k++) {
    const i = order === undefined ? k : order[k]!;
    const z = spans[i]!;
    const svc = svcs[i]!;
    const lib = libs[i]!;
    if (rsAt < 0 || svc !== prevSvc) {
      if (ssAt >= 0) w.endMessage(ssAt);
      if (rsAt >= 0) w.endMessage(rsAt);
      ssAt = -1;
      prevSvc = svc;
      rsAt = w.startMessage(ExportTraceServiceRequestField.resource_spans);
      writeResource(w, ResourceSpansField.resource, resourceOf(z.tags, svc));
    }
    if (ssAt < 0 || lib !== prevLib) {
      if (ssAt >= 0) w.endMessage(ssAt);
      prevLib = lib;
      ssAt = w.startMessage(ResourceSpansField.scope_spans);
      const version = lib === '' ? '' : (z.tags[LIB_VERSION] ?? '');
      writeScope(w, ScopeSpansField.scope, { name: lib, version, attributes: [], droppedAttributesCount: 0 });
    }
    writeSpan(w, z, opts);
  }
  if (ssAt >= 0) w.endMessage(ssAt);
  if (rsAt >= 0) w.endMessage(rsAt);
  return w.finish();
}

/** The same translation as records (tests, and pipelines that read records). */
export function zipkinV2ToTraces(spans: readonly ZSpan[], opts: V2Options): TracesData {
  return decodeTracesProto(zipkinV2ToProto(spans, opts));
}
