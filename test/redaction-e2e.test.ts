/**
 * Redaction end to end: the real OTel SDK exporters send logs and spans
 * carrying secrets to a pipeline that redacts before the durable queue
 * (otlp → redaction → batch → spool on file_storage → clickhouse), and the
 * rows in the embedded ClickHouse hold none of them. (That the received
 * protobuf bytes, which the queue stores when a payload still has them, are
 * dropped before any processor that changes records is core/service's
 * rule, tested there.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT_CONTEXT, SpanKind, TraceFlags, trace } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import type { OtlpReceiver } from '../receivers/otlp/otlp.ts';
import { waitFor } from './helpers.ts';
import { embeddedClickhouse, startInTempDir, type RunningService } from './service.ts';

let running: RunningService | undefined;
let otlp: OtlpReceiver;

beforeAll(async () => {
  running = await startInTempDir('th-redact-', (dir) => `
receivers:
  otlp:
    protocols: {http: {endpoint: "127.0.0.1:0"}}
  spool:
processors:
  redaction:
    allowed_keys: [service.name, url.path, http.response.status_code, user.email, card]
    blocked_key_patterns: ["(?i)authorization"]
    blocked_values: ["4[0-9]{12}(?:[0-9]{3})?", "token=[^&\\\\s]+"]
    allowed_values: [".+@example\\\\.com$"]
    summary: info
  batch: {timeout: 50ms}
exporters:
  spool:
    sending_queue: {storage: file_storage}
${embeddedClickhouse(dir)}
extensions:
  file_storage: {directory: ${dir}/queue}
service:
  extensions: [file_storage]
  telemetry: {metrics: {level: none}}
  pipelines:
    logs/ingest: {receivers: [otlp], processors: [redaction, batch], exporters: [spool]}
    traces/ingest: {receivers: [otlp], processors: [redaction, batch], exporters: [spool]}
    logs: {receivers: [spool], exporters: [clickhouse]}
    traces: {receivers: [spool], exporters: [clickhouse]}
`,
  );
  otlp = running.otlp;
}, 120_000);

afterAll(async () => {
  await running?.stop();
});

const rows = <T>(query: string): Promise<T[]> => running!.rows<T>(query);

describe('redaction end to end', () => {
  it('secrets sent by the SDK never reach the store; allowed data does', async () => {
    const resource = resourceFromAttributes({ 'service.name': 'payments', 'host.ip': '10.1.2.3' });
    const logs = new LoggerProvider({ resource, processors: [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ url: `http://${otlp.http!.address}/v1/logs` }) })] });
    const tracing = new TracerProvider({ resource, spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: `http://${otlp.http!.address}/v1/traces` }) })] });

    const span = tracing.getTracer('pay').startSpan('POST /pay', {
      kind: SpanKind.SERVER,
      attributes: { 'url.path': '/pay?token=tok_live_123&amount=5', 'http.request.header.authorization': 'Bearer eyJhbGci', card: '4111111111111111', 'http.response.status_code': 200 },
    });
    span.end();
    const traceId = span.spanContext().traceId;
    const ctx = trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId: span.spanContext().spanId, traceFlags: TraceFlags.SAMPLED });
    logs.getLogger('pay').emit({
      context: ctx,
      severityNumber: SeverityNumber.INFO,
      body: 'charged card 4111111111111111 for order 17',
      attributes: { 'user.email': 'ops@example.com', password: 'hunter2', card: '5500 4111111111111111', 'url.path': '/pay?token=tok_live_123' },
    });
    await logs.forceFlush();
    await tracing.forceFlush();

    const [log] = await waitFor(async () => {
      const r = await rows<Record<string, unknown>>(`SELECT Body, LogAttributes, ResourceAttributes FROM otel.otel_logs WHERE TraceId = '${traceId}'`);
      return r.length === 1 ? r : undefined;
    }, 30_000, 'the log row');
    const [spanRow] = await waitFor(async () => {
      const r = await rows<Record<string, unknown>>(`SELECT SpanAttributes, ResourceAttributes FROM otel.otel_traces WHERE TraceId = '${traceId}'`);
      return r.length === 1 ? r : undefined;
    }, 30_000, 'the span row');

    expect(log!.Body).toBe('charged card **** for order 17');
    expect(log!.LogAttributes).toEqual({
      'user.email': 'ops@example.com',
      card: '5500 ****',
      'url.path': '/pay?****',
      'redaction.redacted.count': '1',
      'redaction.masked.count': '2',
      'redaction.allowed.count': '1',
      'redaction.body.masked.count': '1',
    });
    expect(log!.ResourceAttributes).toEqual({ 'service.name': 'payments', 'redaction.redacted.count': '1' });
    expect(spanRow!.SpanAttributes).toEqual({
      'url.path': '/pay?****&amount=5',
      card: '****',
      'http.response.status_code': '200',
      'redaction.redacted.count': '1',
      'redaction.masked.count': '2',
    });
    // Nothing secret anywhere in either table.
    for (const secret of ['hunter2', 'tok_live_123', 'eyJhbGci', '4111111111111111', '10.1.2.3']) {
      const [hits] = await rows<{ n: string }>(
        `SELECT (SELECT count() FROM otel.otel_logs WHERE position(toString(tuple(*)), '${secret}') > 0) + (SELECT count() FROM otel.otel_traces WHERE position(toString(tuple(*)), '${secret}') > 0) AS n`,
      );
      expect([secret, hits!.n]).toEqual([secret, '0']);
    }
    await logs.shutdown();
    await tracing.shutdown();
  }, 60_000);
});
