// Indexing from request bytes (peek.ts) must index exactly what indexing the decoded records does (enrich.ts).
import { describe, expect, it } from 'vitest';
import type { AnyValue, KeyValue, LogsData, Span, TracesData } from '../../core/model.ts';
import { KvList, emptyScope, logRecordCount, newSpan } from '../../core/model.ts';
import { decodeLogsProto, decodeTracesProto, encodeLogsProto, encodeTracesProto } from '../../core/otlp/index.ts';
import { makeBatch } from '../../scripts/bench/workload.ts';
import { sampleLogs, sampleTraces } from '../../test/helpers.ts';
import type { SummaryPart } from './enrich.ts';
import { enrichLogs, indexLogs, indexTraces, summarizeLogs, summarizeTraces } from './testdata/decoded.ts';
import { indexTracesBytes, indexTracesWalk, summarizeTracesBytes, summarizeTracesView } from './peek.ts';
import { enrichLogsBytes, enrichLogsView, indexLogsBytes, indexLogsWalk } from './peek-logs.ts';
import { SpansView } from './held-view.ts';
import { LOG_SLOTS, LogRecordsView, logRecordsView, logRecordsViewOf, readLogsPart } from '../../core/otlp/log-records-view.ts';
import { TimeSlice, walkAll, walkSliced } from '../../core/yield.ts';
import { classifyPayload, classifyPayloadSliced } from '../../lib/audit/classify-payload.ts';
import { compileRules } from '../../lib/audit/classify.ts';
import { defaultAuditRules } from '../../processors/audit/config.ts';
import { resolveAttributeMap } from '../../lib/mesh/fields.ts';
import { randomLogs, randomTraces } from '../../core/otlp/fixtures.ts';
import { Reader, Writer } from '../../core/otlp/protowire.ts';
import { spansOf, TraceIndex } from './trace-index.ts';
import { Payload } from '../../core/payload.ts';

const RID = ['guid:x-request-id', 'http.request.header.x-request-id', 'x_request_id'];

/** Everything an index holds, in a comparable form. */
function snapshot(idx: TraceIndex, touched: Set<{ traceId: string }>) {
  return {
    touched: [...touched].map((e) => e.traceId),
    entries: [...idx.entries()].map((e) => ({ traceId: e.traceId, expires: e.expires, requestIds: e.requestIds, spans: spansOf(e).map((sp) => [sp.spanId, sp]) })),
    links: RID.length ? [...idx.entries()].flatMap((e) => (e.requestIds ?? []).map((rid) => [rid, idx.byRequest(rid, 2)?.span.spanId, idx.byRequest(rid, 3)?.span.spanId])) : [],
  };
}

function compareTraces(parts: Uint8Array[]): void {
  const a = new TraceIndex(1000);
  const b = new TraceIndex(1000);
  const ta = new Set<{ traceId: string }>();
  for (const p of parts) for (const e of indexTraces(decodeTracesProto(p), a, RID, 7)) ta.add(e);
  const tb = indexTracesBytes(parts, b, RID, 7);
  expect(snapshot(b, tb)).toEqual(snapshot(a, ta));
}

function compareLogs(parts: Uint8Array[]): void {
  const a = new TraceIndex(1000);
  const b = new TraceIndex(1000);
  // indexLogs remembers the last trace id within one call: one decoded payload of all parts.
  const decoded: LogsData = { resourceLogs: parts.flatMap((p) => decodeLogsProto(p).resourceLogs) };
  const ta = indexLogs(decoded, a, 7);
  const tb = indexLogsBytes(parts, b, 7);
  expect(snapshot(b, tb)).toEqual(snapshot(a, ta));
}

function spanWith(base: Span, over: Partial<Span>): Span {
  return { ...base, ...over };
}

describe('correlate: indexing from request bytes', () => {
  it('indexes the bench workload (mesh spans with request ids, access logs) as the decoded path does', () => {
    const batches = [makeBatch(50, 1), makeBatch(50, 2)];
    compareTraces(batches.map((b) => encodeTracesProto(b.traces)));
    compareLogs(batches.map((b) => encodeLogsProto(b.logs)));
  });

  it('follows the decoder on the edges: zero and empty ids, request-id priority and odd values, service.name types, status and kind', () => {
    const base = sampleTraces(1).resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    const kv = (key: string, value: AnyValue): KeyValue => ({ key, value });
    const spans: Span[] = [
      spanWith(base, { spanId: '00000000000000a1', attributes: [kv('x_request_id', 'low'), kv('guid:x-request-id', 'high')], kind: 2, status: { code: 2, message: 'boom' } }),
      spanWith(base, { spanId: '00000000000000a2', attributes: [kv('guid:x-request-id', '-'), kv('x_request_id', 'fallback')], kind: 3 }),
      spanWith(base, { spanId: '00000000000000a3', attributes: [kv('guid:x-request-id', undefined), kv('guid:x-request-id', 'second'), kv('x_request_id', 42n)] }),
      spanWith(base, { spanId: '00000000000000a4', attributes: [kv('x_request_id', ['first', 'x']), kv('x_request_id', 'dup')], kind: 9, status: { code: 7, message: '' } }),
      spanWith(base, { spanId: '00000000000000a5', attributes: [kv('http.request.header.x-request-id', new KvList([kv('a', 'b')])), kv('x_request_id', true)] }),
      spanWith(base, { traceId: '', spanId: '00000000000000a6' }),
      spanWith(base, { traceId: '0'.repeat(32), spanId: '00000000000000b6' }),
      spanWith(base, { spanId: '0'.repeat(16), parentSpanId: '00000000000000a1' }),
      spanWith(base, { traceId: '00000000000000000000000000000009', spanId: '', endTimeUnixNano: 0n }),
      spanWith(base, { traceId: '00000000000000000000000000000009', spanId: '00000000000000a8', startTimeUnixNano: 5n, endTimeUnixNano: 5n }),
      // Times past 2^53 µs and durations past 2^53 ns: read as 32-bit halves, they must still give what the bigints give.
      spanWith(base, { spanId: '00000000000000c1', startTimeUnixNano: 2n ** 64n - 1001n, endTimeUnixNano: 2n ** 64n - 1n }),
      spanWith(base, { spanId: '00000000000000c2', startTimeUnixNano: 12345n, endTimeUnixNano: 2n ** 63n + 987654321n }),
      spanWith(base, { spanId: '00000000000000c3', startTimeUnixNano: (1999999999n << 32n) + 4294967295n, endTimeUnixNano: (2000000000n << 32n) + 1n }),
      spanWith(base, { spanId: '00000000000000c4', startTimeUnixNano: 1_733_000_000_123_456_789n, endTimeUnixNano: 1_733_000_000_123_456_788n }),
    ];
    for (const service of ['svc', 7n, true, undefined, ['a', 'b'], new KvList([kv('k', 'v')])] as AnyValue[]) {
      const resource = { attributes: service === undefined ? [kv('other', 'x')] : [kv('host.name', 'h'), kv('service.name', service), kv('service.name', 'later')], droppedAttributesCount: 0 };
      const data: TracesData = {
        resourceSpans: [
          { resource, schemaUrl: '', scopeSpans: [{ scope: { name: 's', version: '', attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', spans }] },
          { resource: { attributes: [kv('service.name', 'second')], droppedAttributesCount: 0 }, schemaUrl: '', scopeSpans: [{ scope: { name: '', version: '', attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', spans: spans.slice(0, 2).map((s) => ({ ...s, traceId: 'ff'.repeat(16) })) }] },
        ],
      };
      compareTraces([encodeTracesProto(data)]);
    }
  });

  it('finds the resource when it comes after the spans in the bytes', () => {
    const data = sampleTraces(3, 'late');
    const bytes = encodeTracesProto(data);
    // Rebuild ResourceSpans with its fields reversed: scope_spans (2) first, then resource (1).
    const fieldsOf = (buf: Uint8Array) => {
      const out: Array<{ tag: number; body: Uint8Array }> = [];
      let p = 0;
      const varint = () => {
        let v = 0;
        let shift = 0;
        for (;;) {
          const b = buf[p++]!;
          v += (b & 0x7f) * 2 ** shift;
          if (b < 0x80) return v;
          shift += 7;
        }
      };
      while (p < buf.length) {
        const tag = varint();
        const n = varint();
        out.push({ tag, body: buf.subarray(p, p + n) });
        p += n;
      }
      return out;
    };
    const lenField = (tag: number, body: Uint8Array) => {
      const head: number[] = [tag];
      let n = body.length;
      while (n >= 0x80) {
        head.push((n & 0x7f) | 0x80);
        n >>>= 7;
      }
      head.push(n);
      return Buffer.concat([Buffer.from(head), body]);
    };
    const [rs] = fieldsOf(bytes);
    const inner = fieldsOf(rs!.body).reverse();
    const swapped = lenField(0x0a, Buffer.concat(inner.map((f) => lenField(f.tag, f.body))));
    expect(decodeTracesProto(swapped).resourceSpans[0]!.scopeSpans[0]!.spans).toHaveLength(3);
    compareTraces([swapped]);
    const idx = new TraceIndex(1000);
    indexTracesBytes([swapped], idx, RID, 0);
    expect(spansOf([...idx.entries()][0]!)[0]!.service).toBe('late');
  });

  it('shares one view with a classification that takes turns with it: each part read once, the same view, rows and index', async () => {
    const parts = Array.from({ length: 6 }, (_, i) => encodeLogsProto(makeBatch(20, i + 1).logs));
    const count = parts.reduce((n, p) => n + logRecordCount(decodeLogsProto(p)), 0);
    const rules = compileRules(defaultAuditRules());
    const ms = TimeSlice.ms;
    try {
      TimeSlice.ms = 0; // every part boundary yields
      const classified = classifyPayloadSliced(Payload.ofBytes('logs', parts, count), rules, undefined, true);
      expect(logRecordsViewOf(parts)?.partEnds.length).toBe(1); // the classification read part 0 into the shared view
      const view = logRecordsView(parts);
      const idx = new TraceIndex(1000);
      const [rows, touched] = await Promise.all([classified, walkSliced(indexLogsWalk(view, idx, 7))]);
      expect(rows).toEqual(classifyPayload(Payload.ofBytes('logs', parts, count), rules));
      const own = new LogRecordsView(parts);
      for (let k = 0; k < parts.length; k++) readLogsPart(own, k);
      expect(view.partEnds).toEqual(own.partEnds);
      expect(view.traceIds).toEqual(own.traceIds);
      expect([...view.fields.subarray(0, count * LOG_SLOTS)]).toEqual([...own.fields.subarray(0, count * LOG_SLOTS)]);
      const ref = new TraceIndex(1000);
      const decoded: LogsData = { resourceLogs: parts.flatMap((p) => decodeLogsProto(p).resourceLogs) };
      expect(snapshot(idx, touched)).toEqual(snapshot(ref, indexLogs(decoded, ref, 7)));
      expect(() => readLogsPart(own, 2)).toThrow(/out of order/);
    } finally {
      TimeSlice.ms = ms;
    }
  });

  it('log records: runs of one trace, zero and missing trace ids, several parts', () => {
    const logs = sampleLogs(6);
    const recs = logs.resourceLogs[0]!.scopeLogs[0]!.logRecords;
    recs[1]!.traceId = recs[0]!.traceId;
    recs[2]!.traceId = '';
    recs[3]!.traceId = recs[0]!.traceId;
    recs[4]!.traceId = recs[0]!.traceId;
    recs[5]!.traceId = '0'.repeat(32);
    const zero = sampleLogs(1);
    zero.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.traceId = '';
    compareLogs([encodeLogsProto(logs), encodeLogsProto(zero), encodeLogsProto(sampleLogs(2))]);
  });
});

describe('correlate: trace summaries from request bytes', () => {
  const summaries = (parts: Uint8Array[]) => {
    const a = new Map<string, SummaryPart>();
    for (const p of parts) summarizeTraces(decodeTracesProto(p), a);
    const b = new Map<string, SummaryPart>();
    summarizeTracesBytes(parts, b);
    // From what indexing kept (correlate's close): the same summaries, without walking the bytes again.
    const view = new SpansView(parts);
    walkAll(indexTracesWalk(parts, new TraceIndex(1000), RID, 7, view));
    const c = new Map<string, SummaryPart>();
    walkAll(summarizeTracesView(view, c));
    expect([...c]).toEqual([...b]);
    return [a, b];
  };

  it('summarizes the bench workload and random payloads as the decoded path does', () => {
    const parts = [encodeTracesProto(makeBatch(200, 3).traces), encodeTracesProto(sampleTraces())];
    for (let seed = 1; seed <= 50; seed++) parts.push(encodeTracesProto(randomTraces(seed)));
    const [a, b] = summaries(parts);
    expect(a.size).toBeGreaterThan(100);
    expect(b).toEqual(a);
  });

  it('follows the decoder on roots, zero parents, errors and a resource after its spans', () => {
    const span = (id: string, parent: string, start: bigint, code: number, name: string): Span =>
      ({ ...newSpan(), traceId: 'ab'.repeat(16), spanId: id, parentSpanId: parent, name, startTimeUnixNano: start, endTimeUnixNano: start + 10n, status: { code, message: '' } });
    const data: TracesData = {
      resourceSpans: [{
        resource: { attributes: [{ key: 'service.name', value: 'svc' }, { key: 'service.name', value: 'other' }], droppedAttributesCount: 0 },
        scopeSpans: [{ scope: emptyScope(), schemaUrl: '', spans: [span('01'.repeat(8), '', 50n, 2, 'late-root'), span('02'.repeat(8), '', 20n, 0, 'root'), span('03'.repeat(8), '02'.repeat(8), 5n, 2, 'child')] }],
        schemaUrl: '',
      }],
    };
    const bytes = encodeTracesProto(data);
    const [a, b] = summaries([bytes]);
    expect(b).toEqual(a);
    expect(b.get('ab'.repeat(16))).toMatchObject({ rootName: 'root', rootService: 'svc', startNs: 5n, errorSpanIds: ['01'.repeat(8), '03'.repeat(8)] });
    // The same request with the resource written after the scope spans.
    const r = new Reader(bytes);
    r.uint32();
    const rsEnd = r.lenEnd(r.len);
    const fieldsOf: Buffer[] = [];
    while (r.pos < rsEnd) {
      const at = r.pos;
      r.uint32();
      r.pos = r.lenEnd(rsEnd);
      fieldsOf.push(Buffer.from(bytes.subarray(at, r.pos)));
    }
    const w = new Writer();
    const rs = w.startMessage(1);
    for (const f of fieldsOf.reverse()) {
      w.ensure(f.length);
      w.buf.set(f, w.pos);
      w.pos += f.length;
    }
    w.endMessage(rs);
    const [c, d] = summaries([w.finish()]);
    expect(d).toEqual(c);
    expect(d).toEqual(b);
  });

  it('enriches, links and summarizes log records from bytes exactly as the decoded path does', () => {
    const fields = resolveAttributeMap({});
    const batch = makeBatch(60, 3);
    const spanBytes = encodeTracesProto(batch.traces);
    const logs = batch.logs;
    const recs = logs.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords));
    // Links through the request id (attribute, Istio text line), misses, odd bodies, ids and keys.
    recs[0]!.traceId = '';
    recs[0]!.spanId = '';
    recs[1]!.traceId = '';
    recs[1]!.attributes = recs[1]!.attributes.filter((kv) => kv.key !== 'upstream_cluster');
    recs[2]!.traceId = '0'.repeat(32);
    recs[2]!.attributes.push({ key: 'x_request_id', value: 'req-nobody' });
    recs[3]!.traceId = '';
    recs[3]!.attributes = [];
    recs[3]!.body = '[2024-05-14T09:12:10.000Z] "GET /status/200 HTTP/1.1" 200 - via_upstream - "-" 0 0 4 3 "-" "curl/8.5.0" "req-180" "httpbin:8000" "10.244.0.13:80" inbound|8000|| 127.0.0.6:42023 10.244.0.13:80 10.244.0.12:51234 - default\n';
    recs[4]!.attributes.push({ key: 'trailhouse.span.name', value: 'stale' }, { key: 'trailhouse.span.name', value: 'dup' });
    recs[5]!.body = 'ünïcode body';
    recs[6]!.body = new KvList([{ key: 'a', value: 'b' }]);
    recs[7]!.body = 'x'.repeat(400);
    recs[8]!.timeUnixNano = 0n;
    recs[9]!.timeUnixNano = 0n;
    recs[9]!.observedTimeUnixNano = 0n;
    recs[10]!.spanId = 'ee'.repeat(8); // a span nobody indexed
    recs[11]!.body = undefined;
    recs[12]!.traceId = '';
    recs[12]!.body = 'x';
    const parts = [encodeLogsProto(logs), encodeLogsProto(sampleLogs(3)), encodeLogsProto(randomLogs(5))];
    const index = () => {
      const idx = new TraceIndex(1000);
      indexTraces(decodeTracesProto(spanBytes), idx, RID, 7);
      return idx;
    };
    const decoded: LogsData = { resourceLogs: parts.flatMap((p) => decodeLogsProto(p).resourceLogs) };
    const wantCounts = { enriched: 0, linked: 0 };
    enrichLogs(decoded, index(), fields, wantCounts);
    const wantSummary = new Map<string, SummaryPart>();
    summarizeLogs(decoded, wantSummary);

    const gotCounts = { enriched: 0, linked: 0 };
    const gotSummary = new Map<string, SummaryPart>();
    const patches = enrichLogsBytes(parts, index(), fields, gotCounts, gotSummary)!;
    expect(gotCounts).toEqual(wantCounts);
    // Enriched from what indexing kept (correlate's close): the same patches, counts and summary.
    const idx = index();
    const view = new LogRecordsView(parts);
    walkAll(indexLogsWalk(view, idx, 7));
    expect(view.count).toBe(logRecordCount(decoded));
    const viewCounts = { enriched: 0, linked: 0 };
    const viewSummary = new Map<string, SummaryPart>();
    const viewPatches = walkAll(enrichLogsView(view, idx, fields, viewCounts, viewSummary))!;
    expect(viewCounts).toEqual(wantCounts);
    expect([...viewSummary]).toEqual([...wantSummary]);
    expect(viewPatches.map((p) => p && [p.traceId, p.spanId, p.attributes])).toEqual(patches.map((p) => p && [p.traceId, p.spanId, p.attributes]));
    expect(wantCounts.linked).toBeGreaterThanOrEqual(2);
    expect(wantCounts.enriched).toBeGreaterThan(50);
    expect([...gotSummary]).toEqual([...wantSummary]);
    const lazy = Payload.ofBytes('logs', parts, logRecordCount(decoded));
    lazy.patch(patches);
    expect(lazy.records().resourceLogs).toEqual(decoded.resourceLogs);
    expect(enrichLogsBytes([encodeLogsProto(sampleLogs(2))], new TraceIndex(1000), fields, gotCounts)).toBeUndefined();
  });
});
