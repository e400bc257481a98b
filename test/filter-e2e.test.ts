/**
 * The filter processor end to end: the real OTel SDK exporters send health
 * checks, debug logs and noisy span events among real traffic to a pipeline
 * with a Collector-style filter (otlp → filter → batch → clickhouse); only
 * the real traffic is stored, and a request filtered whole is still answered
 * with success (nothing in it was refused).
 */
import { describe, expect, it } from 'vitest';
import { SpanKind } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { sdkSender } from './sdk.ts';
import { embeddedClickhouse, serviceFixture } from './service.ts';

const service = serviceFixture('th-filter-', (dir) => `
receivers:
  otlp:
    protocols: {http: {endpoint: "127.0.0.1:0"}}
processors:
  filter/noise:
    error_mode: ignore
    logs:
      log_record:
        - severity_number < SEVERITY_NUMBER_INFO and severity_number != SEVERITY_NUMBER_UNSPECIFIED
        - IsMatch(body, "^GET /healthz")
    traces:
      span:
        - attributes["http.route"] == "/healthz" and kind == SPAN_KIND_SERVER
      spanevent:
        - name == "cache.hit"
  batch: {timeout: 50ms}
exporters:
${embeddedClickhouse(dir)}
service:
  telemetry: {metrics: {level: none}}
  pipelines:
    logs: {receivers: [otlp], processors: [filter/noise, batch], exporters: [clickhouse]}
    traces: {receivers: [otlp], processors: [filter/noise, batch], exporters: [clickhouse]}
`);

describe('filter processor end to end', () => {
  it('health checks, debug logs and noisy events sent by the SDK are not stored; the rest is', async () => {
    const sender = sdkSender(`http://${service().otlp.http!.address}`, { 'service.name': 'cart' });
    const tracer = sender.tracing.getTracer('cart');
    const health = tracer.startSpan('GET /healthz', { kind: SpanKind.SERVER, attributes: { 'http.route': '/healthz' } });
    health.end();
    const probe = tracer.startSpan('GET /healthz', { kind: SpanKind.CLIENT, attributes: { 'http.route': '/healthz' } }); // outbound: kept
    probe.end();
    const checkout = tracer.startSpan('POST /checkout', { kind: SpanKind.SERVER, attributes: { 'http.route': '/checkout' } });
    checkout.addEvent('cache.hit', { key: 'cart:7' });
    checkout.addEvent('payment.authorized');
    checkout.end();
    const logger = sender.logs.getLogger('cart');
    logger.emit({ severityNumber: SeverityNumber.DEBUG, body: 'cache warmed' });
    logger.emit({ severityNumber: SeverityNumber.INFO, body: 'GET /healthz 200' });
    logger.emit({ severityNumber: SeverityNumber.INFO, body: 'order 7 placed' });
    logger.emit({ body: 'no severity given' });
    await sender.flush();

    const spans = await service().waitRows<{ SpanName: string; SpanKind: string; EventsName: string[] }>(`SELECT SpanName, SpanKind, Events.Name AS EventsName FROM otel.otel_traces WHERE ServiceName = 'cart' ORDER BY SpanName, SpanKind`, (r) => r.length >= 2, 'the kept spans');
    const logRows = await service().waitRows<{ Body: string }>(`SELECT Body FROM otel.otel_logs WHERE ServiceName = 'cart' ORDER BY Body`, (r) => r.length >= 2, 'the kept logs');
    await new Promise((r) => setTimeout(r, 300)); // anything else would have landed with them
    expect(await service().rows(`SELECT SpanName, SpanKind, Events.Name AS EventsName FROM otel.otel_traces WHERE ServiceName = 'cart' ORDER BY SpanName, SpanKind`)).toEqual(spans);
    expect(spans).toEqual([
      { SpanName: 'GET /healthz', SpanKind: 'Client', EventsName: [] },
      { SpanName: 'POST /checkout', SpanKind: 'Server', EventsName: ['payment.authorized'] },
    ]);
    expect((await service().rows<{ Body: string }>(`SELECT Body FROM otel.otel_logs WHERE ServiceName = 'cart' ORDER BY Body`)).map((r) => r.Body)).toEqual(['no severity given', 'order 7 placed']);
    expect(logRows.length).toBe(2);
    await sender.shutdown();
  }, 60_000);

  it('a request filtered whole is answered 200 and stores nothing', async () => {
    const body = {
      resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'probe' } }] }, scopeLogs: [{ logRecords: [{ body: { stringValue: 'GET /healthz 200' }, severityNumber: 9 }] }] }],
    };
    const res = await fetch(`http://${service().otlp.http!.address}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    expect(await service().rows(`SELECT count() AS n FROM otel.otel_logs WHERE ServiceName = 'probe'`)).toEqual([{ n: '0' }]);
  });
});
