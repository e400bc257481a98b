/**
 * Correlate over a logs payload that is still its request bytes: indexing
 * its trace ids when it arrives, and enriching and summarizing its records
 * when its window closes, as indexLogs / enrichLogs / summarizeLogs do over
 * decoded records (testdata/decoded.ts; peek.test.ts checks they agree).
 *
 * One walk: indexing reads every record once into a LogRecordsView
 * (held-view.ts: the trace id and where the fields the close needs are),
 * and the close reads the view instead of walking the bytes again.
 */
import type { LogPatch } from '../../core/model.ts';
import { SpanKind } from '../../core/model.ts';
import { keyEnd, viewLogRecord } from '../../core/otlp/log-view.ts';
import { walkAll, type PartWalk } from '../../core/yield.ts';
import { readAnyValue, readKeyValue } from '../../core/otlp/common-proto.ts';
import { Reader } from '../../core/otlp/protowire.ts';
import { fixed32At } from '../../core/otlp/wire-common.ts';
import { AnyValueTag, ExportLogsServiceRequestTag, LogRecordTag, ResourceLogsTag, ScopeLogsTag } from '../../core/otlp/wire-fields.gen.ts';
import { accessKeys, readAccess } from '../../lib/mesh/fields.ts';
import type { AttributeMap } from '../../lib/mesh/attributes.ts';
import type { TraceEntry, TraceIndex } from './trace-index.ts';
import { addLogId, ContextPatch, logKeyBody, logKeyEnd, logKeyHead, summaryPart, type EnrichCounts, type SummaryPart } from './enrich.ts';
import { LOG_SLOTS, L_ATTRS, L_BODY, L_END, L_OBSERVED, L_OWN, L_SPAN_ID, L_START, L_TIME, LogRecordsView } from './held-view.ts';
import { field } from './peek.ts';

const ZERO_TRACE = '00000000000000000000000000000000';
const ZERO_SPAN = '0000000000000000';
/** The first byte of `trailhouse.`: a key starting with anything else is not one of ours. */
const T = 0x74;
const PREFIX = Buffer.from('trailhouse.', 'utf8');

function hasPrefix(buf: Uint8Array, start: number, end: number): boolean {
  if (end - start < PREFIX.length) return false;
  for (let i = 0; i < PREFIX.length; i++) if (buf[start + i] !== PREFIX[i]) return false;
  return true;
}

/** An id field's hex ('' when absent, empty or all zero, as the decoder reads it). */
function idAt(buf: Reader['buf'], start: number, end: number, zero: string): string {
  if (start < 0 || end === start) return '';
  const hex = buf.hexSlice(start, end);
  return hex === zero ? '' : hex;
}

/**
 * Reads the records of part `k` of `view` into it. Consecutive records of
 * one trace share one id string (compared as bytes first).
 */
function readPart(view: LogRecordsView, k: number): void {
  const p = view.parts[k]!;
  const r = new Reader(p);
  const buf = r.buf;
  const n = p.length;
  let lastAt = -1;
  let last = '';
  for (let rlEnd; (rlEnd = field(r, n, ExportLogsServiceRequestTag.resource_logs)) >= 0; ) {
    for (let slEnd; (slEnd = field(r, rlEnd, ResourceLogsTag.scope_logs)) >= 0; ) {
      for (let recEnd; (recEnd = field(r, slEnd, ScopeLogsTag.log_records)) >= 0; ) {
        const start = r.pos;
        // The last of a repeated field wins, as in the decoder.
        let tid = -1;
        let tidLen = 0;
        let time = -1;
        let observed = -1;
        let body = -1;
        let sid = -1;
        let attrs = 0;
        let own = 0;
        while (r.pos < recEnd) {
          const tag = r.uint32();
          switch (tag) {
            case LogRecordTag.time_unix_nano: time = r.pos; r.pos += 8; break;
            case LogRecordTag.observed_time_unix_nano: observed = r.pos; r.pos += 8; break;
            case LogRecordTag.body: body = r.pos; r.pos = r.lenEnd(recEnd); break;
            case LogRecordTag.attributes: {
              attrs++;
              const kvEnd = r.lenEnd(recEnd);
              if (own === 0) {
                // A key that may be `trailhouse.…`, or one written some other way: the close reads the keys (ownKeys).
                const kEnd = keyEnd(r, kvEnd);
                if (kEnd < 0 || (kEnd - r.pos >= PREFIX.length && buf[r.pos] === T)) own = 1;
              }
              r.pos = kvEnd;
              break;
            }
            case LogRecordTag.trace_id: {
              const e = r.lenEnd(recEnd);
              tid = r.pos;
              tidLen = e - tid;
              r.pos = e;
              break;
            }
            case LogRecordTag.span_id: sid = r.pos; r.pos = r.lenEnd(recEnd); break;
            default: r.skip(tag & 7, recEnd);
          }
        }
        if (r.pos > recEnd) throw new Error('log record field overruns its message');
        let traceId = '';
        if (tid >= 0 && tidLen > 0) {
          if (lastAt >= 0 && buf.compare(buf, tid, tid + tidLen, lastAt, lastAt + tidLen) === 0 && last.length === 2 * tidLen) traceId = last;
          else {
            const hex = buf.hexSlice(tid, tid + tidLen);
            if (hex !== ZERO_TRACE) {
              traceId = last = hex;
              lastAt = tid;
            }
          }
        }
        const at = view.add(traceId);
        const f = view.fields;
        f[at + L_START] = start;
        f[at + L_END] = recEnd;
        f[at + L_TIME] = time;
        f[at + L_OBSERVED] = observed;
        f[at + L_BODY] = body;
        f[at + L_SPAN_ID] = sid;
        f[at + L_ATTRS] = attrs;
        f[at + L_OWN] = own;
      }
    }
  }
  view.endPart();
}

/** Trace ids of the log records in `parts` (ExportLogsServiceRequest bytes), indexed as indexLogs does. */
export function indexLogsBytes(parts: readonly Uint8Array[], index: TraceIndex, now: number): Set<TraceEntry> {
  return walkAll(indexLogsWalk(new LogRecordsView(parts), index, now));
}

/** indexLogsBytes part by part (core/yield.ts), filling `view` for the close (enrichLogsView). */
export function indexLogsWalk(view: LogRecordsView, index: TraceIndex, now: number): PartWalk<Set<TraceEntry>> {
  const touched = new Set<TraceEntry>();
  let last = '';
  const part = (k: number): void => {
    const from = view.count;
    readPart(view, k);
    const ids = view.traceIds;
    for (let i = from; i < view.count; i++) {
      const traceId = ids[i]!;
      if (traceId === '' || traceId === last) continue;
      last = traceId;
      touched.add(index.touch(traceId, now));
    }
  };
  return { parts: view.parts.length, part, finish: () => touched };
}

/**
 * enrichLogs (and summarizeLogs, into `summary`) over a logs payload that is
 * still its request bytes: the enrichment of record i is returned as
 * patches[i] (core/payload.ts Payload.patch; undefined when none of the records
 * was enriched or linked) instead of being written into a record.
 */
export function enrichLogsBytes(
  parts: readonly Uint8Array[],
  index: TraceIndex,
  fields: AttributeMap,
  counts: EnrichCounts,
  summary?: Map<string, SummaryPart>,
): (LogPatch | undefined)[] | undefined {
  return walkAll(enrichLogsView(new LogRecordsView(parts), index, fields, counts, summary));
}

/**
 * enrichLogsBytes part by part (core/yield.ts) from `view`: what the index
 * walk read (indexLogsWalk), or, for the parts it has not read, read now.
 * Patches by ordinal across the parts, as one walk gives them. A record is
 * read further only where the view is not enough: the attributes that may
 * carry the request id of one without a trace id, the keys of one that may
 * already carry `trailhouse.` attributes, a body that is not an ASCII string.
 */
export function enrichLogsView(
  view: LogRecordsView,
  index: TraceIndex,
  fields: AttributeMap,
  counts: EnrichCounts,
  summary?: Map<string, SummaryPart>,
): PartWalk<(LogPatch | undefined)[] | undefined> {
  const patches: (LogPatch | undefined)[] = [];
  let any = false;
  const keys = accessKeys(fields);
  // Keys of the record starting with `trailhouse.`: whether a patch replaces or appends.
  const own: string[] = [];
  const visit = (r: Reader, i: number): void => {
    const f = view.fields;
    const at = i * LOG_SLOTS;
    const buf = r.buf;
    const start = f[at + L_START]!;
    const end = f[at + L_END]!;
    let traceId = view.traceIds[i]!;
    let spanId = '';
    let patch: ContextPatch | undefined;
    if (traceId) {
      const sid = f[at + L_SPAN_ID]!;
      if (sid >= 0) {
        r.pos = sid;
        const e = r.lenEnd(end);
        spanId = idAt(buf, r.pos, e, ZERO_SPAN);
      }
      const span = spanId ? index.span(traceId, spanId) : undefined;
      if (span) {
        patch = new ContextPatch(span);
        counts.enriched++;
      }
    } else {
      r.pos = start;
      const access = readAccess(viewLogRecord(r, end, keys), fields);
      const rid = access?.fields.request_id;
      if (rid) {
        const cluster = access.fields.upstream_cluster ?? '';
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
    let attrs = f[at + L_ATTRS]!;
    if (patch) {
      ownKeys(r, start, end, f[at + L_OWN] === 1, own);
      for (const kv of patch.attributes) if (!own.includes(kv.key)) attrs++;
    }
    const time = f[at + L_TIME]!;
    let t = time;
    if (t < 0 || (fixed32At(buf, t) === 0 && fixed32At(buf, t + 4) === 0)) t = f[at + L_OBSERVED]!;
    const h = logKeyHead(t < 0 ? 0 : fixed32At(buf, t), t < 0 ? 0 : fixed32At(buf, t + 4), spanId);
    const body = f[at + L_BODY]!;
    addLogId(summaryPart(summary, traceId), body < 0 ? logKeyEnd(h, 0, attrs) : bodyKey(r, body, end, h, attrs));
  };
  return {
    parts: view.parts.length,
    part: (k) => {
      if (view.partEnds.length <= k) readPart(view, k);
      const r = new Reader(view.parts[k]!);
      for (let i = k === 0 ? 0 : view.partEnds[k - 1]!, n = view.partEnds[k]!; i < n; i++) visit(r, i);
    },
    finish: () => (any ? patches : undefined),
  };
}

/** Into `own`: the record's attribute keys that start with `trailhouse.` (none unless `maybe`). */
function ownKeys(r: Reader, start: number, end: number, maybe: boolean, own: string[]): void {
  own.length = 0;
  if (!maybe) return;
  const buf = r.buf;
  r.pos = start;
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag !== LogRecordTag.attributes) {
      r.skip(tag & 7, end);
      continue;
    }
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
  }
}

/** logKey of a record with a body (its length prefix at `body`), from the hash `h` of its time and span id. */
function bodyKey(r: Reader, body: number, end: number, h: number, attrs: number): number {
  const buf = r.buf;
  let bodyLength = 0;
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
  return logKeyEnd(h, bodyLength, attrs);
}
