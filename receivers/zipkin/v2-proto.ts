/**
 * Zipkin v2 protobuf (`application/x-protobuf`, zipkin.proto's ListOfSpans)
 * → ZSpan[], hand-decoded with the shared protowire Reader. Field numbers
 * from openzipkin/zipkin-api zipkin.proto:
 *
 *   ListOfSpans  1 spans
 *   Span         1 trace_id (8|16 B), 2 parent_id (8 B), 3 id (8 B), 4 kind,
 *                5 name, 6 timestamp (fixed64 µs), 7 duration (varint µs),
 *                8 local_endpoint, 9 remote_endpoint, 10 annotations,
 *                11 tags (map<string,string>), 12 debug, 13 shared
 *   Endpoint     1 service_name, 2 ipv4 (4 B), 3 ipv6 (16 B), 4 port
 *   Annotation   1 timestamp (fixed64 µs), 2 value
 *
 * As zipkin-go's proto3 decoder: trace_id must be 1..16 bytes, id exactly 8,
 * parent_id empty or 8; kind enum 1..4 is CLIENT/SERVER/PRODUCER/CONSUMER.
 */
import { Reader, WT_I64, WT_LEN, WT_VARINT, fields } from '../../core/otlp/protowire.ts';
import { ipString, type ZAnnotation, type ZEndpoint, type ZSpan, type ZTags } from './model.ts';

const tag = (field: number, wt: number) => (field << 3) | wt;
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
    if (t === tag(1, WT_LEN)) e.serviceName = r.string(end);
    else if (t === tag(2, WT_LEN)) e.ipv4 = ipString(r.bytes(end));
    else if (t === tag(3, WT_LEN)) e.ipv6 = ipString(r.bytes(end));
    else if (t === tag(4, WT_VARINT)) e.port = r.uint32() & 0xffff; // uint16(port), as zipkin-go
    else r.other(t, fields(1, 2, 3, 4), end, 'Endpoint');
  }
  r.expectEnd(end, 'Endpoint');
  return e;
}

function annotation(r: Reader, limit: number): ZAnnotation {
  const end = r.lenEnd(limit);
  const a: ZAnnotation = { timestamp: 0, value: '' };
  while (r.pos < end) {
    const t = r.uint32();
    if (t === tag(1, WT_I64)) a.timestamp = Number(r.fixed64());
    else if (t === tag(2, WT_LEN)) a.value = r.string(end);
    else r.other(t, fields(1, 2), end, 'Annotation');
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
    if (t === tag(1, WT_LEN)) k = r.string(end);
    else if (t === tag(2, WT_LEN)) v = r.string(end);
    else r.other(t, fields(1, 2), end, 'Span.TagsEntry');
  }
  r.expectEnd(end, 'Span.TagsEntry');
  into[k] = v;
}

const SPAN_FIELDS = fields(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13);

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
      case tag(1, WT_LEN): traceId = rawBytes(r, end); break;
      case tag(2, WT_LEN): parent = rawBytes(r, end); break;
      case tag(3, WT_LEN): id = rawBytes(r, end); break;
      case tag(4, WT_VARINT): { const k = r.uint32(); s.kind = KINDS[k] ?? String(k); break; }
      case tag(5, WT_LEN): s.name = r.string(end); break;
      case tag(6, WT_I64): s.timestamp = Number(r.fixed64()); break;
      case tag(7, WT_VARINT): s.duration = Number(BigInt.asUintN(64, r.int64())); break;
      case tag(8, WT_LEN): s.localEndpoint = endpoint(r, end); break;
      case tag(9, WT_LEN): s.remoteEndpoint = endpoint(r, end); break;
      case tag(10, WT_LEN): s.annotations.push(annotation(r, end)); break;
      case tag(11, WT_LEN): mapEntry(r, end, s.tags); break;
      case tag(12, WT_VARINT): r.bool(); break; // debug
      case tag(13, WT_VARINT): r.bool(); break; // shared
      default: r.other(t, SPAN_FIELDS, end, 'Span');
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
    if (t === tag(1, WT_LEN)) out.push(span(r, r.len, out.length));
    else r.other(t, fields(1), r.len, 'ListOfSpans');
  }
  return out;
}
