/**
 * Connectors end to end (the Collector's `connectors:`), with the real OTel
 * SDK as sender and the embedded store:
 *  - routing: logs of the payments service go to one pipeline, the rest to
 *    the default one; spans of errors to one pipeline by a span condition;
 *  - forward: an ingest pipeline feeds a shared tail pipeline.
 * Each target pipeline marks its records, so the stored rows show the route.
 */
import { describe, expect, it } from 'vitest';
import { SpanStatusCode } from '@opentelemetry/api';
import { sdkSender } from './sdk.ts';
import { embeddedClickhouse, serviceFixture } from './service.ts';

const service = serviceFixture('th-connectors-', (dir) => `
receivers:
  otlp:
    protocols: {http: {endpoint: "127.0.0.1:0"}}
connectors:
  routing:
    default_pipelines: [logs/other]
    table:
      - condition: attributes["service.name"] == "payments"
        pipelines: [logs/payments]
      - context: span
        statement: route() where status.code == STATUS_CODE_ERROR
        pipelines: [traces/errors]
  forward:
processors:
  attributes/payments: {actions: [{key: route, action: insert, value: payments}]}
  attributes/other: {actions: [{key: route, action: insert, value: other}]}
  attributes/errors: {actions: [{key: route, action: insert, value: errors}]}
  attributes/tail: {actions: [{key: route, action: insert, value: tail}]}
exporters:
${embeddedClickhouse(dir)}
service:
  telemetry: {metrics: {level: none}}
  pipelines:
    logs/in: {receivers: [otlp], exporters: [routing]}
    logs/payments: {receivers: [routing], processors: [attributes/payments], exporters: [clickhouse]}
    logs/other: {receivers: [routing], processors: [attributes/other], exporters: [clickhouse]}
    traces/in: {receivers: [otlp], exporters: [routing]}
    traces/errors: {receivers: [routing], processors: [attributes/errors], exporters: [forward]}
    traces/tail: {receivers: [forward], processors: [attributes/tail], exporters: [clickhouse]}
`);

describe('connectors end to end', () => {
  it('routing sends each resource or span to its route\'s pipelines (the rest to the default); forward joins pipelines', async () => {
    const http = `http://${service().otlp.http!.address}`;
    const senders = ['payments', 'cart'].map((svc) => ({ svc, ...sdkSender(http, { 'service.name': svc }) }));
    for (const s of senders) {
      for (let i = 0; i < 3; i++) s.logs.getLogger('t').emit({ body: `${s.svc} ${i}` });
      const tracer = s.tracing.getTracer('t');
      tracer.startSpan(`${s.svc} ok`).end();
      const bad = tracer.startSpan(`${s.svc} failed`);
      bad.setStatus({ code: SpanStatusCode.ERROR });
      bad.end();
    }
    await Promise.all(senders.map((s) => s.flush()));

    const logs = await service().waitRows<{ ServiceName: string; route: string; n: string }>(`SELECT ServiceName, LogAttributes['route'] AS route, count() AS n FROM otel.otel_logs GROUP BY ServiceName, route ORDER BY ServiceName`, (r) => r.reduce((s, x) => s + Number(x.n), 0) === 6, 'the 6 log rows');
    expect(logs).toEqual([
      { ServiceName: 'cart', route: 'other', n: '3' },
      { ServiceName: 'payments', route: 'payments', n: '3' },
    ]);
    const spans = await service().waitRows<{ SpanName: string; route: string }>(`SELECT SpanName, SpanAttributes['route'] AS route FROM otel.otel_traces ORDER BY SpanName`, (r) => r.length >= 2, 'the error spans');
    await new Promise((r) => setTimeout(r, 300)); // the ok spans had no route and no default: dropped
    expect(await service().rows(`SELECT SpanName, SpanAttributes['route'] AS route FROM otel.otel_traces ORDER BY SpanName`)).toEqual(spans);
    // Through traces/errors, then forward into traces/tail: both pipelines' marks (insert keeps the first).
    expect(spans).toEqual([
      { SpanName: 'cart failed', route: 'errors' },
      { SpanName: 'payments failed', route: 'errors' },
    ]);
    await Promise.all(senders.map((s) => s.shutdown()));
  }, 60_000);
});
