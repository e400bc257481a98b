/**
 * Client metadata end to end, the Collector's multi-tenant pattern: real OTel
 * SDK exporters (OTLP/HTTP with headers, OTLP/gRPC with metadata) of two
 * tenants → otlp (include_metadata) → batch (metadata_keys: [x-tenant]) →
 * attributes (from_context) → ClickHouse. Each stored row names its sender's
 * tenant, though batches from both senders were in flight together.
 */
import { describe, expect, it } from 'vitest';
import { Metadata } from '@grpc/grpc-js';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider, type LogRecordExporter } from '@opentelemetry/sdk-logs';
import { OTLPLogExporter as HttpLogs } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPLogExporter as GrpcLogs } from '@opentelemetry/exporter-logs-otlp-grpc';
import { embeddedClickhouse, serviceFixture } from './service.ts';

const service = serviceFixture('th-tenant-', (dir) => `
receivers:
  otlp:
    protocols:
      http: {endpoint: "127.0.0.1:0", include_metadata: true}
      grpc: {endpoint: "127.0.0.1:0", include_metadata: true}
processors:
  batch: {timeout: 100ms, metadata_keys: [X-Tenant]}
  attributes/tenant:
    actions:
      - {key: tenant, action: upsert, from_context: metadata.x-tenant}
      - {key: sender, action: insert, from_context: client.address}
exporters:
${embeddedClickhouse(dir)}
service:
  telemetry: {metrics: {level: none}}
  pipelines:
    logs: {receivers: [otlp], processors: [batch, attributes/tenant], exporters: [clickhouse]}
`);

function provider(service: string, exporter: LogRecordExporter): LoggerProvider {
  return new LoggerProvider({ resource: resourceFromAttributes({ 'service.name': service }), processors: [new BatchLogRecordProcessor({ exporter })] });
}

describe('client metadata end to end', () => {
  it('each row carries its sender\'s tenant header, batched apart; a header not batched on does not survive the batch', async () => {
    const otlp = service().otlp;
    const metadata = new Metadata();
    metadata.set('x-tenant', 'globex');
    const acme = provider('tenant-acme', new HttpLogs({ url: `http://${otlp.http!.address}/v1/logs`, headers: { 'X-Tenant': 'acme', 'X-Other': 'dropped' } }));
    const globex = provider('tenant-globex', new GrpcLogs({ url: `http://${otlp.grpc!.address}`, metadata }));
    for (let i = 0; i < 20; i++) {
      acme.getLogger('t').emit({ body: `acme ${i}` });
      globex.getLogger('t').emit({ body: `globex ${i}` });
    }
    await Promise.all([acme.forceFlush(), globex.forceFlush()]);
    const rows = await service().waitRows<{ ServiceName: string; tenant: string; n: string; other: string; sender: string }>(`SELECT ServiceName, LogAttributes['tenant'] AS tenant, LogAttributes['x-other'] AS other, LogAttributes['sender'] AS sender, count() AS n
         FROM otel.otel_logs WHERE ServiceName LIKE 'tenant-%' GROUP BY ServiceName, tenant, other, sender ORDER BY ServiceName`, (r) => r.reduce((s, x) => s + Number(x.n), 0) === 40, 'all 40 rows');
    // After a batch the sender's address is gone (many senders' data), as in the Collector.
    expect(rows).toEqual([
      { ServiceName: 'tenant-acme', tenant: 'acme', other: '', sender: '', n: '20' },
      { ServiceName: 'tenant-globex', tenant: 'globex', other: '', sender: '', n: '20' },
    ]);
    await Promise.all([acme.shutdown(), globex.shutdown()]);
  }, 60_000);
});
