/**
 * What correlate remembers about recent traces: per trace, the context of
 * each span (small: names and numbers, not the span), and the request ids
 * spans carried (Envoy's `guid:x-request-id`) to link logs that lack a
 * trace id. Entries live `wait` after their trace was last seen (so a log
 * arriving up to `wait` after its span still meets it) and at least as long
 * as a held payload refers to them.
 *
 * Entries are kept in recency order on a linked list through the entries
 * (touching one moves it to the end), so expiry and eviction both walk from
 * the front. Not the Map's own insertion order: a V8 Map leaves a hole for
 * every deleted entry until it is rebuilt, and finding its first live entry
 * walks the holes, which made each eviction at `max_traces` grow with the
 * number of traces deleted before it (docs/benchmarks-log.md, correlate).
 */
import { SpanKind } from '../../core/model.ts';

export interface SpanContext {
  /** Set by TraceIndex.addSpan: the trace it is indexed under. */
  traceId: string;
  spanId: string;
  name: string;
  kind: number;
  service: string;
  status: number;
  /** Microseconds since the epoch (a number: bigints are heap objects, and this is per span). */
  startUs: number;
  durationNs: number;
}

export interface TraceEntry {
  traceId: string;
  /**
   * Its spans (null until one is indexed: a trace seen only in logs has
   * none): an array while few, by id once many (SPANS_AS_MAP). Entries live
   * through the window, so the usual trace of a few spans should not cost a
   * Map. One span per id, the last indexed; in the order ids were first seen.
   */
  spans: SpanContext[] | Map<string, SpanContext> | null;
  /** Request ids its spans carried (null until one does). */
  requestIds: string[] | null;
  /** Held payloads that hold items of this trace (usually one to three; NO_PENDING when none): addPending, removePending. */
  pending: readonly object[];
  expires: number;
  /** Neighbours in recency order (older, newer); null at the ends. */
  older: TraceEntry | null;
  newer: TraceEntry | null;
}

export interface RequestLink {
  traceId: string;
  span: SpanContext;
}

/** Spans of one trace past which they are kept by id in a Map. */
const SPANS_AS_MAP = 8;

/** The pending list of an entry no payload holds (shared, never changed). */
export const NO_PENDING: readonly object[] = Object.freeze([]);

/** `held` holds items of `e`'s trace. */
export function addPending(e: TraceEntry, held: object): void {
  if (e.pending === NO_PENDING) e.pending = [held];
  else (e.pending as object[]).push(held);
}

/** `held` no longer holds items of `e`'s trace. */
export function removePending(e: TraceEntry, held: object): void {
  const p = e.pending as object[];
  const i = p.indexOf(held);
  if (i < 0) return;
  if (p.length === 1) e.pending = NO_PENDING;
  else p.splice(i, 1);
}

/** The spans of an entry, in the order their ids were first indexed. */
export function spansOf(e: TraceEntry): SpanContext[] {
  const s = e.spans;
  return s === null ? [] : Array.isArray(s) ? s.slice() : [...s.values()];
}

export class TraceIndex {
  readonly traces = new Map<string, TraceEntry>();
  /** Spans by the request id they carried: one span, or up to 16 (no array for the usual one). */
  private readonly byRequestId = new Map<string, SpanContext | SpanContext[]>();
  /** Least and most recently seen entries. */
  private head: TraceEntry | null = null;
  private tail: TraceEntry | null = null;

  constructor(private readonly ttlMs: number) {}

  get size(): number {
    return this.traces.size;
  }

  /** The entry for `traceId`, created or moved to the recent end. */
  touch(traceId: string, now: number): TraceEntry {
    let e = this.traces.get(traceId);
    if (e) this.unlink(e);
    else {
      e = { traceId, spans: null, requestIds: null, pending: NO_PENDING, expires: 0, older: null, newer: null };
      this.traces.set(traceId, e);
    }
    e.expires = now + this.ttlMs;
    // Append at the recent end.
    e.older = this.tail;
    e.newer = null;
    if (this.tail) this.tail.newer = e;
    else this.head = e;
    this.tail = e;
    return e;
  }

  addSpan(e: TraceEntry, span: SpanContext, requestId: string): void {
    span.traceId = e.traceId;
    const spans = e.spans;
    if (spans === null) e.spans = [span];
    else if (!Array.isArray(spans)) spans.set(span.spanId, span);
    else {
      let i = 0;
      while (i < spans.length && spans[i]!.spanId !== span.spanId) i++;
      if (i < spans.length) spans[i] = span;
      else if (spans.length < SPANS_AS_MAP) spans.push(span);
      else {
        const byId = new Map<string, SpanContext>();
        for (const s of spans) byId.set(s.spanId, s);
        e.spans = byId.set(span.spanId, span);
      }
    }
    if (!requestId) return;
    const links = this.byRequestId.get(requestId);
    if (links === undefined) this.byRequestId.set(requestId, span);
    else if (!Array.isArray(links)) this.byRequestId.set(requestId, [links, span]);
    else if (links.length < 16) links.push(span);
    if (!e.requestIds) e.requestIds = [requestId];
    else if (!e.requestIds.includes(requestId)) e.requestIds.push(requestId);
  }

  span(traceId: string, spanId: string): SpanContext | undefined {
    const spans = this.traces.get(traceId)?.spans;
    if (!spans) return undefined;
    if (!Array.isArray(spans)) return spans.get(spanId);
    for (let i = 0; i < spans.length; i++) if (spans[i]!.spanId === spanId) return spans[i];
    return undefined;
  }

  /**
   * The span a log with this request id belongs to. Several proxies record
   * the same id: prefer the span of the log's direction (an inbound access
   * log → the SERVER span, outbound → CLIENT), then the earliest.
   */
  byRequest(requestId: string, preferKind: number): RequestLink | undefined {
    const links = this.byRequestId.get(requestId);
    if (links === undefined) return undefined;
    let best: SpanContext;
    if (!Array.isArray(links)) best = links;
    else {
      best = links[0]!;
      for (let i = 1; i < links.length; i++) {
        const l = links[i]!;
        const a = l.kind === preferKind;
        const b = best.kind === preferKind;
        if ((a && !b) || (a === b && l.startUs < best.startUs)) best = l;
      }
    }
    return { traceId: best.traceId, span: best };
  }

  private unlink(e: TraceEntry): void {
    if (e.older) e.older.newer = e.newer;
    else this.head = e.newer;
    if (e.newer) e.newer.older = e.older;
    else this.tail = e.older;
    e.older = e.newer = null;
  }

  delete(e: TraceEntry): void {
    if (this.traces.get(e.traceId) !== e) return; // already gone
    this.traces.delete(e.traceId);
    this.unlink(e);
    for (const rid of e.requestIds ?? []) {
      const links = this.byRequestId.get(rid);
      if (links === undefined) continue;
      const kept = Array.isArray(links) ? links.filter((l) => l.traceId !== e.traceId) : links.traceId !== e.traceId ? [links] : [];
      if (kept.length === 0) this.byRequestId.delete(rid);
      else this.byRequestId.set(rid, kept.length === 1 ? kept[0]! : kept);
    }
  }

  /** Drops expired entries no held payload refers to; stops at the first live one. */
  expire(now: number): void {
    for (let e = this.head; e && e.expires <= now; ) {
      const next = e.newer;
      if (e.pending.length === 0) this.delete(e);
      e = next;
    }
  }

  /** The least recently seen entry. */
  oldest(): TraceEntry | undefined {
    return this.head ?? undefined;
  }

  /** Entries from the least recently seen. */
  *entries(): IterableIterator<TraceEntry> {
    for (let e = this.head; e; e = e.newer) yield e;
  }
}

export const KIND_FOR_DIRECTION = { inbound: SpanKind.SERVER, outbound: SpanKind.CLIENT } as const;
