/**
 * Where the fields of each log record of a logs payload lie in its request
 * bytes, read by the first walk of the payload behind the queue (the audit
 * classification in `detect`, else correlate's index) and read again by the
 * walks after it instead of walking the bytes again (DESIGN.md, "A payload
 * is walked once behind the queue"): correlate's index takes the trace ids
 * from it, and its close the ids, times, body and attribute count.
 *
 * A view is kept for the parts array it describes (a WeakMap on the array:
 * parts are never changed in place, and a stage that rewrites bytes makes a
 * new array) until correlate's close forgets it. Kept small, as it lives through
 * the correlation window: numbers in one typed array, and the trace id
 * strings the trace index holds anyway; no object per record.
 */
import { Reader, nextLenField as field } from './protowire.ts';
import { keyEnd } from './log-view.ts';
import { ExportLogsServiceRequestTag, LogRecordTag, ResourceLogsTag, ScopeLogsTag } from './wire-fields.gen.ts';

/** Int32 slots per log record in LogRecordsView.fields. */
export const LOG_SLOTS = 8;
/** The record's first field and its end (offsets in its part). */
export const L_START = 0;
export const L_END = 1;
/** Where the last time_unix_nano / observed_time_unix_nano value starts (-1: none). */
export const L_TIME = 2;
export const L_OBSERVED = 3;
/** Where the last body / span_id field's length prefix starts (-1: none). */
export const L_BODY = 4;
export const L_SPAN_ID = 5;
/** How many attributes the record has. */
export const L_ATTRS = 6;
/** 1 when an attribute key may start with `trailhouse.` (or a key is written unusually): the close reads its keys. */
export const L_OWN = 7;

/**
 * The log records of a logs payload in order (ordinals across the parts):
 * each record's trace id as the index read it ('' when absent, empty or all
 * zero) and where its fields are.
 */
export class LogRecordsView {
  fields = new Int32Array(LOG_SLOTS * 64);
  readonly traceIds: string[] = [];
  /** Records before the end of each part walked so far. */
  readonly partEnds: number[] = [];
  count = 0;

  constructor(readonly parts: readonly Uint8Array[]) {}

  /** A record: its trace id and where its fields lie (the L_* slots, in order). */
  add(traceId: string, start: number, end: number, time: number, observed: number, body: number, spanId: number, attrs: number, own: number): void {
    const at = this.count * LOG_SLOTS;
    if (at + LOG_SLOTS > this.fields.length) {
      const more = new Int32Array(this.fields.length * 2);
      more.set(this.fields);
      this.fields = more;
    }
    const f = this.fields;
    f[at + L_START] = start;
    f[at + L_END] = end;
    f[at + L_TIME] = time;
    f[at + L_OBSERVED] = observed;
    f[at + L_BODY] = body;
    f[at + L_SPAN_ID] = spanId;
    f[at + L_ATTRS] = attrs;
    f[at + L_OWN] = own;
    this.traceIds.push(traceId);
    this.count++;
  }

  endPart(): void {
    this.partEnds.push(this.count);
  }
}


const views = new WeakMap<readonly Uint8Array[], LogRecordsView>();

/**
 * The view of `parts`, made now if no walk made one: every walk that reads
 * it fills the parts no walk has read yet, so two walks of one payload
 * taking turns (the classification yielding while correlate indexes) read
 * each part once between them. A walk reads part k only when k parts are
 * read (walks go in order, and a part is read in one go, never across a
 * yield), so the parts are read in order whichever walk reads them.
 */
export function logRecordsView(parts: readonly Uint8Array[]): LogRecordsView {
  let v = views.get(parts);
  if (v === undefined) views.set(parts, (v = new LogRecordsView(parts)));
  return v;
}

/** The view of `parts` if a walk made one, read as far as it is. */
export function logRecordsViewOf(parts: readonly Uint8Array[]): LogRecordsView | undefined {
  return views.get(parts);
}

/** Drops the view of `parts` (its last reader is done; the payload lives on). */
export function forgetLogRecordsView(parts: readonly Uint8Array[]): void {
  views.delete(parts);
}

const ZERO_TRACE = '00000000000000000000000000000000';
/** The first byte of `trailhouse.`, and its length: keys that may be ours. */
const T = 0x74;
const PREFIX_LENGTH = 'trailhouse.'.length;


/** Whether the KeyValue at the reader (its body, ending at `kvEnd`) may have a `trailhouse.` key: the flag L_OWN. The reader moves. */
export function mayBeOwnKey(r: Reader, kvEnd: number): boolean {
  const kEnd = keyEnd(r, kvEnd);
  return kEnd < 0 || (kEnd - r.pos >= PREFIX_LENGTH && r.buf[r.pos] === T);
}

/**
 * Reads the records of part `k` of `view` into it. Consecutive records of
 * one trace share one id string (compared as bytes first).
 */
export function readLogsPart(view: LogRecordsView, k: number): void {
  if (view.partEnds.length !== k) throw new Error(`log records view: part ${k} read out of order (${view.partEnds.length} read)`);
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
              // A key that may be `trailhouse.…`, or one written some other way: the close reads the keys.
              if (own === 0 && mayBeOwnKey(r, kvEnd)) own = 1;
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
        view.add(traceId, start, recEnd, time, observed, body, sid, attrs, own);
      }
    }
  }
  view.endPart();
}

