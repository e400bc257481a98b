import { describe, expect, it } from 'vitest';
import { cloneLogs, emptyScope, getAttr, newLogRecord, type LogsData } from '../../core/model.ts';
import { resolveAttributeMap } from '../../lib/mesh/fields.ts';
import { ISTIO_LINES } from '../audit/testdata/fixtures.ts';
import { summaryRows } from './enrich.ts';
import { enrichLogs, indexTraces, logKey, summarizeLogs, summarizeTraces } from './testdata/decoded.ts';
import { TraceIndex } from './trace-index.ts';
import { sdkTrace } from './testdata/sdk-spans.ts';

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const RID = '2c6c1a0f-7b8e-9d1a-a1c2-3e4f5a6b7c8d'; // the x_request_id in ISTIO_LINES.relayed403 / rbacDenied

function logs(...bodies: string[]): LogsData {
  return { resourceLogs: [{ resource: { attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', scopeLogs: [{ scope: emptyScope(), schemaUrl: '', logRecords: bodies.map((body) => newLogRecord({ body, timeUnixNano: 5n })) }] }] };
}

describe('enrichLogs', () => {
  const { data, spanIds } = sdkTrace(TRACE, [
    { service: 'sleep.foo', name: 'httpbin.foo.svc.cluster.local:8000/*', kind: 'client', start: [1715677923, 0], end: [1715677923, 3_000_000], attributes: { 'guid:x-request-id': RID } },
    { service: 'httpbin.foo', name: 'httpbin.foo.svc.cluster.local:8000/*', kind: 'server', start: [1715677923, 1_000_000], end: [1715677923, 2_000_000], parent: 0, attributes: { 'guid:x-request-id': RID } },
  ]);
  const index = new TraceIndex(10_000);
  indexTraces(data, index, ['guid:x-request-id'], 0);
  const fields = resolveAttributeMap({});

  it('links Istio text lines by the request id in the line: outbound → CLIENT span, inbound → SERVER span', () => {
    const d = logs(ISTIO_LINES.relayed403, ISTIO_LINES.rbacDenied, 'no request id here');
    const counts = { enriched: 0, linked: 0 };
    enrichLogs(d, index, fields, counts);
    const [outbound, inbound, other] = d.resourceLogs[0]!.scopeLogs[0]!.logRecords;
    expect([outbound!.traceId, outbound!.spanId, getAttr(outbound!.attributes, 'trailhouse.span.kind')]).toEqual([TRACE, spanIds[0], 'Client']);
    expect([inbound!.traceId, inbound!.spanId, getAttr(inbound!.attributes, 'trailhouse.span.kind')]).toEqual([TRACE, spanIds[1], 'Server']);
    expect(getAttr(inbound!.attributes, 'trailhouse.span.duration_ns')).toBe(1_000_000n);
    expect(getAttr(inbound!.attributes, 'trailhouse.linked_by')).toBe('x-request-id');
    expect([other!.traceId, other!.attributes]).toEqual(['', []]);
    expect(counts).toEqual({ enriched: 0, linked: 2 });
  });

  it('leaves a record whose span is unknown as it was', () => {
    const d = logs('x');
    const r = d.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!;
    r.traceId = TRACE;
    r.spanId = 'ffffffffffffffff';
    enrichLogs(d, index, fields, { enriched: 0, linked: 0 });
    expect(r.attributes).toEqual([]);
  });

  it('summary rows: ids, root and bounds per trace; log keys stable across copies', () => {
    const d = logs('a', 'b');
    for (const r of d.resourceLogs[0]!.scopeLogs[0]!.logRecords) r.traceId = TRACE;
    expect(logKey(cloneLogs(d).resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!)).toBe(logKey(d.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!));
    const parts = new Map();
    summarizeTraces(data, parts);
    summarizeLogs(d, parts);
    const [row] = summaryRows(parts).map((l) => JSON.parse(l));
    expect(row).toMatchObject({
      TraceId: TRACE,
      MinStart: 1715677923000000000,
      MaxEnd: 1715677923003000000,
      Root: [1715677923000000000, 'sleep.foo', 'httpbin.foo.svc.cluster.local:8000/*'],
      SpanIds: spanIds,
      ErrorSpanIds: [],
      Services: ['sleep.foo', 'httpbin.foo'],
    });
    expect(new Set(row.LogIds).size).toBe(2);
  });
});
