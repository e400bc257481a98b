/**
 * What correlate's index walk keeps of a held traces payload for the close
 * of its window, so the close reads it instead of walking the bytes again
 * (DESIGN.md, "A payload is walked once behind the queue"); logs have theirs
 * in core/otlp/log-records-view.ts. One view per held payload, dropped when
 * the payload is passed on.
 *
 * Kept small on purpose (it lives through the window, ~10 s of traffic):
 * numbers in typed arrays, and references to span contexts the index holds
 * anyway; no object per span.
 */
import { LITTLE_ENDIAN } from '../../core/otlp/wire-common.ts';
import type { SpanContext } from './trace-index.ts';

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
