/**
 * Correlate over a logs payload that is still its request bytes: indexing
 * its trace ids when it arrives, and enriching and summarizing its records
 * when its window closes, as indexLogs / enrichLogs / summarizeLogs do over
 * decoded records (testdata/decoded.ts; peek.test.ts checks they agree).
 *
 * One walk: the records are read once into a LogRecordsView
 * (core/otlp/log-records-view.ts: the trace id and where the fields the close
 * needs are), by the audit classification before correlate or else by
 * indexing here, and indexing and the close read the view instead of walking
 * the bytes again.
 */
import type { LogPatch } from '../../core/model.ts';
import { SpanKind } from '../../core/model.ts';
import { keyEnd, viewLogRecord } from '../../core/otlp/log-view.ts';
import {
  LOG_SLOTS, L_ATTRS, L_BODY, L_OBSERVED, L_OWN, L_SPAN_ID, L_START, L_END, L_TIME, LogRecordsView, readLogsPart,
} from '../../core/otlp/log-records-view.ts';
import { walkAll, type PartWalk } from '../../core/yield.ts';
import { readAnyValue, readKeyValue } from '../../core/otlp/common-proto.ts';
import { Reader } from '../../core/otlp/protowire.ts';
import { fixed32At } from '../../core/otlp/wire-common.ts';
import { AnyValueTag, LogRecordTag } from '../../core/otlp/wire-fields.gen.ts';
import { accessKeys, readAccess } from '../../lib/mesh/fields.ts';
import type { AttributeMap } from '../../lib/mesh/attributes.ts';
import type { TraceEntry, TraceIndex } from './trace-index.ts';
import { addLogId, ContextPatch, logKeyBody, logKeyEnd, logKeyHead, summaryPart, type EnrichCounts, type SummaryPart } from './enrich.ts';

const ZERO_SPAN = '0000000000000000';
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

/** Trace ids of the log records in `parts` (ExportLogsServiceRequest bytes), indexed as indexLogs does. */
export function indexLogsBytes(parts: readonly Uint8Array[], index: TraceIndex, now: number): Set<TraceEntry> {
  return walkAll(indexLogsWalk(new LogRecordsView(parts), index, now));
}

/** indexLogsBytes part by part (core/yield.ts), from `view` (reading into it the parts it has not read) for the close (enrichLogsView). */
export function indexLogsWalk(view: LogRecordsView, index: TraceIndex, now: number): PartWalk<Set<TraceEntry>> {
  const touched = new Set<TraceEntry>();
  let last = '';
  const part = (k: number): void => {
    if (view.partEnds.length <= k) readLogsPart(view, k);
    const ids = view.traceIds;
    for (let i = k === 0 ? 0 : view.partEnds[k - 1]!, n = view.partEnds[k]!; i < n; i++) {
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
      if (view.partEnds.length <= k) readLogsPart(view, k);
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
