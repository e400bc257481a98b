import { describe, expect, it } from 'vitest';
import { SpanKind } from '../../core/model.ts';
import { TraceIndex, type SpanContext } from './trace-index.ts';

const span = (spanId: string, kind: number, startUs: number): SpanContext => ({ spanId, name: spanId, kind, service: 's', status: 0, startUs, durationNs: 1 });

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

  it('expires entries `wait` after last seen unless a held payload refers to them; recency order', () => {
    const idx = new TraceIndex(1000);
    const a = idx.touch('a', 0);
    idx.addSpan(a, span('x', SpanKind.SERVER, 1), 'rid-a');
    const b = idx.touch('b', 500);
    b.pending.push({});
    idx.touch('a', 600); // seen again: moves to the recent end, lives until 1600
    expect([...idx.traces.keys()]).toEqual(['b', 'a']);
    idx.expire(1550);
    expect([...idx.traces.keys()]).toEqual(['b', 'a']); // b expired but still held
    b.pending.length = 0;
    idx.expire(1550);
    expect([...idx.traces.keys()]).toEqual(['a']);
    idx.expire(1600);
    expect(idx.size).toBe(0);
    expect(idx.byRequest('rid-a', SpanKind.SERVER)).toBeUndefined();
  });
});
