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
import { emptyResource, emptyScope, type AnyValue, type LogPatch } from '../../core/model.ts';
import { readAnyValue, readKeyValue, readResource, readScope } from '../../core/otlp/common-proto.ts';
import { Reader, WT_I32, WT_I64 } from '../../core/otlp/protowire.ts';
import { fixed32At } from '../../core/otlp/wire-common.ts';
import {
  AnyValueTag, ExportLogsServiceRequestTag, ExportTraceServiceRequestTag, KeyValueTag, LogRecordTag,
  ResourceSpansTag, SpanTag, StatusTag, otlpKnown,
} from '../../core/otlp/wire-fields.gen.ts';
import { sameBytes } from '../../core/otlp/log-view.ts';
import { readEvent, readLink } from '../../core/otlp/traces-proto.ts';
import { asString } from '../../core/otlp/anyvalue.ts';
import { encodeMap, encodeStr, LogColumns, serviceName, Sink, TraceColumns, writeHexId, type EncodedMap, type LogRowHook, type MapColumn, type NativeBlock } from './native.ts';
import { spanKindName, statusCodeName } from './rows.ts';
import { walkAll, type PartWalk } from '../../core/yield.ts';

/** Rows of `parts` (together holding `rows` spans) as one Native block. */
export function encodeTracesNativeProto(parts: readonly Uint8Array[], rows: number): NativeBlock {
  return walkAll(tracesNativeWalk(parts, rows));
}

/**
 * encodeTracesNativeProto part by part (core/yield.ts): every part's rows
 * go into the same columns, so it is the same one block, byte for byte.
 */
export function tracesNativeWalk(parts: readonly Uint8Array[], rows: number): PartWalk<NativeBlock> {
  const c = new TraceColumns(rows);
  const part = (k: number): void => {
    const r = new Reader(parts[k]!);
    const end = r.len;
    while (r.pos < end) {
      const tag = r.uint32();
      if (tag === ExportTraceServiceRequestTag.resource_spans) resourceSpans(r, end, c);
      else r.other(tag, otlpKnown.ExportTraceServiceRequest, end, 'ExportTraceServiceRequest');
    }
  };
  const finish = (): NativeBlock => {
    if (c.rows !== rows) throw new Error(`the payload holds ${c.rows} spans, not ${rows}`);
    return c.block();
  };
  return { parts: parts.length, part, finish };
}

/**
 * ResourceSpans and ScopeSpans alike (and their logs twins: the four have the
 * same three tags, core/otlp/wire-fields.test.ts): the resource or scope (which
 * may follow the spans on the wire), the repeated children, and schema_url (not
 * stored). The positions of the first two, after their tags; the reader is left
 * at the message's end.
 */
function layout(r: Reader, limit: number, name: string): { end: number; heads: number[]; items: number[]; schema: number } {
  const end = r.lenEnd(limit);
  const heads: number[] = [];
  const items: number[] = [];
  let schema = -1;
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === ResourceSpansTag.resource || tag === ResourceSpansTag.scope_spans) {
      (tag === ResourceSpansTag.resource ? heads : items).push(r.pos);
      r.pos = r.lenEnd(end);
    } else if (tag === ResourceSpansTag.schema_url) {
      schema = r.pos;
      r.pos = r.lenEnd(end);
    } else r.other(tag, otlpKnown.ResourceSpans, end, name);
  }
  r.expectEnd(end, name);
  return { end, heads, items, schema };
}

/** The schema_url `layout` found (its last occurrence, as the decoder keeps), as a String value. */
function schemaOf(r: Reader, at: number, limit: number): Uint8Array {
  if (at < 0) return EMPTY_STR;
  r.pos = at;
  const end = r.lenEnd(limit);
  const out = new Sink(end - r.pos + 5);
  out.strBytes(r.buf, r.pos, end);
  return Uint8Array.from(out.data);
}

const EMPTY_STR = Uint8Array.of(0);

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
function copyId(sink: Sink, buf: Uint8Array, start: number, end: number): void {
  let zero = true;
  for (let k = start; k < end; k++) {
    if (buf[k] !== 0) {
      zero = false;
      break;
    }
  }
  if (start < 0 || zero) sink.varint(0);
  else writeHexId(sink, buf, start, end);
}

function checkId(r: Reader, start: number, end: number, size: number, what: string): void {
  if (end !== start && end - start !== size) r.fail(`${what} must be ${size} bytes, got ${end - start}`);
}

/**
 * One KeyValue into a Map column: a string value is copied as its bytes; any
 * other value (or a KeyValue this fast path does not expect) is decoded and
 * stringified as the record path does. With a log record's patch, the first
 * attribute of a key the patch sets takes the patch's value instead (and the
 * patch attribute is marked in `used`), as setAttr would have set it.
 */
function attribute(r: Reader, limit: number, map: MapColumn, patch?: LogPatch, used?: Uint8Array, pkeys?: PatchKeys): void {
  const at = r.pos;
  const end = r.lenEnd(limit);
  const buf = r.buf;
  // Fast path: key, then value holding one string_value, nothing after.
  if (r.pos < end && buf[r.pos] === KeyValueTag.key) {
    r.pos++;
    const kEnd = r.lenEnd(end);
    const kStart = r.pos;
    r.pos = kEnd;
    if (r.pos < end && buf[r.pos] === KeyValueTag.value) {
      r.pos++;
      const vEnd = r.lenEnd(end);
      if (vEnd === end && r.pos < vEnd) {
        const vTag = buf[r.pos];
        if (vTag === AnyValueTag.string_value) {
          // A string value: its bytes.
          r.pos++;
          const sEnd = r.lenEnd(vEnd);
          if (sEnd === vEnd) {
            const j = patch ? patchedKey(pkeys!, used!, buf, kStart, kEnd) : -1;
            map.keys.strBytes(buf, kStart, kEnd);
            if (j < 0) map.values.strBytes(buf, r.pos, sEnd);
            else map.values.str(valueText(patch!.attributes[j]!.value));
            r.pos = end;
            return;
          }
        } else if (vTag === AnyValueTag.int_value) {
          // An int value below 2^53 (a status code, a byte count): its decimal text, no bigint.
          r.pos++;
          const lo = r.varint64();
          const hi = r.hi;
          if (r.pos === vEnd && hi < 0x200000) {
            const j = patch ? patchedKey(pkeys!, used!, buf, kStart, kEnd) : -1;
            map.keys.strBytes(buf, kStart, kEnd);
            map.values.str(j < 0 ? String(hi * 4294967296 + lo) : valueText(patch!.attributes[j]!.value));
            r.pos = end;
            return;
          }
        }
      }
    }
  }
  r.pos = at;
  const kv = readKeyValue(r, limit);
  map.keys.str(kv.key);
  let j = -1;
  if (patch) {
    const attrs = patch.attributes;
    for (let k = 0; k < attrs.length && j < 0; k++) if (!used![k] && attrs[k]!.key === kv.key) j = k;
    if (j >= 0) used![j] = 1;
  }
  map.values.str(valueText(j < 0 ? kv.value : patch!.attributes[j]!.value));
}

/** An attribute value as the Map column holds it (the Collector's AsString). */
function valueText(v: AnyValue): string {
  return typeof v === 'string' ? v : typeof v === 'bigint' ? v.toString() : asString(v);
}

/** UTF-8 bytes of patch keys (a handful of names, the same on every record), by key and by a patch's shared key list. */
const patchKeys = new Map<string, Buffer>();
const patchKeyLists = new WeakMap<readonly string[], PatchKeys>();

/** A patch's keys as bytes, and which bytes they start with (most attributes of a record are no patch key: one lookup says so). */
type PatchKeys = Buffer[] & { first?: Uint8Array };

function keyBytes(k: string): Buffer {
  let b = patchKeys.get(k);
  if (!b) {
    if (patchKeys.size >= 256) patchKeys.clear();
    patchKeys.set(k, (b = Buffer.from(k, 'utf8')));
  }
  return b;
}

/** The UTF-8 bytes of a patch's keys, in order. */
function keysOfPatch(patch: LogPatch): PatchKeys {
  const shared = patch.keys;
  if (!shared) return patch.attributes.map((kv) => keyBytes(kv.key));
  let list = patchKeyLists.get(shared);
  if (!list) {
    list = shared.map(keyBytes) as PatchKeys;
    const first = new Uint8Array(256);
    for (const k of list) if (k.length) first[k[0]!] = 1;
    if (list.every((k) => k.length > 0)) list.first = first; // an empty key would start with no byte
    patchKeyLists.set(shared, list);
  }
  return list;
}

/** The patch key not used yet that is `buf[start, end)` (marked used), or -1. */
function patchedKey(keys: PatchKeys, used: Uint8Array, buf: Uint8Array, start: number, end: number): number {
  if (keys.first && (start === end || !keys.first[buf[start]!])) return -1;
  for (let j = 0; j < keys.length; j++) {
    if (!used[j] && sameBytes(keys[j]!, buf, start, end)) {
      used[j] = 1;
      return j;
    }
  }
  return -1;
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
      case SpanTag.trace_id: traceIdEnd = r.lenEnd(end); traceId = r.pos; r.pos = traceIdEnd; checkId(r, traceId, traceIdEnd, 16, 'Span.trace_id'); break;
      case SpanTag.span_id: spanIdEnd = r.lenEnd(end); spanId = r.pos; r.pos = spanIdEnd; checkId(r, spanId, spanIdEnd, 8, 'Span.span_id'); break;
      case SpanTag.trace_state: traceStateEnd = r.lenEnd(end); traceState = r.pos; r.pos = traceStateEnd; break;
      case SpanTag.parent_span_id: parentIdEnd = r.lenEnd(end); parentId = r.pos; r.pos = parentIdEnd; checkId(r, parentId, parentIdEnd, 8, 'Span.parent_span_id'); break;
      case SpanTag.name: nameEnd = r.lenEnd(end); name = r.pos; r.pos = nameEnd; break;
      case SpanTag.kind: kind = r.uint32() | 0; break;
      case SpanTag.start_time_unix_nano: start = r.pos; r.skip(WT_I64, end); break;
      case SpanTag.end_time_unix_nano: finish = r.pos; r.skip(WT_I64, end); break;
      case SpanTag.attributes: attribute(r, end, spanAttrs); attrs++; break;
      case SpanTag.events: c.addEvent(readEvent(r, end)); break;
      case SpanTag.links: c.addLink(readLink(r, end)); break;
      case SpanTag.status: {
        // Status, merged as the decoder merges a repeated field.
        const sEnd = r.lenEnd(end);
        while (r.pos < sEnd) {
          const t = r.uint32();
          if (t === StatusTag.message) {
            statusMsgEnd = r.lenEnd(sEnd);
            statusMsg = r.pos;
            r.pos = statusMsgEnd;
          } else if (t === StatusTag.code) statusCode = r.uint32() | 0;
          else r.other(t, otlpKnown.Status, sEnd, 'Status');
        }
        r.expectEnd(sEnd, 'Status');
        break;
      }
      case SpanTag.dropped_attributes_count: case SpanTag.dropped_events_count: case SpanTag.dropped_links_count: r.uint32(); break;
      case SpanTag.flags: r.skip(WT_I32, end); break;
      default: r.other(tag, otlpKnown.Span, end, 'Span');
    }
  }
  r.expectEnd(end, 'Span');
  c.times(
    start < 0 ? 0 : fixed32At(buf, start), start < 0 ? 0 : fixed32At(buf, start + 4),
    finish < 0 ? 0 : fixed32At(buf, finish), finish < 0 ? 0 : fixed32At(buf, finish + 4),
  );
  copyId(c.traceId, buf, traceId, traceIdEnd);
  copyId(c.spanId, buf, spanId, spanIdEnd);
  copyId(c.parentId, buf, parentId, parentIdEnd);
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

// ---------------------------------------------------------------- logs

/** Where the walk is: the next record's ordinal, for its patch. */
interface LogWalk {
  ordinal: number;
  readonly hook: LogRowHook | undefined;
  readonly patches: readonly (LogPatch | undefined)[] | undefined;
  used: Uint8Array;
}

/**
 * `otel_logs` rows of `parts` (ExportLogsServiceRequest bytes, together
 * holding `rows` records) as one Native block, with `patches` (core/payload.ts
 * Payload.patch) applied as they would be to the decoded records.
 */
export function encodeLogsNativeProto(parts: readonly Uint8Array[], rows: number, patches?: readonly (LogPatch | undefined)[]): NativeBlock {
  return walkAll(logsNativeWalk(parts, rows, patches));
}

/**
 * encodeLogsNativeProto part by part (core/yield.ts): the ordinal of the
 * patches runs across the parts and every part's rows go into the same
 * columns, so it is the same one block, byte for byte.
 */
export function logsNativeWalk(parts: readonly Uint8Array[], rows: number, patches?: readonly (LogPatch | undefined)[]): PartWalk<NativeBlock> {
  const w = logsColumnsWalk(parts, rows, patches);
  return { parts: w.parts, part: w.part, finish: () => w.finish().block() };
}

/** logsNativeWalk's columns, before they become a block; `hook` is told about the rows it covers. */
export function logsColumnsWalk(parts: readonly Uint8Array[], rows: number, patches?: readonly (LogPatch | undefined)[], hook?: LogRowHook): PartWalk<LogColumns> {
  const c = new LogColumns(rows);
  const walk: LogWalk = { ordinal: 0, patches, used: new Uint8Array(16), hook };
  const part = (k: number): void => {
    const r = new Reader(parts[k]!);
    const end = r.len;
    while (r.pos < end) {
      const tag = r.uint32();
      if (tag === ExportLogsServiceRequestTag.resource_logs) resourceLogs(r, end, c, walk);
      else r.other(tag, otlpKnown.ExportLogsServiceRequest, end, 'ExportLogsServiceRequest');
    }
  };
  const finish = (): LogColumns => {
    if (c.rows !== rows) throw new Error(`the payload holds ${c.rows} log records, not ${rows}`);
    return c;
  };
  return { parts: parts.length, part, finish };
}

interface ResourceContext {
  svc: Uint8Array;
  /** The hook, when it covers this resource's rows. */
  told: LogRowHook | undefined;
  schema: Uint8Array;
  attrs: EncodedMap;
}

function resourceLogs(r: Reader, limit: number, c: LogColumns, walk: LogWalk): void {
  const { end, heads, items, schema } = layout(r, limit, 'ResourceLogs');
  const resource = emptyResource();
  for (const at of heads) {
    r.pos = at;
    readResource(r, end, resource);
  }
  const name = serviceName(resource.attributes);
  const told = walk.hook?.covers(name) ? walk.hook : undefined;
  const res: ResourceContext = { svc: encodeStr(name), told, schema: schemaOf(r, schema, end), attrs: encodeMap(resource.attributes) };
  for (const at of items) {
    r.pos = at;
    scopeLogs(r, end, c, res, walk);
  }
  r.pos = end;
}

function scopeLogs(r: Reader, limit: number, c: LogColumns, res: ResourceContext, walk: LogWalk): void {
  const { end, heads, items, schema } = layout(r, limit, 'ScopeLogs');
  const scope = emptyScope();
  for (const at of heads) {
    r.pos = at;
    readScope(r, end, scope);
  }
  const sSchema = schemaOf(r, schema, end);
  const sName = encodeStr(scope.name);
  const sVersion = encodeStr(scope.version);
  const sAttrs = encodeMap(scope.attributes);
  const told = res.told;
  for (const at of items) {
    r.pos = at;
    told?.begin(c);
    logRecord(r, end, c, walk);
    c.context(res.svc, res.schema, res.attrs, sSchema, sName, sVersion, sAttrs);
    c.rows++;
    told?.end(c);
  }
  r.pos = end;
}

/** One record's columns but the per-resource and per-scope ones; the caller ends the row. */
function logRecord(r: Reader, limit: number, c: LogColumns, walk: LogWalk): void {
  const end = r.lenEnd(limit);
  const buf = r.buf;
  const patch = walk.patches?.[walk.ordinal++];
  let used = walk.used;
  const pkeys = patch ? keysOfPatch(patch) : undefined;
  if (pkeys) {
    if (used.length < pkeys.length) walk.used = used = new Uint8Array(pkeys.length);
    used.fill(0, 0, pkeys.length);
  }
  let time = -1;
  let observed = -1;
  let severity = 0;
  let sevText = -1;
  let sevTextEnd = -1;
  let body = -1;
  let flags = 0;
  let traceId = -1;
  let traceIdEnd = -1;
  let spanId = -1;
  let spanIdEnd = -1;
  let eventName = -1;
  let eventNameEnd = -1;
  let attrs = 0;
  const map = c.logAttrs;
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case LogRecordTag.time_unix_nano: time = r.pos; r.skip(WT_I64, end); break;
      case LogRecordTag.severity_number: severity = r.uint32() | 0; break;
      case LogRecordTag.severity_text: sevTextEnd = r.lenEnd(end); sevText = r.pos; r.pos = sevTextEnd; break;
      case LogRecordTag.body: body = r.pos; r.pos = r.lenEnd(end); break;
      case LogRecordTag.attributes: attribute(r, end, map, patch, used, pkeys); attrs++; break;
      case LogRecordTag.dropped_attributes_count: r.uint32(); break;
      case LogRecordTag.flags: flags = r.fixed32(); break;
      case LogRecordTag.trace_id: traceIdEnd = r.lenEnd(end); traceId = r.pos; r.pos = traceIdEnd; checkId(r, traceId, traceIdEnd, 16, 'LogRecord.trace_id'); break;
      case LogRecordTag.span_id: spanIdEnd = r.lenEnd(end); spanId = r.pos; r.pos = spanIdEnd; checkId(r, spanId, spanIdEnd, 8, 'LogRecord.span_id'); break;
      case LogRecordTag.observed_time_unix_nano: observed = r.pos; r.skip(WT_I64, end); break;
      case LogRecordTag.event_name: eventNameEnd = r.lenEnd(end); eventName = r.pos; r.pos = eventNameEnd; break;
      default: r.other(tag, otlpKnown.LogRecord, end, 'LogRecord');
    }
  }
  r.expectEnd(end, 'LogRecord');
  if (patch) {
    // Keys the record did not have are appended, in the patch's order.
    const pa = patch.attributes;
    for (let j = 0; j < pa.length; j++) {
      if (used[j]) continue;
      map.keys.strBytes(pkeys![j]!, 0, pkeys![j]!.length);
      map.values.str(valueText(pa[j]!.value));
      attrs++;
    }
  }
  map.offsets.push(attrs);
  // Timestamp: the record's time, else its observed time (as the record path).
  let lo = time < 0 ? 0 : fixed32At(buf, time);
  let hi = time < 0 ? 0 : fixed32At(buf, time + 4);
  if (lo === 0 && hi === 0 && observed >= 0) {
    lo = fixed32At(buf, observed);
    hi = fixed32At(buf, observed + 4);
  }
  c.time(lo, hi);
  c.flagsAndSeverity(flags, severity);
  if (patch?.traceId !== undefined) c.traceId.str(patch.traceId);
  else copyId(c.traceId, buf, traceId, traceIdEnd);
  if (patch?.spanId !== undefined) c.spanId.str(patch.spanId);
  else copyId(c.spanId, buf, spanId, spanIdEnd);
  copyString(c.sevText, buf, sevText, sevTextEnd);
  logBody(r, body, end, c.body);
  copyString(c.eventName, buf, eventName, eventNameEnd);
  r.pos = end;
}

/** The Body column: a string_value copied as its bytes, any other value stringified as the record path does ('' when absent). */
function logBody(r: Reader, at: number, limit: number, sink: Sink): void {
  if (at < 0) {
    sink.varint(0);
    return;
  }
  const buf = r.buf;
  r.pos = at;
  const end = r.lenEnd(limit);
  if (r.pos < end && buf[r.pos] === AnyValueTag.string_value) {
    r.pos++;
    const sEnd = r.lenEnd(end);
    if (sEnd === end) {
      sink.strBytes(buf, r.pos, sEnd);
      return;
    }
  }
  r.pos = at;
  sink.str(valueText(readAnyValue(r, limit, 0)));
}
