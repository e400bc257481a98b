/**
 * `otel_traces` rows as a Native block straight from OTLP protobuf
 * (ExportTraceServiceRequest parts, as the spool or Kafka hand them on), with
 * no records in between: strings are copied as the bytes they are on the wire
 * (a protobuf string and a Native String are both a varint length and UTF-8),
 * ids become hex text from a table, times are split into 32-bit words.
 * Attribute values other than strings, events and links go through the
 * record decoder one at a time, so every rule of the record path
 * (`encodeTracesNative`, the Collector's mapping) holds here by construction;
 * native-proto.test.ts checks the two paths give the same bytes.
 *
 * The parts must be valid (the receiver or the queue checked them); a field
 * that repeats is merged as protobuf merges it, as the decoder does. One
 * difference: a string that is not valid UTF-8 is stored as its bytes, where
 * the record path would have replaced the bad bytes with U+FFFD.
 */
import { emptyResource, emptyScope } from '../../core/model.ts';
import { readKeyValue, readResource, readScope } from '../../core/otlp/common-proto.ts';
import { Reader, WT_I32, WT_I64, fields } from '../../core/otlp/protowire.ts';
import { readEvent, readLink } from '../../core/otlp/traces-proto.ts';
import { asString } from './anyvalue.ts';
import { encodeMap, encodeStr, serviceName, TraceColumns, type EncodedMap, type MapColumn, type NativeBlock, type Sink } from './native.ts';
import { spanKindName, statusCodeName } from './rows.ts';

const REQUEST_FIELDS = fields(1);
const CONTAINER_FIELDS = fields(1, 2, 3);
const SPAN_FIELDS = fields(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);
const STATUS_FIELDS = fields(2, 3);

/** Rows of `parts` (together holding `rows` spans) as one Native block. */
export function encodeTracesNativeProto(parts: readonly Uint8Array[], rows: number): NativeBlock {
  const c = new TraceColumns(rows);
  for (const part of parts) {
    const r = new Reader(part);
    const end = r.len;
    while (r.pos < end) {
      const tag = r.uint32();
      if (tag === 0x0a) resourceSpans(r, end, c);
      else r.other(tag, REQUEST_FIELDS, end, 'ExportTraceServiceRequest');
    }
  }
  if (c.rows !== rows) throw new Error(`the payload holds ${c.rows} spans, not ${rows}`);
  return c.block();
}

/**
 * ResourceSpans and ScopeSpans alike: field 1 (the resource or scope, which
 * may follow the spans on the wire), field 2 (repeated), field 3 (schema_url,
 * not stored). The positions of fields 1 and 2, after their tags; the reader
 * is left at the message's end.
 */
function layout(r: Reader, limit: number, name: string): { end: number; heads: number[]; items: number[] } {
  const end = r.lenEnd(limit);
  const heads: number[] = [];
  const items: number[] = [];
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 0x0a || tag === 0x12) {
      (tag === 0x0a ? heads : items).push(r.pos);
      r.pos = r.lenEnd(end);
    } else if (tag === 0x1a) r.pos = r.lenEnd(end);
    else r.other(tag, CONTAINER_FIELDS, end, name);
  }
  r.expectEnd(end, name);
  return { end, heads, items };
}

function resourceSpans(r: Reader, limit: number, c: TraceColumns): void {
  const { end, heads, items } = layout(r, limit, 'ResourceSpans');
  const resource = emptyResource();
  for (const at of heads) {
    r.pos = at;
    readResource(r, end, resource);
  }
  const svc = encodeStr(serviceName(resource.attributes));
  const rAttrs = encodeMap(resource.attributes);
  for (const at of items) {
    r.pos = at;
    scopeSpans(r, end, c, svc, rAttrs);
  }
  r.pos = end;
}

function scopeSpans(r: Reader, limit: number, c: TraceColumns, svc: Uint8Array, rAttrs: EncodedMap): void {
  const { end, heads, items } = layout(r, limit, 'ScopeSpans');
  const scope = emptyScope();
  for (const at of heads) {
    r.pos = at;
    readScope(r, end, scope);
  }
  const sName = encodeStr(scope.name);
  const sVersion = encodeStr(scope.version);
  for (const at of items) {
    r.pos = at;
    span(r, end, c, svc, rAttrs, sName, sVersion);
  }
  r.pos = end;
}

/** A string field's bytes into a String column (positions from `stringAt`; -1 = absent: ''). */
function copyString(sink: Sink, buf: Uint8Array, start: number, end: number): void {
  if (start < 0) {
    sink.varint(0);
    return;
  }
  sink.strBytes(buf, start, end);
}

/** An id field: '' when empty or all zeros (as the decoder reads it), else hex. */
function copyId(c: TraceColumns, sink: Sink, buf: Uint8Array, start: number, end: number): void {
  let zero = true;
  for (let k = start; k < end; k++) {
    if (buf[k] !== 0) {
      zero = false;
      break;
    }
  }
  if (start < 0 || zero) sink.varint(0);
  else c.hexId(sink, buf, start, end);
}

function checkId(r: Reader, start: number, end: number, size: number, what: string): void {
  if (end !== start && end - start !== size) r.fail(`${what} must be ${size} bytes, got ${end - start}`);
}

function fixed32At(buf: Uint8Array, p: number): number {
  return (buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16) | (buf[p + 3]! << 24)) >>> 0;
}

/**
 * One KeyValue into a Map column: a string value is copied as its bytes; any
 * other value (or a KeyValue this fast path does not expect) is decoded and
 * stringified as the record path does.
 */
function attribute(r: Reader, limit: number, map: MapColumn): void {
  const at = r.pos;
  const end = r.lenEnd(limit);
  const buf = r.buf;
  // Fast path: key (field 1), then value (field 2) holding one string_value, nothing after.
  if (r.pos < end && buf[r.pos] === 0x0a) {
    r.pos++;
    const kEnd = r.lenEnd(end);
    const kStart = r.pos;
    r.pos = kEnd;
    if (r.pos < end && buf[r.pos] === 0x12) {
      r.pos++;
      const vEnd = r.lenEnd(end);
      if (vEnd === end && r.pos < vEnd && buf[r.pos] === 0x0a) {
        r.pos++;
        const sEnd = r.lenEnd(vEnd);
        if (sEnd === vEnd) {
          map.keys.strBytes(buf, kStart, kEnd);
          map.values.strBytes(buf, r.pos, sEnd);
          r.pos = end;
          return;
        }
      }
    }
  }
  r.pos = at;
  const kv = readKeyValue(r, limit);
  const v = kv.value;
  map.keys.str(kv.key);
  map.values.str(typeof v === 'string' ? v : typeof v === 'bigint' ? v.toString() : asString(v));
}

function span(r: Reader, limit: number, c: TraceColumns, svc: Uint8Array, rAttrs: EncodedMap, sName: Uint8Array, sVersion: Uint8Array): void {
  const end = r.lenEnd(limit);
  const buf = r.buf;
  let traceId = -1;
  let traceIdEnd = -1;
  let spanId = -1;
  let spanIdEnd = -1;
  let parentId = -1;
  let parentIdEnd = -1;
  let traceState = -1;
  let traceStateEnd = -1;
  let name = -1;
  let nameEnd = -1;
  let kind = 0;
  let start = -1;
  let finish = -1;
  let statusCode = 0;
  let statusMsg = -1;
  let statusMsgEnd = -1;
  let attrs = 0;
  const spanAttrs = c.spanAttrs;
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 0x0a: traceIdEnd = r.lenEnd(end); traceId = r.pos; r.pos = traceIdEnd; checkId(r, traceId, traceIdEnd, 16, 'Span.trace_id'); break;
      case 0x12: spanIdEnd = r.lenEnd(end); spanId = r.pos; r.pos = spanIdEnd; checkId(r, spanId, spanIdEnd, 8, 'Span.span_id'); break;
      case 0x1a: traceStateEnd = r.lenEnd(end); traceState = r.pos; r.pos = traceStateEnd; break;
      case 0x22: parentIdEnd = r.lenEnd(end); parentId = r.pos; r.pos = parentIdEnd; checkId(r, parentId, parentIdEnd, 8, 'Span.parent_span_id'); break;
      case 0x2a: nameEnd = r.lenEnd(end); name = r.pos; r.pos = nameEnd; break;
      case 0x30: kind = r.uint32() | 0; break;
      case 0x39: start = r.pos; r.skip(WT_I64, end); break;
      case 0x41: finish = r.pos; r.skip(WT_I64, end); break;
      case 0x4a: attribute(r, end, spanAttrs); attrs++; break;
      case 0x5a: c.addEvent(readEvent(r, end)); break;
      case 0x6a: c.addLink(readLink(r, end)); break;
      case 0x7a: {
        // Status, merged as the decoder merges a repeated field.
        const sEnd = r.lenEnd(end);
        while (r.pos < sEnd) {
          const t = r.uint32();
          if (t === 0x12) {
            statusMsgEnd = r.lenEnd(sEnd);
            statusMsg = r.pos;
            r.pos = statusMsgEnd;
          } else if (t === 0x18) statusCode = r.uint32() | 0;
          else r.other(t, STATUS_FIELDS, sEnd, 'Status');
        }
        r.expectEnd(sEnd, 'Status');
        break;
      }
      case 0x50: case 0x60: case 0x70: r.uint32(); break; // dropped counts
      case 0x85: r.skip(WT_I32, end); break; // flags
      default: r.other(tag, SPAN_FIELDS, end, 'Span');
    }
  }
  r.expectEnd(end, 'Span');
  c.times(
    start < 0 ? 0 : fixed32At(buf, start), start < 0 ? 0 : fixed32At(buf, start + 4),
    finish < 0 ? 0 : fixed32At(buf, finish), finish < 0 ? 0 : fixed32At(buf, finish + 4),
  );
  copyId(c, c.traceId, buf, traceId, traceIdEnd);
  copyId(c, c.spanId, buf, spanId, spanIdEnd);
  copyId(c, c.parentId, buf, parentId, parentIdEnd);
  copyString(c.traceState, buf, traceState, traceStateEnd);
  copyString(c.name, buf, name, nameEnd);
  c.kind.str(spanKindName(kind));
  c.service.raw(svc);
  c.resAttrs.addEncoded(rAttrs);
  c.scopeName.raw(sName);
  c.scopeVersion.raw(sVersion);
  spanAttrs.offsets.push(attrs);
  c.statusCode.str(statusCodeName(statusCode));
  copyString(c.statusMsg, buf, statusMsg, statusMsgEnd);
  c.endRow();
}
