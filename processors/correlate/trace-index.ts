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
  /** Its spans by id (null until one is indexed: a trace seen only in logs has none). */
  spans: Map<string, SpanContext> | null;
  /** Request ids its spans carried (null until one does). */
  requestIds: string[] | null;
  /** Held payloads that hold items of this trace (an array: usually one to three). */
  pending: object[];
  expires: number;
  /** Neighbours in recency order (older, newer); null at the ends. */
  older: TraceEntry | null;
  newer: TraceEntry | null;
}

export interface RequestLink {
  traceId: string;
  span: SpanContext;
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
      e = { traceId, spans: null, requestIds: null, pending: [], expires: 0, older: null, newer: null };
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
    (e.spans ??= new Map()).set(span.spanId, span);
    if (!requestId) return;
    const links = this.byRequestId.get(requestId);
    if (links === undefined) this.byRequestId.set(requestId, span);
    else if (!Array.isArray(links)) this.byRequestId.set(requestId, [links, span]);
    else if (links.length < 16) links.push(span);
    if (!e.requestIds) e.requestIds = [requestId];
    else if (!e.requestIds.includes(requestId)) e.requestIds.push(requestId);
  }

  span(traceId: string, spanId: string): SpanContext | undefined {
    return this.traces.get(traceId)?.spans?.get(spanId);
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
