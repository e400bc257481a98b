/**
 * End to end, embedded: the real OTel JS SDK exporters send to the OTLP
 * receiver of a pipeline shaped like the default one (memory_limiter → batch
 * → spool → clickhouse on the embedded engine), and the rows are read back
 * through the read-only ClickHouse HTTP interface with @clickhouse/client,
 * field by field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import type { OtlpReceiver } from '../receivers/otlp/otlp.ts';
import { waitFor } from './helpers.ts';
import { startService, type RunningService } from './service.ts';

const dir = mkdtempSync(join(tmpdir(), 'th-e2e-'));
let running: RunningService | undefined;
let otlp: OtlpReceiver;

beforeAll(async () => {
  running = await startService(
    `
receivers:
  otlp:
    protocols: {grpc: {endpoint: "127.0.0.1:0"}, http: {endpoint: "127.0.0.1:0"}}
  spool:
processors:
  memory_limiter: {limit_mib: 2048}
  batch: {timeout: 50ms}
exporters:
  spool:
  clickhouse:
    path: ${dir}
    query_endpoint: "127.0.0.1:0"
    sending_queue: {enabled: false}
service:
  telemetry: {metrics: {level: none}}
  pipelines:
    logs/ingest: {receivers: [otlp], processors: [memory_limiter, batch], exporters: [spool]}
    traces/ingest: {receivers: [otlp], processors: [memory_limiter, batch], exporters: [spool]}
    logs: {receivers: [spool], exporters: [clickhouse]}
    traces: {receivers: [spool], exporters: [clickhouse]}
`,
  );
  otlp = running.otlp;
  expect(running.queryUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
});

afterAll(async () => {
  await running?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const rows = <T>(query: string): Promise<T[]> => running!.rows<T>(query);

describe('embedded end to end', () => {
  it('stores SDK logs (HTTP/protobuf) and spans (gRPC) with every field intact', async () => {
    const resource = resourceFromAttributes({ 'service.name': 'checkout', 'k8s.namespace.name': 'shop' });
    const logExporter = new OTLPLogExporter({ url: `http://${otlp.http!.address}/v1/logs` });
    const logs = new LoggerProvider({ resource, processors: [new BatchLogRecordProcessor({ exporter: logExporter })] });
    const spanExporter = new OTLPTraceExporter({ url: `http://${otlp.grpc!.address}` });
    const tracing = new TracerProvider({ resource, spanProcessors: [new BatchSpanProcessor({ exporter: spanExporter })] });

    const tracer = tracing.getTracer('shop', '1.2.3');
    const root = tracer.startSpan('POST /checkout', { kind: SpanKind.SERVER, startTime: [1_700_000_000, 0], attributes: { 'http.response.status_code': 403, 'url.path': '/checkout' } });
    root.addEvent('rbac.denied', { policy: 'deny-all' }, [1_700_000_000, 500_000]);
    root.setStatus({ code: SpanStatusCode.ERROR, message: 'denied' });
    root.end([1_700_000_000, 2_000_000]);
    const traceId = root.spanContext().traceId;
    const spanId = root.spanContext().spanId;

    const logger = logs.getLogger('envoy.access', '1.31');
    const ctx = trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId, traceFlags: TraceFlags.SAMPLED });
    logger.emit({
      context: ctx,
      timestamp: [1_700_000_000, 1_000],
      severityNumber: SeverityNumber.WARN,
      severityText: 'WARN',
      body: { method: 'POST', code: 403 },
      attributes: { 'http.response.status_code': 403, 'response_code_details': 'rbac_access_denied_matched_policy[ns[shop]-policy[deny-all]-rule[0]]', 'ratio': 0.5, 'tls': true },
    });
    logger.emit({ context: ctx, timestamp: [1_700_000_001, 0], body: 'second' });
    await logs.forceFlush();
    await tracing.forceFlush();

    const logRows = await waitFor(async () => {
      const r = await rows<Record<string, unknown>>(`SELECT * FROM otel.otel_logs WHERE TraceId = '${traceId}' ORDER BY Timestamp`);
      return r.length === 2 ? r : undefined;
    }, 30_000, 'two log rows');
    expect(logRows[0]).toMatchObject({
      Timestamp: '2023-11-14 22:13:20.000001000',
      TimestampTime: '2023-11-14 22:13:20',
      TraceId: traceId,
      SpanId: spanId,
      TraceFlags: 1,
      SeverityText: 'WARN',
      SeverityNumber: 13,
      ServiceName: 'checkout',
      // Maps are JSON with sorted keys, as Go's json.Marshal writes the Collector's AsString.
      Body: '{"code":403,"method":"POST"}',
      ResourceAttributes: { 'service.name': 'checkout', 'k8s.namespace.name': 'shop' },
      ScopeName: 'envoy.access',
      ScopeVersion: '1.31',
      LogAttributes: {
        'http.response.status_code': '403',
        response_code_details: 'rbac_access_denied_matched_policy[ns[shop]-policy[deny-all]-rule[0]]',
        ratio: '0.5',
        tls: 'true',
      },
    });
    expect(logRows[1]).toMatchObject({ Timestamp: '2023-11-14 22:13:21.000000000', Body: 'second', SeverityNumber: 0, LogAttributes: {} });

    const spanRows = await waitFor(async () => {
      const r = await rows<Record<string, unknown>>(`SELECT * FROM otel.otel_traces WHERE TraceId = '${traceId}'`);
      return r.length === 1 ? r : undefined;
    }, 30_000, 'the span row');
    expect(spanRows[0]).toMatchObject({
      Timestamp: '2023-11-14 22:13:20.000000000',
      TraceId: traceId,
      SpanId: spanId,
      ParentSpanId: '',
      SpanName: 'POST /checkout',
      SpanKind: 'Server',
      ServiceName: 'checkout',
      ScopeName: 'shop',
      ScopeVersion: '1.2.3',
      SpanAttributes: { 'http.response.status_code': '403', 'url.path': '/checkout' },
      Duration: '2000000',
      StatusCode: 'Error',
      StatusMessage: 'denied',
      'Events.Name': ['rbac.denied'],
      'Events.Attributes': [{ policy: 'deny-all' }],
    });
    // The materialized view's row lands just after the span's (a reader can see the one before the other).
    const lookup = await waitFor(async () => {
      const r = await rows<{ TraceId: string }>(`SELECT TraceId FROM otel.otel_traces_trace_id_ts WHERE TraceId = '${traceId}'`);
      return r.length > 0 ? r : undefined;
    }, 10_000, 'the trace id lookup row');
    expect(lookup).toHaveLength(1);

    await logs.shutdown();
    await tracing.shutdown();
  });

  it('refuses writes through the query interface', async () => {
    await expect(running!.ch.command({ query: 'DROP TABLE otel.otel_logs' })).rejects.toThrow();
    await expect(running!.ch.insert({ table: 'otel.otel_logs', values: [{ Body: 'x' }], format: 'JSONEachRow' })).rejects.toThrow();
    expect((await rows<{ c: string }>('SELECT count() AS c FROM otel.otel_logs'))[0]!.c).not.toBe('0');
  });
});
