/**
 * What correlate's index walk keeps of a held payload for the close of its
 * window, so the close reads it instead of walking the bytes again
 * (DESIGN.md, "Correlate walks a payload once"). One view per held payload,
 * dropped when the payload is passed on.
 *
 * Kept small on purpose (it lives through the window, ~10 s of traffic):
 * numbers in typed arrays, and references to strings and span contexts the
 * index holds anyway; no object per record.
 */
import { LITTLE_ENDIAN } from '../../core/otlp/wire-common.ts';
import type { SpanContext } from './trace-index.ts';

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

  /** The slots of a new record (its offset in `fields`), all -1 but the counters. */
  add(traceId: string): number {
    const at = this.count * LOG_SLOTS;
    if (at + LOG_SLOTS > this.fields.length) {
      const more = new Int32Array(this.fields.length * 2);
      more.set(this.fields);
      this.fields = more;
    }
    this.traceIds.push(traceId);
    this.count++;
    return at;
  }

  endPart(): void {
    this.partEnds.push(this.count);
  }
}

/**
 * The spans with a trace id of a traces payload in wire order: the context
 * the index made of each (name, ids, status, service), whether it has a
 * parent, and its start and end as fixed64 words, for the trace summary.
 */
export class SpansView {
  readonly spans: SpanContext[] = [];
  /** start lo, start hi, end lo, end hi per span; read back through `times` as bigints. */
  private words = new Uint32Array(4 * 64);
  times = new BigUint64Array(this.words.buffer);
  private parents = new Uint8Array(64);
  readonly partEnds: number[] = [];

  constructor(readonly parts: readonly Uint8Array[]) {}

  add(ctx: SpanContext, hasParent: boolean, startLo: number, startHi: number, endLo: number, endHi: number): void {
    const i = this.spans.length;
    if (4 * i + 4 > this.words.length) {
      const more = new Uint32Array(this.words.length * 2);
      more.set(this.words);
      this.words = more;
      this.times = new BigUint64Array(more.buffer);
      const p = new Uint8Array(this.parents.length * 2);
      p.set(this.parents);
      this.parents = p;
    }
    const w = this.words;
    const lo = LITTLE_ENDIAN ? 0 : 1;
    w[4 * i + lo] = startLo;
    w[4 * i + 1 - lo] = startHi;
    w[4 * i + 2 + lo] = endLo;
    w[4 * i + 3 - lo] = endHi;
    this.parents[i] = hasParent ? 1 : 0;
    this.spans.push(ctx);
  }

  hasParent(i: number): boolean {
    return this.parents[i] === 1;
  }

  endPart(): void {
    this.partEnds.push(this.spans.length);
  }
}
