import { describe, expect, it } from 'vitest';
import { SpanKind } from '../../core/model.ts';
import { addPending, NO_PENDING, removePending, spansOf, TraceIndex, type SpanContext } from './trace-index.ts';

const span = (spanId: string, kind: number, startUs: number): SpanContext => ({ traceId: '', spanId, name: spanId, kind, service: 's', status: 0, startUs, durationNs: 1 });

describe('TraceIndex', () => {
  it('links a request id to the span of the log direction, else the earliest', () => {
    const idx = new TraceIndex(1000);
    const e = idx.touch('t1', 0);
    idx.addSpan(e, span('client', SpanKind.CLIENT, 10), 'rid');
    idx.addSpan(e, span('server', SpanKind.SERVER, 20), 'rid');
    idx.addSpan(e, span('gateway', SpanKind.SERVER, 5), 'rid');
    expect(idx.byRequest('rid', SpanKind.CLIENT)?.span.spanId).toBe('client');
    expect(idx.byRequest('rid', SpanKind.SERVER)?.span.spanId).toBe('gateway');
    expect(idx.byRequest('other', SpanKind.SERVER)).toBeUndefined();
  });

  it('keeps the links of other traces to a request id when one trace is dropped', () => {
    const idx = new TraceIndex(1000);
    const a = idx.touch('a', 0);
    const b = idx.touch('b', 0);
    idx.addSpan(a, span('a-server', SpanKind.SERVER, 1), 'rid');
    idx.addSpan(b, span('b-server', SpanKind.SERVER, 2), 'rid');
    expect(idx.byRequest('rid', SpanKind.SERVER)).toMatchObject({ traceId: 'a', span: { spanId: 'a-server' } });
    idx.delete(a);
    expect(idx.byRequest('rid', SpanKind.SERVER)).toMatchObject({ traceId: 'b', span: { spanId: 'b-server', traceId: 'b' } });
    idx.addSpan(b, span('b-client', SpanKind.CLIENT, 3), 'rid');
    expect(idx.byRequest('rid', SpanKind.CLIENT)?.span.spanId).toBe('b-client');
    idx.delete(b);
    expect(idx.byRequest('rid', SpanKind.SERVER)).toBeUndefined();
  });

  const order = (idx: TraceIndex) => [...idx.entries()].map((e) => e.traceId);

  it('expires entries `wait` after last seen unless a held payload refers to them; recency order', () => {
    const idx = new TraceIndex(1000);
    const a = idx.touch('a', 0);
    idx.addSpan(a, span('x', SpanKind.SERVER, 1), 'rid-a');
    const b = idx.touch('b', 500);
    const held = {};
    addPending(b, held);
    idx.touch('a', 600); // seen again: moves to the recent end, lives until 1600
    expect(order(idx)).toEqual(['b', 'a']);
    idx.expire(1550);
    expect(order(idx)).toEqual(['b', 'a']); // b expired but still held
    removePending(b, held);
    expect(b.pending).toBe(NO_PENDING);
    idx.expire(1550);
    expect(order(idx)).toEqual(['a']);
    idx.expire(1600);
    expect(idx.size).toBe(0);
    expect(idx.byRequest('rid-a', SpanKind.SERVER)).toBeUndefined();
  });

  it('keeps one span per id, the last indexed, in first-seen order, past the few kept in an array', () => {
    const idx = new TraceIndex(1000);
    const e = idx.touch('t', 0);
    const ids = Array.from({ length: 20 }, (_, i) => `s${i}`);
    for (const id of ids.slice(0, 5)) idx.addSpan(e, span(id, SpanKind.SERVER, 1), '');
    idx.addSpan(e, span('s2', SpanKind.CLIENT, 2), ''); // again: replaces, keeps its place
    expect(Array.isArray(e.spans)).toBe(true);
    for (const id of ids.slice(5)) idx.addSpan(e, span(id, SpanKind.SERVER, 3), '');
    idx.addSpan(e, span('s3', SpanKind.CLIENT, 4), '');
    expect(e.spans instanceof Map).toBe(true);
    expect(spansOf(e).map((s) => s.spanId)).toEqual(ids);
    expect(idx.span('t', 's2')).toMatchObject({ kind: SpanKind.CLIENT, startUs: 2 });
    expect(idx.span('t', 's3')).toMatchObject({ kind: SpanKind.CLIENT, startUs: 4 });
    expect(idx.span('t', 's19')?.startUs).toBe(3);
    expect(idx.span('t', 'nope')).toBeUndefined();
    // Two payloads hold it, then neither.
    const [a, b] = [{}, {}];
    addPending(e, a);
    addPending(e, b);
    removePending(e, a);
    expect(e.pending).toEqual([b]);
    removePending(e, a); // not there: nothing changes
    removePending(e, b);
    expect(e.pending).toBe(NO_PENDING);
  });

  it('evicts the least recently seen first, however many were deleted before', () => {
    const idx = new TraceIndex(1000);
    for (let i = 0; i < 5; i++) idx.touch(`t${i}`, i);
    idx.touch('t1', 10); // seen again
    idx.delete(idx.oldest()!); // t0
    expect(order(idx)).toEqual(['t2', 't3', 't4', 't1']);
    idx.delete(idx.traces.get('t3')!);
    idx.delete(idx.traces.get('t3') ?? idx.oldest()!); // t2; deleting twice is harmless
    expect(order(idx)).toEqual(['t4', 't1']);
    expect(idx.size).toBe(2);
    // Eviction after many deletions at the front (where a Map-ordered LRU walks its holes; the
    // cost is in docs/benchmarks-log.md, not timed here): still the least recently seen, in order.
    for (let i = 0; i < 1000; i++) idx.touch(`x${i}`, 20);
    for (let i = 0; i < 1000; i++) idx.delete(idx.oldest()!); // t4, t1, x0 … x997
    expect(order(idx)).toEqual(['x998', 'x999']);
    expect(idx.size).toBe(2);
  });
});
