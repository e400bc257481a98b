import fs from 'node:fs';
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CreateSettings } from '../../core/component.ts';
import { emptyScope, newLogRecord, newSpan, type LogRecord, type LogsData, type TracesData } from '../../core/model.ts';
import { silentLogger } from '../../core/telemetry/logger.ts';
import { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { AuditProcessor } from '../audit/audit.ts';
import { defaultAuditConfig, type AuditConfig } from '../audit/config.ts';
import { openSqlStore, type SqlStoreHandle } from '../../lib/clickhouse/sql-store.ts';
import { ENVOY_RBAC_DENIED, envoyOtel } from '../audit/testdata/fixtures.ts';
import { defaultCorrelateConfig, type CorrelateConfig } from './config.ts';
import { CorrelateProcessor } from './correlate.ts';
import { sdkTrace } from './testdata/sdk-spans.ts';

const dir = fs.mkdtempSync(os.tmpdir() + '/th-correlate-');
const where = { endpoint: null, path: dir, username: '', password: '' };
let reader: SqlStoreHandle;

const TRACE = '5b8efff798038103d269b633813fc60c';
const RID = ENVOY_RBAC_DENIED.x_request_id;
type Tokened<T> = T & { dedupToken?: string };

function logs(records: LogRecord[], service = 'checkout'): Tokened<LogsData> {
  return { resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: service }], droppedAttributesCount: 0 }, schemaUrl: '', scopeLogs: [{ scope: emptyScope(), schemaUrl: '', logRecords: records }] }] };
}

function theTrace() {
  return sdkTrace(TRACE, [
    { service: 'frontend', name: 'GET /checkout', kind: 'server', start: [1715677923, 0], end: [1715677923, 500_000_000] },
    { service: 'frontend', name: 'POST /pay', kind: 'client', start: [1715677923, 100_000_000], end: [1715677923, 400_000_000], parent: 0, error: true },
    // Envoy's tracer: the payments sidecar's inbound span, with the request id.
    { service: 'payments.default', name: 'payments.default.svc.cluster.local:8080/*', kind: 'server', start: [1715677923, 120_000_000], end: [1715677923, 380_000_000], parent: 1, attributes: { 'guid:x-request-id': RID, 'upstream_cluster': 'inbound|8080||' } },
  ]);
}

interface Rig {
  correlate: CorrelateProcessor;
  audit?: AuditProcessor;
  gotLogs: LogsData[];
  gotTraces: TracesData[];
  metrics: MetricsRegistry;
}

async function rig(over: Partial<CorrelateConfig>, withAudit: boolean): Promise<Rig> {
  const metrics = new MetricsRegistry();
  const gotLogs: LogsData[] = [];
  const gotTraces: TracesData[] = [];
  const sinkLogs = { consumeLogs: async (d: LogsData) => void gotLogs.push(d) };
  let audit: AuditProcessor | undefined;
  if (withAudit) {
    const acfg: AuditConfig = { ...defaultAuditConfig(), ...where };
    audit = new AuditProcessor({ id: 'audit', config: acfg, logger: silentLogger, metrics } as CreateSettings<AuditConfig>, { logs: sinkLogs });
  }
  const config: CorrelateConfig = { ...defaultCorrelateConfig(), ...where, ...over };
  const correlate = new CorrelateProcessor({ id: 'correlate', config, logger: silentLogger, metrics }, {
    logs: audit ?? sinkLogs,
    traces: { consumeTraces: async (d: TracesData) => void gotTraces.push(d) },
  });
  await audit?.start({} as never);
  await correlate.start({} as never);
  return { correlate, audit, gotLogs, gotTraces, metrics };
}

async function summary(traceId: string): Promise<Record<string, unknown> | undefined> {
  const rows = await reader.store.query(`SELECT TraceId, toString(Start) AS Start, toString(End) AS End, toUInt32(DurationNs) AS DurationNs, RootService, RootName, SpanCount, ErrorCount, Services, LogCount, AuditEvents, Principals FROM otel.trace_summary WHERE TraceId = '${traceId}'`);
  return rows[0];
}

beforeAll(async () => {
  reader = openSqlStore(where);
});
afterAll(async () => {
  await reader.release();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('correlate with chDB', () => {
  it('enriches logs with their span, links a log by x-request-id, keeps payloads whole, writes the summary', async () => {
    const r = await rig({ wait: 400 }, true);
    const { data: spans, spanIds } = theTrace();
    const appLog = newLogRecord({ timeUnixNano: 1715677923_200_000_000n, body: 'charging card', traceId: TRACE, spanId: spanIds[1]! });
    const { x_request_id: _keep, ...accessAttrs } = ENVOY_RBAC_DENIED;
    const accessLog = envoyOtel({ ...accessAttrs, x_request_id: RID }, false); // no trace context: linked by request id
    const lonely = newLogRecord({ timeUnixNano: 1715677924_000_000_000n, body: 'unrelated', traceId: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', spanId: 'bbbbbbbbbbbbbbbb' });
    const logsPayload = logs([appLog, accessLog, lonely]);
    logsPayload.dedupToken = 'logs-0-7';
    const tracesPayload: Tokened<TracesData> = spans;
    tracesPayload.dedupToken = 'spans-0-3';

    // Logs first: they wait for their spans.
    const pl = r.correlate.consumeLogs(logsPayload);
    const pt = r.correlate.consumeTraces(tracesPayload);
    expect(r.correlate.held).toEqual({ traces: 2, items: 6, payloads: 2, backlog: 0 });
    expect(r.gotLogs).toHaveLength(0);
    await Promise.all([pl, pt]);

    expect(r.gotTraces).toEqual([tracesPayload]);
    expect(r.gotTraces[0]).toBe(tracesPayload);
    expect(r.gotLogs[0]).toBe(logsPayload);
    expect((r.gotLogs[0] as Tokened<LogsData>).dedupToken).toBe('logs-0-7');
    const [a, b, c] = logsPayload.resourceLogs[0]!.scopeLogs[0]!.logRecords;
    const ctx = (rec: LogRecord) => Object.fromEntries(rec.attributes.filter((kv) => kv.key.startsWith('trailhouse.')).map((kv) => [kv.key, kv.value]));
    expect(ctx(a!)).toEqual({
      'trailhouse.span.name': 'POST /pay',
      'trailhouse.span.kind': 'Client',
      'trailhouse.span.service': 'frontend',
      'trailhouse.span.status': 'Error',
      'trailhouse.span.duration_ns': 300_000_000n,
    });
    expect([b!.traceId, b!.spanId]).toEqual([TRACE, spanIds[2]]);
    expect(ctx(b!)).toEqual({
      'trailhouse.span.name': 'payments.default.svc.cluster.local:8080/*',
      'trailhouse.span.kind': 'Server',
      'trailhouse.span.service': 'payments.default',
      'trailhouse.span.status': 'Unset',
      'trailhouse.span.duration_ns': 260_000_000n,
      'trailhouse.linked_by': 'x-request-id',
    });
    expect(ctx(c!)).toEqual({});
    expect(r.metrics.read('trailhouse_correlate_linked_log_records', { processor: 'correlate' })).toBe(1);

    expect(await summary(TRACE)).toEqual({
      TraceId: TRACE,
      Start: '2024-05-14 09:12:03.000000000',
      End: '2024-05-14 09:12:03.500000000',
      DurationNs: 500_000_000,
      RootService: 'frontend',
      RootName: 'GET /checkout',
      SpanCount: 3,
      ErrorCount: 1,
      Services: ['frontend', 'payments.default'],
      LogCount: 2,
      // The linked access log became two audit events carrying the trace id.
      AuditEvents: { authorization: 1, sensitive_access: 1 },
      Principals: ['spiffe://cluster.local/ns/foo/sa/sleep'],
    });
    expect(await summary('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa')).toMatchObject({ SpanCount: 0, LogCount: 1, RootName: '', Start: null });

    // Late data: a span and a log after the window closed merge into the same row.
    const late = sdkTrace(TRACE, [{ service: 'ledger', name: 'INSERT ledger', kind: 'client', start: [1715677923, 450_000_000], end: [1715677923, 900_000_000], error: true }]);
    for (const sp of late.data.resourceSpans[0]!.scopeSpans[0]!.spans) sp.parentSpanId = spanIds[1]!;
    await Promise.all([
      r.correlate.consumeTraces(late.data),
      r.correlate.consumeLogs(logs([newLogRecord({ timeUnixNano: 1715677923_800_000_000n, body: 'ledger slow', traceId: TRACE, spanId: late.spanIds[0]! })])),
    ]);
    // Redelivery of the first spans payload (same spans) changes nothing.
    const again = theTrace().data;
    for (const sp of again.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans))) {
      const orig = tracesPayload.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)).find((o) => o.name === sp.name)!;
      sp.spanId = orig.spanId;
      sp.parentSpanId = orig.parentSpanId;
    }
    await r.correlate.consumeTraces(again);
    expect(await summary(TRACE)).toMatchObject({
      End: '2024-05-14 09:12:03.900000000',
      DurationNs: 900_000_000,
      RootName: 'GET /checkout',
      SpanCount: 4,
      ErrorCount: 2,
      Services: ['frontend', 'ledger', 'payments.default'],
      LogCount: 3,
    });
    await r.correlate.shutdown();
    await r.audit!.shutdown();
  });

  it('shutdown passes everything held on at once, then refuses', async () => {
    const r = await rig({ wait: 60_000 }, false);
    const p = r.correlate.consumeLogs(logs([newLogRecord({ body: 'x', traceId: 'cccccccccccccccccccccccccccccccc', spanId: 'dddddddddddddddd', timeUnixNano: 1n })]));
    expect(r.gotLogs).toHaveLength(0);
    await r.correlate.shutdown();
    await p;
    expect(r.gotLogs).toHaveLength(1);
    expect(r.metrics.read('trailhouse_correlate_early_flushes', { processor: 'correlate', reason: 'shutdown' })).toBe(1);
    await expect(r.correlate.consumeLogs(logs([newLogRecord({ body: 'y' })]))).rejects.toThrow(/not running/);
  });

  it('a downstream failure travels back to the held payload', async () => {
    const metrics = new MetricsRegistry();
    const c = new CorrelateProcessor({ id: 'c', config: { ...defaultCorrelateConfig(), summary: false, wait: 10 }, logger: silentLogger, metrics }, {
      logs: { consumeLogs: async () => Promise.reject(new Error('queue full')) },
    });
    await c.start({} as never);
    await expect(c.consumeLogs(logs([newLogRecord({ body: 'x' })]))).rejects.toThrow('queue full');
    await c.shutdown();
  });
});

describe('memory bound', () => {
  it('a burst of distinct traces never holds more than max_traces / max_items; the rest flush early and are counted', async () => {
    const metrics = new MetricsRegistry();
    let delivered = 0;
    const c = new CorrelateProcessor({ id: 'c', config: { ...defaultCorrelateConfig(), summary: false, wait: 60_000, max_traces: 500, max_items: 2_000 }, logger: silentLogger, metrics }, {
      traces: { consumeTraces: async () => void delivered++ },
      logs: { consumeLogs: async () => void delivered++ },
    });
    await c.start({} as never);
    const pending: Promise<void>[] = [];
    let maxTraces = 0;
    let maxItems = 0;
    const N = 20_000;
    for (let i = 0; i < N; i++) {
      const traceId = i.toString(16).padStart(32, '0');
      const span = newSpan({ traceId, spanId: 'ab'.repeat(8), name: 'op', startTimeUnixNano: 1n, endTimeUnixNano: 2n });
      pending.push(c.consumeTraces({ resourceSpans: [{ resource: { attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', scopeSpans: [{ scope: emptyScope(), schemaUrl: '', spans: [span] }] }] }));
      // Let downstream take what flushed early (else the backlog bound refuses: next test).
      if (i % 100 === 99) await new Promise((r) => setImmediate(r));
      maxTraces = Math.max(maxTraces, c.held.traces);
      maxItems = Math.max(maxItems, c.held.items);
    }
    expect(maxTraces).toBe(500);
    expect(maxItems).toBeLessThanOrEqual(500);
    expect(metrics.read('trailhouse_correlate_evicted_traces', { processor: 'c', reason: 'max_traces' })).toBe(N - 500);
    expect(metrics.read('trailhouse_correlate_early_flushes', { processor: 'c', reason: 'max_traces' })).toBe(N - 500);
    await c.shutdown();
    await Promise.all(pending);
    expect(delivered).toBe(N);
  });

  it('max_items bounds held items when few traces carry many records', async () => {
    const metrics = new MetricsRegistry();
    const c = new CorrelateProcessor({ id: 'c', config: { ...defaultCorrelateConfig(), summary: false, wait: 60_000, max_items: 100 }, logger: silentLogger, metrics }, {
      logs: { consumeLogs: async () => {} },
    });
    await c.start({} as never);
    const pending: Promise<void>[] = [];
    let maxItems = 0;
    for (let i = 0; i < 200; i++) {
      const recs = Array.from({ length: 10 }, (_, k) => newLogRecord({ body: `r${k}`, traceId: 'ee'.repeat(16), spanId: 'ff'.repeat(8) }));
      pending.push(c.consumeLogs(logs(recs)));
      maxItems = Math.max(maxItems, c.held.items);
      if (i % 5 === 4) await new Promise((r) => setImmediate(r));
    }
    expect(maxItems).toBe(100);
    expect(metrics.read('trailhouse_correlate_early_flushes', { processor: 'c', reason: 'max_items' })).toBe(190);
    await c.shutdown();
    await Promise.all(pending);
  });

  it('passes on at most two payloads at a time, and refuses (queue_full) while a window of items waits downstream', async () => {
    const metrics = new MetricsRegistry();
    const gates: Array<() => void> = [];
    let delivered = 0;
    const c = new CorrelateProcessor({ id: 'c', config: { ...defaultCorrelateConfig(), summary: false, wait: 60_000, max_items: 30 }, logger: silentLogger, metrics }, {
      logs: {
        consumeLogs: () =>
          new Promise<void>((r) =>
            gates.push(() => {
              delivered++;
              r();
            }),
          ),
      },
    });
    await c.start({} as never);
    const batch = () => logs(Array.from({ length: 10 }, (_, k) => newLogRecord({ body: `r${k}`, traceId: 'ee'.repeat(16), spanId: 'ff'.repeat(8) })));
    // 3 payloads of 10 fill the window, the 4th pushes the oldest out (max_items); and so on.
    const accepted: Promise<void>[] = [];
    for (let i = 0; i < 6; i++) accepted.push(c.consumeLogs(batch()));
    await new Promise((r) => setImmediate(r));
    expect(gates.length).toBe(2); // the 3 flushed early: two downstream, one waiting
    expect(c.held).toMatchObject({ items: 30, backlog: 30 });
    expect(metrics.exposition()).toContain('trailhouse_correlate_backlog_items{processor="c"} 30\n');
    // The backlog (30) reached max_items: the next payload is refused, not held.
    const refused = c.consumeLogs(batch());
    await expect(refused).rejects.toMatchObject({ name: 'RefusedError', reason: 'queue_full' });
    expect(metrics.read('trailhouse_processor_refused_items', { processor: 'c', otel_signal: 'logs' })).toBe(10);
    // Downstream takes one: the waiting payload goes, the backlog falls below the bound.
    gates.shift()!();
    await new Promise((r) => setImmediate(r));
    expect(gates.length).toBe(2);
    expect(c.held.backlog).toBe(20);
    accepted.push(c.consumeLogs(batch()));
    const stop = c.shutdown();
    for (let n = 0; n < 50 && delivered < 7; n++) {
      while (gates.length) gates.shift()!();
      await new Promise((r) => setImmediate(r));
    }
    await stop;
    await Promise.all(accepted);
    expect(delivered).toBe(7);
  });

  it('a payload waiting for a dispatch slot after its window is still enriched: its traces stay indexed until then', async () => {
    const gates: Array<() => void> = [];
    const got: LogsData[] = [];
    const c = new CorrelateProcessor({ id: 'c', config: { ...defaultCorrelateConfig(), summary: false, wait: 30 }, logger: silentLogger, metrics: new MetricsRegistry() }, {
      logs: { consumeLogs: (d) => new Promise<void>((r) => gates.push(() => (got.push(d), r()))) },
      traces: { consumeTraces: async () => {} },
    });
    await c.start({} as never);
    const other = () => logs([newLogRecord({ body: 'busy', traceId: 'aa'.repeat(16), spanId: 'bb'.repeat(8) })]);
    const busy = [c.consumeLogs(other()), c.consumeLogs(other())];
    const span = newSpan({ traceId: 'cc'.repeat(16), spanId: 'dd'.repeat(8), name: 'GET /late', startTimeUnixNano: 1n, endTimeUnixNano: 2n });
    const spans = c.consumeTraces({ resourceSpans: [{ resource: { attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', scopeSpans: [{ scope: emptyScope(), schemaUrl: '', spans: [span] }] }] });
    const late = c.consumeLogs(logs([newLogRecord({ body: 'late', traceId: 'cc'.repeat(16), spanId: 'dd'.repeat(8) })]));
    // The windows close; two payloads hold both slots, the rest wait past the index's expiry.
    await new Promise((r) => setTimeout(r, 120));
    expect(gates.length).toBe(2);
    expect(c.held.backlog).toBeGreaterThan(0);
    for (let n = 0; n < 50 && got.length < 3; n++) {
      while (gates.length) gates.shift()!();
      await new Promise((r) => setTimeout(r, 5));
    }
    await Promise.all([...busy, spans, late]);
    const rec = got.map((d) => d.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!).find((r) => r.body === 'late')!;
    expect(rec.attributes.find((a) => a.key === 'trailhouse.span.name')?.value).toBe('GET /late');
    await c.shutdown();
  });
});
