import { describe, expect, it } from 'vitest';
import { SpanKind } from '../../core/model.ts';
import { TraceIndex, type SpanContext } from './trace-index.ts';

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
    b.pending.push({});
    idx.touch('a', 600); // seen again: moves to the recent end, lives until 1600
    expect(order(idx)).toEqual(['b', 'a']);
    idx.expire(1550);
    expect(order(idx)).toEqual(['b', 'a']); // b expired but still held
    b.pending.length = 0;
    idx.expire(1550);
    expect(order(idx)).toEqual(['a']);
    idx.expire(1600);
    expect(idx.size).toBe(0);
    expect(idx.byRequest('rid-a', SpanKind.SERVER)).toBeUndefined();
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
