/**
 * Zipkin v2 protobuf (`application/x-protobuf`, zipkin.proto's ListOfSpans)
 * → ZSpan[], hand-decoded with the shared protowire Reader. Tags and field
 * numbers: wire-fields.gen.ts, generated from testdata/zipkin.proto
 * (openzipkin/zipkin-api; npm run gen:wire). Times are µs (timestamp fixed64,
 * duration varint); ipv4 is 4 bytes, ipv6 16.
 *
 * As zipkin-go's proto3 decoder: trace_id must be 1..16 bytes, id exactly 8,
 * parent_id empty or 8; kind enum 1..4 is CLIENT/SERVER/PRODUCER/CONSUMER.
 */
import { Reader } from '../../core/otlp/protowire.ts';
import { AnnotationTag, EndpointTag, ListOfSpansTag, SpanTag, SpanTagsEntryTag, zipkinKnown } from './wire-fields.gen.ts';
import { ipString, type ZAnnotation, type ZEndpoint, type ZSpan, type ZTags } from './model.ts';

const KINDS = ['SPAN_KIND_UNSPECIFIED', 'CLIENT', 'SERVER', 'PRODUCER', 'CONSUMER'];

function rawBytes(r: Reader, limit: number): [number, number] {
  const end = r.lenEnd(limit);
  const start = r.pos;
  r.pos = end;
  return [start, end];
}

function endpoint(r: Reader, limit: number): ZEndpoint {
  const end = r.lenEnd(limit);
  const e: ZEndpoint = { serviceName: '', ipv4: '', ipv6: '', port: 0 };
  while (r.pos < end) {
    const t = r.uint32();
    if (t === EndpointTag.service_name) e.serviceName = r.string(end);
    else if (t === EndpointTag.ipv4) e.ipv4 = ipString(r.bytes(end));
    else if (t === EndpointTag.ipv6) e.ipv6 = ipString(r.bytes(end));
    else if (t === EndpointTag.port) e.port = r.uint32() & 0xffff; // uint16(port), as zipkin-go
    else r.other(t, zipkinKnown.Endpoint, end, 'Endpoint');
  }
  r.expectEnd(end, 'Endpoint');
  return e;
}

function annotation(r: Reader, limit: number): ZAnnotation {
  const end = r.lenEnd(limit);
  const a: ZAnnotation = { timestamp: 0, value: '' };
  while (r.pos < end) {
    const t = r.uint32();
    if (t === AnnotationTag.timestamp) a.timestamp = Number(r.fixed64());
    else if (t === AnnotationTag.value) a.value = r.string(end);
    else r.other(t, zipkinKnown.Annotation, end, 'Annotation');
  }
  r.expectEnd(end, 'Annotation');
  return a;
}

function mapEntry(r: Reader, limit: number, into: ZTags): void {
  const end = r.lenEnd(limit);
  let k = '';
  let v = '';
  while (r.pos < end) {
    const t = r.uint32();
    if (t === SpanTagsEntryTag.key) k = r.string(end);
    else if (t === SpanTagsEntryTag.value) v = r.string(end);
    else r.other(t, zipkinKnown.SpanTagsEntry, end, 'Span.TagsEntry');
  }
  r.expectEnd(end, 'Span.TagsEntry');
  into[k] = v;
}

function span(r: Reader, limit: number, index: number): ZSpan {
  const end = r.lenEnd(limit);
  const s: ZSpan = {
    traceId: '',
    id: '',
    parentId: '',
    name: '',
    kind: '',
    timestamp: 0,
    duration: 0,
    localEndpoint: null,
    remoteEndpoint: null,
    annotations: [],
    tags: Object.create(null) as ZTags,
    flagAbsentStart: false,
  };
  let traceId: [number, number] = [0, 0];
  let id: [number, number] = [0, 0];
  let parent: [number, number] = [0, 0];
  while (r.pos < end) {
    const t = r.uint32();
    switch (t) {
      case SpanTag.trace_id: traceId = rawBytes(r, end); break;
      case SpanTag.parent_id: parent = rawBytes(r, end); break;
      case SpanTag.id: id = rawBytes(r, end); break;
      case SpanTag.kind: { const k = r.uint32(); s.kind = KINDS[k] ?? String(k); break; }
      case SpanTag.name: s.name = r.string(end); break;
      case SpanTag.timestamp: s.timestamp = Number(r.fixed64()); break;
      case SpanTag.duration: s.duration = Number(BigInt.asUintN(64, r.int64())); break;
      case SpanTag.local_endpoint: s.localEndpoint = endpoint(r, end); break;
      case SpanTag.remote_endpoint: s.remoteEndpoint = endpoint(r, end); break;
      case SpanTag.annotations: s.annotations.push(annotation(r, end)); break;
      case SpanTag.tags: mapEntry(r, end, s.tags); break;
      case SpanTag.debug: r.bool(); break; // debug
      case SpanTag.shared: r.bool(); break; // shared
      default: r.other(t, zipkinKnown.Span, end, 'Span');
    }
  }
  r.expectEnd(end, 'Span');
  const n = traceId[1] - traceId[0];
  if (n === 0 || n > 16) r.fail(`span ${index}: trace_id must be 1 to 16 bytes, got ${n}`);
  s.traceId = r.buf.hexSlice(traceId[0], traceId[1]).padStart(32, '0');
  if (id[1] - id[0] !== 8) r.fail(`span ${index}: id must be 8 bytes, got ${id[1] - id[0]}`);
  s.id = r.buf.hexSlice(id[0], id[1]);
  const pn = parent[1] - parent[0];
  if (pn !== 0 && pn !== 8) r.fail(`span ${index}: parent_id must be 8 bytes, got ${pn}`);
  if (pn === 8) s.parentId = r.buf.hexSlice(parent[0], parent[1]);
  return s;
}

export function decodeV2Proto(body: Uint8Array): ZSpan[] {
  const r = new Reader(body);
  const out: ZSpan[] = [];
  while (r.pos < r.len) {
    const t = r.uint32();
    if (t === ListOfSpansTag.spans) out.push(span(r, r.len, out.length));
    else r.other(t, zipkinKnown.ListOfSpans, r.len, 'ListOfSpans');
  }
  return out;
}
