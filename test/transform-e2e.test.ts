/**
 * The transform processor end to end: spans and logs from the real OTel SDK
 * exporters pass OTLP → transform → batch → ClickHouse, and the stored rows
 * show the statements' work (a route templated, a token masked, an attribute
 * set from the resource, a status raised where a condition held).
 */
import { describe, expect, it } from 'vitest';
import { SpanKind } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { sdkSender } from './sdk.ts';
import { embeddedClickhouse, serviceFixture } from './service.ts';

const service = serviceFixture('th-transform-', (dir) => `
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
${embeddedClickhouse(dir)}
service:
  telemetry: {metrics: {level: none}}
  pipelines:
    logs: {receivers: [otlp], processors: [transform, batch], exporters: [clickhouse]}
    traces: {receivers: [otlp], processors: [transform, batch], exporters: [clickhouse]}
`);

describe('transform processor end to end', () => {
  it('stores what the statements made of the SDK\'s spans and logs', async () => {
    const sender = sdkSender(`http://${service().otlp.http!.address}`, { 'service.name': 'orders', team: 'payments' });
    const span = sender.tracing.getTracer('orders').startSpan('GET', { kind: SpanKind.SERVER, attributes: { 'http.target': '/orders/8812/items', 'http.status_code': 503 } });
    span.end();
    sender.logs.getLogger('orders').emit({ severityNumber: SeverityNumber.ERROR, body: 'GET /pay?token=tok_live_9&x=1 failed' });
    await sender.flush();
    const [s] = await service().waitRows<Record<string, unknown>>(`SELECT SpanAttributes, StatusCode FROM otel.otel_traces WHERE ServiceName = 'orders'`, (r) => r.length > 0, 'the span row');
    expect(s).toEqual({ SpanAttributes: { 'http.target': '/orders/{id}/items', 'http.status_code': '503', team: 'payments' }, StatusCode: 'Error' });
    const [l] = await service().waitRows<Record<string, unknown>>(`SELECT Body, SeverityText FROM otel.otel_logs WHERE ServiceName = 'orders'`, (r) => r.length > 0, 'the log row');
    expect(l).toEqual({ Body: 'GET /pay?token=***&x=1 failed', SeverityText: 'ERROR' });
    await sender.shutdown();
  }, 60_000);
});
