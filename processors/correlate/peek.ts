/**
 * Indexing a payload that is still its request bytes (core/payload.ts
 * content.kind "bytes"): the same entries and span contexts indexTraces / indexLogs
 * (enrich.ts) build from decoded records, read straight from the OTLP
 * protobuf, so the payload can wait out the window as bytes and be decoded
 * once, when it leaves. Holding ~10 s of decoded records cost the default
 * pipeline a large share of its CPU (the garbage collector marking and
 * moving them; docs/benchmarks-log.md, "The window as bytes").
 *
 * The bytes were validated when they arrived (core/otlp/scan.ts, or a queue
 * record's checksum over bytes validated before), so this walk only reads:
 * known fields are taken, everything else skipped. peek.test.ts checks that
 * it indexes exactly what the decoded path does.
 */
import type { AnyValue, LogPatch } from '../../core/model.ts';
import { SpanKind } from '../../core/model.ts';
import { eachLogRecordOf, keyEnd, sameBytes, viewLogRecord } from '../../core/otlp/log-view.ts';
import { walkAll, type PartWalk } from '../../core/yield.ts';
import { readAnyValue, readKeyValue } from '../../core/otlp/common-proto.ts';
import { Reader } from '../../core/otlp/protowire.ts';
import { fixed32At } from '../../core/otlp/wire-common.ts';
import {
  AnyValueTag, ExportLogsServiceRequestTag, ExportTraceServiceRequestTag, KeyValueTag, LogRecordTag,
  ResourceLogsTag, ResourceSpansTag, ResourceTag, ScopeLogsTag, ScopeSpansTag, SpanTag, StatusTag,
} from '../../core/otlp/wire-fields.gen.ts';
import { accessKeys, readAccess, str } from '../../lib/mesh/fields.ts';
import type { AttributeMap } from '../../lib/mesh/attributes.ts';
import type { SpanContext, TraceEntry, TraceIndex } from './trace-index.ts';
import { addLogId, addSpanId, ContextPatch, logKeyBody, logKeyEnd, logKeyHead, summaryPart, type EnrichCounts, type SummaryPart } from './enrich.ts';

const ZERO_TRACE = '00000000000000000000000000000000';
const ZERO_SPAN = '0000000000000000';

/** An id field as the decoder reads it: lowercase hex, '' when empty or all zero. */
function id(r: Reader, end: number, zero: string): string {
  const e = r.lenEnd(end);
  const start = r.pos;
  r.pos = e;
  if (e === start) return '';
  const hex = r.buf.hexSlice(start, e);
  return hex === zero ? '' : hex;
}

/** Moves past fields other than length-delimited `tag` before `end`; returns the end of the next `tag` field (the reader at its body), or -1 at `end`. */
function field(r: Reader, end: number, tag: number): number {
  while (r.pos < end) {
    const t = r.uint32();
    if (t === tag) return r.lenEnd(end);
    r.skip(t & 7, end);
  }
  return -1;
}

/** Trace ids of the log records in `parts` (ExportLogsServiceRequest bytes), indexed as indexLogs does. */
export function indexLogsBytes(parts: readonly Uint8Array[], index: TraceIndex, now: number): Set<TraceEntry> {
  return walkAll(indexLogsWalk(parts, index, now));
}

/** indexLogsBytes part by part (core/yield.ts): the same entries, touched in the same order. */
export function indexLogsWalk(parts: readonly Uint8Array[], index: TraceIndex, now: number): PartWalk<Set<TraceEntry>> {
  const touched = new Set<TraceEntry>();
  // Consecutive records of one trace: compare bytes, make the id string once.
  let lastBuf: Uint8Array | undefined;
  let lastAt = -1;
  let last = '';
  const part = (k: number): void => {
    const p = parts[k]!;
    const r = new Reader(p);
    const buf = r.buf;
    const n = p.length;
    for (let rlEnd; (rlEnd = field(r, n, ExportLogsServiceRequestTag.resource_logs)) >= 0; ) {
      for (let slEnd; (slEnd = field(r, rlEnd, ResourceLogsTag.scope_logs)) >= 0; ) {
        for (let recEnd; (recEnd = field(r, slEnd, ScopeLogsTag.log_records)) >= 0; ) {
          // The record's trace id: the last trace_id field wins, as in the decoder.
          let at = -1;
          let len = 0;
          while (r.pos < recEnd) {
            const t3 = r.uint32();
            if (t3 === LogRecordTag.trace_id) {
              const e = r.lenEnd(recEnd);
              at = r.pos;
              len = e - at;
              r.pos = e;
            } else r.skip(t3 & 7, recEnd);
          }
          if (at < 0 || len === 0) continue;
          if (lastBuf === buf && lastAt >= 0 && buf.compare(buf, at, at + len, lastAt, lastAt + len) === 0) continue;
          const traceId = buf.hexSlice(at, at + len);
          if (traceId === ZERO_TRACE || traceId === last) continue;
          lastBuf = buf;
          lastAt = at;
          last = traceId;
          touched.add(index.touch(traceId, now));
        }
      }
    }
  };
  return { parts: parts.length, part, finish: () => touched };
}

interface PeekedSpan {
  traceId: string;
  ctx: SpanContext;
  requestId: string;
}

/** The spans of `parts` (ExportTraceServiceRequest bytes), indexed as indexTraces does. */
export function indexTracesBytes(parts: readonly Uint8Array[], index: TraceIndex, requestIdAttrs: readonly string[], now: number): Set<TraceEntry> {
  return walkAll(indexTracesWalk(parts, index, requestIdAttrs, now));
}

/** indexTracesBytes part by part (core/yield.ts): the same entries and spans, in the same order. */
export function indexTracesWalk(parts: readonly Uint8Array[], index: TraceIndex, requestIdAttrs: readonly string[], now: number): PartWalk<Set<TraceEntry>> {
  const ridKeys = requestIdAttrs.map((a) => Buffer.from(a, 'utf8'));
  const touched = new Set<TraceEntry>();
  let lastTrace = '';
  let entry: TraceEntry | undefined;
  const visit = (r: Reader, spEnd: number, service: string): void => {
    const sp = span(r, spEnd, service, requestIdAttrs, ridKeys);
    if (!sp.traceId) return;
    if (sp.traceId !== lastTrace || !entry) {
      entry = index.touch(sp.traceId, now);
      lastTrace = sp.traceId;
      touched.add(entry);
    }
    index.addSpan(entry, sp.ctx, sp.requestId);
  };
  return { parts: parts.length, part: (k) => eachSpanOf(parts[k]!, visit), finish: () => touched };
}

const NOT_IT = Symbol('not this key');

/** A Status message's code (merged as the decoder merges: `code` stays unless the message sets it). */
function statusCode(r: Reader, end: number, code: number): number {
  const stEnd = r.lenEnd(end);
  while (r.pos < stEnd) {
    const t = r.uint32();
    if (t === StatusTag.code) code = r.uint32() | 0;
    else r.skip(t & 7, stEnd);
  }
  return code;
}

/** The index of the first of `keys` equal to bytes `start`..`end` of `buf`, or -1. */
function keyIndex(buf: Uint8Array, start: number, end: number, keys: readonly Buffer[]): number {
  for (let j = 0; j < keys.length; j++) if (sameBytes(keys[j]!, buf, start, end)) return j;
  return -1;
}

/** A KeyValue's value if its key is `key` (the last value field wins, as in the decoder), else NOT_IT. */
function keyValue(r: Reader, end: number, key: string): AnyValue | typeof NOT_IT {
  let k = '';
  let valueAt = -1;
  while (r.pos < end) {
    const t = r.uint32();
    if (t === KeyValueTag.key) k = r.key(end);
    else if (t === KeyValueTag.value) {
      valueAt = r.pos;
      r.pos = r.lenEnd(end);
    } else r.skip(t & 7, end);
  }
  if (k !== key) return NOT_IT;
  if (valueAt < 0) return undefined;
  const back = r.pos;
  r.pos = valueAt;
  const v = readAnyValue(r, end, 0);
  r.pos = back;
  return v;
}

function span(r: Reader, end: number, service: string, requestIdAttrs: readonly string[], ridKeys: readonly Buffer[]): PeekedSpan {
  let traceId = '';
  let spanId = '';
  let name = '';
  let kind = 0;
  let status = 0;
  let start = 0n;
  let finish = 0n;
  // Per request-id attribute (in priority order): its first occurrence's value.
  let rids: AnyValue[] | undefined;
  let seen: boolean[] | undefined;
  while (r.pos < end) {
    const t = r.uint32();
    switch (t) {
      case SpanTag.trace_id: traceId = id(r, end, ZERO_TRACE); break;
      case SpanTag.span_id: spanId = id(r, end, ZERO_SPAN); break;
      case SpanTag.name: name = r.key(end); break; // names repeat: one string per name, not per span
      case SpanTag.kind: kind = r.uint32() | 0; break;
      case SpanTag.start_time_unix_nano: start = r.fixed64(); break;
      case SpanTag.end_time_unix_nano: finish = r.fixed64(); break;
      case SpanTag.attributes: {
        const kvEnd = r.lenEnd(end);
        const at = r.pos;
        // Which request-id attribute the key is (the last key field wins), by its bytes: no string per key.
        let i = -1;
        while (r.pos < kvEnd) {
          const tk = r.uint32();
          if (tk === KeyValueTag.key) {
            const kEnd = r.lenEnd(kvEnd);
            i = keyIndex(r.buf, r.pos, kEnd, ridKeys);
            r.pos = kEnd;
          } else r.skip(tk & 7, kvEnd);
        }
        if (i >= 0 && !seen?.[i]) {
          r.pos = at;
          const v = keyValue(r, kvEnd, requestIdAttrs[i]!);
          (seen ??= [])[i] = true;
          (rids ??= [])[i] = v === NOT_IT ? undefined : v;
        }
        r.pos = kvEnd;
        break;
      }
      case SpanTag.status: status = statusCode(r, end, status); break;
      default: r.skip(t & 7, end);
    }
  }
  let requestId = '';
  if (rids) {
    for (let i = 0; i < requestIdAttrs.length; i++) {
      if ((requestId = str(rids[i]))) break;
    }
  }
  return {
    traceId,
    requestId,
    ctx: {
      traceId,
      spanId,
      name,
      kind,
      service,
      status,
      startUs: Number(start / 1000n),
      durationNs: finish > start ? Number(finish - start) : 0,
    },
  };
}

/** The service.name of the ResourceSpans the reader is in (ending at `rsEnd`): its first value, as getAttr finds it. */
function resourceService(r: Reader, rsEnd: number): string {
  const at = r.pos;
  let service: AnyValue;
  let seen = false;
  for (let resEnd; (resEnd = field(r, rsEnd, ResourceSpansTag.resource)) >= 0; ) {
    for (let kvEnd; (kvEnd = field(r, resEnd, ResourceTag.attributes)) >= 0; ) {
      const v = keyValue(r, kvEnd, 'service.name');
      if (v !== NOT_IT && !seen) {
        service = v;
        seen = true;
      }
    }
  }
  r.pos = at;
  return str(service);
}

/** The spans of `parts` (ExportTraceServiceRequest bytes) summarized per trace, as summarizeTraces does. */
export function summarizeTracesBytes(parts: readonly Uint8Array[], out: Map<string, SummaryPart>): void {
  walkAll(summarizeTracesWalk(parts, out));
}

/** summarizeTracesBytes part by part (core/yield.ts). */
export function summarizeTracesWalk(parts: readonly Uint8Array[], out: Map<string, SummaryPart>): PartWalk<void> {
  const visit = (r: Reader, spEnd: number, service: string): void => summarizeSpan(r, spEnd, service, out);
  return { parts: parts.length, part: (k) => eachSpanOf(parts[k]!, visit), finish: () => undefined };
}

/**
 * Calls `visit` with the reader at each Span of `part` (ending at `spEnd`)
 * and the service.name of its resource, read first: the resource may come
 * after its spans on the wire.
 */
function eachSpanOf(part: Uint8Array, visit: (r: Reader, spEnd: number, service: string) => void): void {
  const r = new Reader(part);
  const n = part.length;
  for (let rsEnd; (rsEnd = field(r, n, ExportTraceServiceRequestTag.resource_spans)) >= 0; ) {
    const service = resourceService(r, rsEnd);
    for (let ssEnd; (ssEnd = field(r, rsEnd, ResourceSpansTag.scope_spans)) >= 0; ) {
      for (let spEnd; (spEnd = field(r, ssEnd, ScopeSpansTag.spans)) >= 0; ) {
        visit(r, spEnd, service);
        r.pos = spEnd;
      }
    }
  }
}

function summarizeSpan(r: Reader, end: number, service: string, out: Map<string, SummaryPart>): void {
  const buf = r.buf;
  let traceId = '';
  let spanId = '';
  let hasParent = false;
  let nameAt = -1;
  let nameEnd = -1;
  let status = 0;
  let start = 0n;
  let finish = 0n;
  while (r.pos < end) {
    const t = r.uint32();
    switch (t) {
      case SpanTag.trace_id: traceId = id(r, end, ZERO_TRACE); break;
      case SpanTag.span_id: spanId = id(r, end, ZERO_SPAN); break;
      case SpanTag.parent_span_id: {
        const e = r.lenEnd(end);
        hasParent = false;
        for (let k = r.pos; k < e; k++) {
          if (buf[k] !== 0) {
            hasParent = true;
            break;
          }
        }
        r.pos = e;
        break;
      }
      case SpanTag.name: nameEnd = r.lenEnd(end); nameAt = r.pos; r.pos = nameEnd; break;
      case SpanTag.start_time_unix_nano: start = r.fixed64(); break;
      case SpanTag.end_time_unix_nano: finish = r.fixed64(); break;
      case SpanTag.status: status = statusCode(r, end, status); break;
      default: r.skip(t & 7, end);
    }
  }
  if (!traceId) return;
  const p = summaryPart(out, traceId);
  addSpanId(p, spanId, status === 2, service);
  if (start && (!p.startNs || start < p.startNs)) p.startNs = start;
  if (finish > p.endNs) p.endNs = finish;
  if (!hasParent) {
    const name = nameAt < 0 || nameAt === nameEnd ? '' : buf.utf8Slice(nameAt, nameEnd);
    if (!p.rootName || start < p.rootStartNs) {
      p.rootService = service;
      p.rootName = name;
      p.rootStartNs = start;
    }
  }
}

// ---------------------------------------------------------------- enriching logs from bytes

const PREFIX = Buffer.from('trailhouse.', 'utf8');

function hasPrefix(buf: Uint8Array, start: number, end: number): boolean {
  if (end - start < PREFIX.length) return false;
  for (let i = 0; i < PREFIX.length; i++) if (buf[start + i] !== PREFIX[i]) return false;
  return true;
}

/** An id field's hex ('' when absent, empty or all zero, as the decoder reads it). */
function idAt(buf: Reader["buf"], start: number, end: number, zero: string): string {
  if (start < 0 || end === start) return '';
  const hex = buf.hexSlice(start, end);
  return hex === zero ? '' : hex;
}

/**
 * enrichLogs (and summarizeLogs, into `summary`) over a logs payload that is
 * still its request bytes: the enrichment of record i is returned as
 * patches[i] (core/payload.ts Payload.patch; undefined when none of the records
 * was enriched or linked) instead of being written into a record. A record
 * is read as far as this needs: its ids, and for one without a trace id the
 * attributes that may carry its request id. peek.test.ts checks it against
 * the decoded path.
 */
export function enrichLogsBytes(
  parts: readonly Uint8Array[],
  index: TraceIndex,
  fields: AttributeMap,
  counts: EnrichCounts,
  summary?: Map<string, SummaryPart>,
): (LogPatch | undefined)[] | undefined {
  return walkAll(enrichLogsWalk(parts, index, fields, counts, summary));
}

/** enrichLogsBytes part by part (core/yield.ts): patches by ordinal across the parts, as one walk gives them. */
export function enrichLogsWalk(
  parts: readonly Uint8Array[],
  index: TraceIndex,
  fields: AttributeMap,
  counts: EnrichCounts,
  summary?: Map<string, SummaryPart>,
): PartWalk<(LogPatch | undefined)[] | undefined> {
  const patches: (LogPatch | undefined)[] = [];
  let any = false;
  let ordinal = 0;
  const keys = accessKeys(fields);
  // Keys of the record starting with `trailhouse.`: whether a patch replaces or appends.
  const own: string[] = [];
  const visit = (r: Reader, end: number): void => {
    const start = r.pos;
    const buf = r.buf;
    let time = -1;
    let observed = -1;
    let body = -1;
    let tid = -1;
    let tidEnd = -1;
    let sid = -1;
    let sidEnd = -1;
    let attrs = 0;
    own.length = 0;
    while (r.pos < end) {
      const tag = r.uint32();
      switch (tag) {
        case LogRecordTag.time_unix_nano: time = r.pos; r.pos += 8; break;
        case LogRecordTag.observed_time_unix_nano: observed = r.pos; r.pos += 8; break;
        case LogRecordTag.body: body = r.pos; r.pos = r.lenEnd(end); break;
        case LogRecordTag.attributes: {
          attrs++;
          const at = r.pos;
          const kvEnd = r.lenEnd(end);
          const kEnd = keyEnd(r, kvEnd);
          if (kEnd >= 0) {
            if (hasPrefix(buf, r.pos, kEnd)) own.push(buf.utf8Slice(r.pos, kEnd));
          } else {
            r.pos = at;
            const k = readKeyValue(r, end).key;
            if (k.startsWith('trailhouse.')) own.push(k);
          }
          r.pos = kvEnd;
          break;
        }
        case LogRecordTag.trace_id: tidEnd = r.lenEnd(end); tid = r.pos; r.pos = tidEnd; break;
        case LogRecordTag.span_id: sidEnd = r.lenEnd(end); sid = r.pos; r.pos = sidEnd; break;
        default: r.skip(tag & 7, end);
      }
    }
    let traceId = idAt(buf, tid, tidEnd, ZERO_TRACE);
    let spanId = idAt(buf, sid, sidEnd, ZERO_SPAN);
    let patch: ContextPatch | undefined;
    if (traceId) {
      const span = spanId ? index.span(traceId, spanId) : undefined;
      if (span) {
        patch = new ContextPatch(span);
        counts.enriched++;
      }
    } else {
      r.pos = start;
      const view = readAccess(viewLogRecord(r, end, keys), fields);
      const rid = view?.fields.request_id;
      if (rid) {
        const cluster = view.fields.upstream_cluster ?? '';
        const link = index.byRequest(rid, cluster.startsWith('outbound|') ? SpanKind.CLIENT : SpanKind.SERVER);
        if (link) {
          patch = new ContextPatch(link.span, link.traceId);
          traceId = link.traceId;
          spanId = link.span.spanId;
          counts.linked++;
        }
      }
    }
    patches.push(patch);
    if (patch) any = true;
    if (!summary || !traceId) return;
    // logKey of the enriched record.
    if (patch) for (const kv of patch.attributes) if (!own.includes(kv.key)) attrs++;
    let at = time;
    if (at < 0 || (fixed32At(buf, at) === 0 && fixed32At(buf, at + 4) === 0)) at = observed;
    let h = logKeyHead(at < 0 ? 0 : fixed32At(buf, at), at < 0 ? 0 : fixed32At(buf, at + 4), spanId);
    let bodyLength = 0;
    if (body >= 0) {
      r.pos = body;
      const bEnd = r.lenEnd(end);
      let text: string | undefined;
      if (r.pos < bEnd && buf[r.pos] === AnyValueTag.string_value) {
        r.pos++;
        const sEnd = r.lenEnd(bEnd);
        if (sEnd === bEnd) {
          // A string body: hashed from its bytes while they are ASCII (one byte, one UTF-16 unit).
          const s = r.pos;
          let ascii = true;
          for (let k = s; k < sEnd; k++) {
            if (buf[k]! >= 0x80) {
              ascii = false;
              break;
            }
          }
          if (ascii) {
            const n = Math.min(sEnd - s, 256);
            for (let k = 0; k < n; k++) h = Math.imul(h ^ buf[s + k]!, 0x01000193);
            bodyLength = sEnd - s;
          } else text = buf.utf8Slice(s, sEnd);
        }
      }
      if (text === undefined && bodyLength === 0) {
        r.pos = body;
        const v = readAnyValue(r, end, 0);
        text = typeof v === 'string' ? v : '';
      }
      if (text !== undefined) {
        h = logKeyBody(h, text);
        bodyLength = text.length;
      }
    }
    addLogId(summaryPart(summary, traceId), logKeyEnd(h, bodyLength, attrs));
  };
  return {
    parts: parts.length,
    part: (k) => {
      ordinal = eachLogRecordOf(parts[k]!, ordinal, visit);
    },
    finish: () => (any ? patches : undefined),
  };
}

