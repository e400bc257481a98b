/**
 * The transform processor end to end: spans and logs from the real OTel SDK
 * exporters pass OTLP → transform → batch → ClickHouse, and the stored rows
 * show the statements' work (a route templated, a token masked, an attribute
 * set from the resource, a status raised where a condition held).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SeverityNumber, SpanKind } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { waitFor } from './helpers.ts';
import { startInTempDir, type RunningService } from './service.ts';

let running: RunningService | undefined;

beforeAll(async () => {
  running = await startInTempDir('th-transform-', (dir) => `
receivers:
  otlp:
    protocols: {http: {endpoint: "127.0.0.1:0"}}
processors:
  transform:
    error_mode: ignore
    trace_statements:
      - context: span
        statements:
          - replace_pattern(attributes["http.target"], "/orders/\\\\d+", "/orders/{id}")
          - set(attributes["team"], resource.attributes["team"])
          - set(status.code, STATUS_CODE_ERROR) where attributes["http.status_code"] >= 500
    log_statements:
      - context: log
        statements:
          - replace_pattern(body, "token=[^& ]+", "token=***")
          - set(severity_text, "ERROR") where severity_number >= SEVERITY_NUMBER_ERROR and severity_text == ""
  batch: {timeout: 50ms}
exporters:
  clickhouse:
    path: ${dir}/store
    query_endpoint: "127.0.0.1:0"
    sending_queue: {enabled: false}
service:
  telemetry: {metrics: {level: none}}
  pipelines:
    logs: {receivers: [otlp], processors: [transform, batch], exporters: [clickhouse]}
    traces: {receivers: [otlp], processors: [transform, batch], exporters: [clickhouse]}
`);
}, 120_000);

afterAll(async () => {
  await running?.stop();
});

describe('transform processor end to end', () => {
  it('stores what the statements made of the SDK\'s spans and logs', async () => {
    const http = `http://${running!.otlp.http!.address}`;
    const resource = resourceFromAttributes({ 'service.name': 'orders', team: 'payments' });
    const logs = new LoggerProvider({ resource, processors: [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ url: `${http}/v1/logs` }) })] });
    const tracing = new TracerProvider({ resource, spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: `${http}/v1/traces` }) })] });
    const span = tracing.getTracer('orders').startSpan('GET', { kind: SpanKind.SERVER, attributes: { 'http.target': '/orders/8812/items', 'http.status_code': 503 } });
    span.end();
    logs.getLogger('orders').emit({ severityNumber: SeverityNumber.ERROR, body: 'GET /pay?token=tok_live_9&x=1 failed' });
    await logs.forceFlush();
    await tracing.forceFlush();
    const [s] = await waitFor(async () => {
      const r = await running!.rows<Record<string, unknown>>(`SELECT SpanAttributes, StatusCode FROM otel.otel_traces WHERE ServiceName = 'orders'`);
      return r.length ? r : undefined;
    }, 30_000, 'the span row');
    expect(s).toEqual({ SpanAttributes: { 'http.target': '/orders/{id}/items', 'http.status_code': '503', team: 'payments' }, StatusCode: 'Error' });
    const [l] = await waitFor(async () => {
      const r = await running!.rows<Record<string, unknown>>(`SELECT Body, SeverityText FROM otel.otel_logs WHERE ServiceName = 'orders'`);
      return r.length ? r : undefined;
    }, 30_000, 'the log row');
    expect(l).toEqual({ Body: 'GET /pay?token=***&x=1 failed', SeverityText: 'ERROR' });
    await logs.shutdown();
    await tracing.shutdown();
  }, 60_000);
});
