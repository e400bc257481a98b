/**
 * Correlate over a traces payload that is still its request bytes
 * (core/payload.ts content.kind "bytes"): the same entries and span contexts
 * indexTraces (testdata/decoded.ts) builds from decoded records, and the
 * same trace summaries, read straight from the OTLP protobuf, so the payload
 * can wait out the window as bytes and be decoded once, when it leaves.
 * Holding ~10 s of decoded records cost the default pipeline a large share
 * of its CPU (the garbage collector marking and moving them;
 * docs/benchmarks-log.md, "The window as bytes"). Logs: peek-logs.ts.
 *
 * The bytes were validated when they arrived (core/otlp/scan.ts, or a queue
 * record's checksum over bytes validated before), so this walk only reads:
 * known fields are taken, everything else skipped. peek.test.ts checks that
 * it indexes exactly what the decoded path does.
 */
import type { AnyValue } from '../../core/model.ts';
import { sameBytes } from '../../core/otlp/log-view.ts';
import { walkAll, type PartWalk } from '../../core/yield.ts';
import { readAnyValue } from '../../core/otlp/common-proto.ts';
import { Reader, nextLenField as field } from '../../core/otlp/protowire.ts';
import { fixed32At } from '../../core/otlp/wire-common.ts';
import {
  ExportTraceServiceRequestTag, KeyValueTag, ResourceSpansTag, ResourceTag, ScopeSpansTag, SpanTag, StatusTag,
} from '../../core/otlp/wire-fields.gen.ts';
import { str } from '../../lib/mesh/fields.ts';
import type { SpanContext, TraceEntry, TraceIndex } from './trace-index.ts';
import type { SpansView } from './held-view.ts';
import { addSpanId, summaryPart, type SummaryPart } from './enrich.ts';

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

// The last trace id made into a string, and where its bytes lie, within the
// part being indexed: the spans of a trace come together, so the next one's
// id is usually the same bytes.
let lastTraceBuf: Uint8Array | undefined;
let lastTraceAt = -1;
let lastTraceLen = 0;
let lastTraceHex = '';

/** A span's trace id as `id` reads it, the previous span's string when the bytes are the same. */
function traceIdOf(r: Reader, end: number): string {
  const e = r.lenEnd(end);
  const start = r.pos;
  const buf = r.buf;
  r.pos = e;
  const n = e - start;
  if (n === 0) return '';
  if (buf === lastTraceBuf && n === lastTraceLen && buf.compare(buf, start, e, lastTraceAt, lastTraceAt + n) === 0) return lastTraceHex;
  const hex = buf.hexSlice(start, e);
  if (hex === ZERO_TRACE) return '';
  lastTraceBuf = buf;
  lastTraceAt = start;
  lastTraceLen = n;
  lastTraceHex = hex;
  return hex;
}


/** Whether the id field at the reader (a parent span id) has a byte other than zero; the reader moves past it. */
function nonZeroId(r: Reader, buf: Uint8Array, end: number): boolean {
  const e = r.lenEnd(end);
  let k = r.pos;
  while (k < e && buf[k] === 0) k++;
  r.pos = e;
  return k < e;
}

/** The spans of `parts` (ExportTraceServiceRequest bytes), indexed as indexTraces does. */
export function indexTracesBytes(parts: readonly Uint8Array[], index: TraceIndex, requestIdAttrs: readonly string[], now: number): Set<TraceEntry> {
  return walkAll(indexTracesWalk(parts, index, requestIdAttrs, now));
}

/**
 * indexTracesBytes part by part (core/yield.ts): the same entries and spans,
 * in the same order. With `view`, what the trace summary needs of each span
 * is kept there as well (held-view.ts), so the close does not walk again.
 */
export function indexTracesWalk(parts: readonly Uint8Array[], index: TraceIndex, requestIdAttrs: readonly string[], now: number, view?: SpansView): PartWalk<Set<TraceEntry>> {
  const ridKeys = requestIdAttrs.map((a) => Buffer.from(a, 'utf8'));
  const touched = new Set<TraceEntry>();
  let lastTrace = '';
  let entry: TraceEntry | undefined;
  const visit = (r: Reader, spEnd: number, service: string): void => {
    const ctx = span(r, spEnd, service, requestIdAttrs, ridKeys);
    const traceId = ctx.traceId;
    if (!traceId) return;
    if (traceId !== lastTrace || !entry) {
      entry = index.touch(traceId, now);
      lastTrace = traceId;
      touched.add(entry);
    }
    index.addSpan(entry, ctx, peeked.requestId);
    if (view) view.add(ctx, peeked.hasParent, peeked.startLo, peeked.startHi, peeked.endLo, peeked.endHi);
  };
  return {
    parts: parts.length,
    part: (k) => {
      eachSpanOf(parts[k]!, visit);
      lastTraceBuf = undefined; // within one part only: nothing pins or outlives its walk
      view?.endPart();
    },
    finish: () => touched,
  };
}

/** What span() read besides the context (one walk at a time: no object per span). */
const peeked = { requestId: '', hasParent: false, startLo: 0, startHi: 0, endLo: 0, endHi: 0 };

/** Moves the reader past a fixed64 (read later as its halves). */
function skipFixed64(r: Reader, end: number): void {
  if (r.pos + 8 > end) throw new Error('truncated fixed64');
  r.pos += 8;
}

/** floor((hi * 2^32 + lo) / 1000) without bigints while exact (2^32 = 4294967 * 1000 + 296). */
function microseconds(lo: number, hi: number): number {
  if (hi >= 2_000_000_000) return Number(((BigInt(hi) << 32n) | BigInt(lo)) / 1000n);
  return hi * 4294967 + Math.floor((hi * 296 + lo) / 1000);
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

/**
 * The context of the span at the reader (ending at `end`), as the decoder
 * reads its fields (the last one wins); its request id, parent and times go
 * to `peeked`. Times are read as 32-bit halves: no bigint per span.
 */
function span(r: Reader, end: number, service: string, requestIdAttrs: readonly string[], ridKeys: readonly Buffer[]): SpanContext {
  const buf = r.buf;
  let traceId = '';
  let spanId = '';
  let name = '';
  let kind = 0;
  let status = 0;
  let hasParent = false;
  let startAt = -1;
  let endAt = -1;
  // Per request-id attribute (in priority order): its first occurrence's value.
  let rids: AnyValue[] | undefined;
  let seen: boolean[] | undefined;
  while (r.pos < end) {
    const t = r.uint32();
    switch (t) {
      case SpanTag.trace_id: traceId = traceIdOf(r, end); break;
      case SpanTag.span_id: spanId = id(r, end, ZERO_SPAN); break;
      case SpanTag.parent_span_id: hasParent = nonZeroId(r, buf, end); break;
      case SpanTag.name: name = r.key(end); break; // names repeat: one string per name, not per span
      case SpanTag.kind: kind = r.uint32() | 0; break;
      case SpanTag.start_time_unix_nano: startAt = r.pos; skipFixed64(r, end); break;
      case SpanTag.end_time_unix_nano: endAt = r.pos; skipFixed64(r, end); break;
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
  const sLo = startAt < 0 ? 0 : fixed32At(buf, startAt);
  const sHi = startAt < 0 ? 0 : fixed32At(buf, startAt + 4);
  const eLo = endAt < 0 ? 0 : fixed32At(buf, endAt);
  const eHi = endAt < 0 ? 0 : fixed32At(buf, endAt + 4);
  peeked.requestId = requestId;
  peeked.hasParent = hasParent;
  peeked.startLo = sLo;
  peeked.startHi = sHi;
  peeked.endLo = eLo;
  peeked.endHi = eHi;
  // end - start when positive, as a double (rounded as Number(bigint) rounds: one rounding of the exact sum).
  const later = eHi > sHi || (eHi === sHi && eLo > sLo);
  return {
    traceId,
    spanId,
    name,
    kind,
    service,
    status,
    startUs: microseconds(sLo, sHi),
    durationNs: later ? (eHi - sHi) * 4294967296 + (eLo - sLo) : 0,
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
 * summarizeTracesWalk from what the index walk kept (held-view.ts) instead
 * of the bytes: the same summaries, part by part.
 */
export function summarizeTracesView(view: SpansView, out: Map<string, SummaryPart>): PartWalk<void> {
  const spans = view.spans;
  const part = (k: number): void => {
    const times = view.times;
    for (let i = k === 0 ? 0 : view.partEnds[k - 1]!, n = view.partEnds[k]!; i < n; i++) {
      const ctx = spans[i]!;
      addToSummary(out, ctx.traceId, ctx.spanId, ctx.status, ctx.service, times[2 * i]!, times[2 * i + 1]!, !view.hasParent(i), ctx.name);
    }
  };
  return { parts: view.partEnds.length, part, finish: () => undefined };
}

/** A span's contribution to its trace's summary. */
function addToSummary(out: Map<string, SummaryPart>, traceId: string, spanId: string, status: number, service: string, start: bigint, finish: bigint, root: boolean, name: string): void {
  const p = summaryPart(out, traceId);
  addSpanId(p, spanId, status === 2, service);
  if (start && (!p.startNs || start < p.startNs)) p.startNs = start;
  if (finish > p.endNs) p.endNs = finish;
  if (root && (!p.rootName || start < p.rootStartNs)) {
    p.rootService = service;
    p.rootName = name;
    p.rootStartNs = start;
  }
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
      case SpanTag.parent_span_id: hasParent = nonZeroId(r, buf, end); break;
      case SpanTag.name: nameEnd = r.lenEnd(end); nameAt = r.pos; r.pos = nameEnd; break;
      case SpanTag.start_time_unix_nano: start = r.fixed64(); break;
      case SpanTag.end_time_unix_nano: finish = r.fixed64(); break;
      case SpanTag.status: status = statusCode(r, end, status); break;
      default: r.skip(t & 7, end);
    }
  }
  if (!traceId) return;
  addToSummary(out, traceId, spanId, status, service, start, finish, !hasParent, hasParent || nameAt < 0 || nameAt === nameEnd ? '' : buf.utf8Slice(nameAt, nameEnd));
}
