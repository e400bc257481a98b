/**
 * A tenant header across the distributed shape, with the real broker: the
 * OTel SDK sends with `X-Tenant` → gateway (otlp include_metadata → batch by
 * metadata_keys → kafka exporter include_metadata_keys) → Kafka message
 * headers → ingester (kafka receiver header_extraction) → ClickHouse, where
 * each row's resource names its sender's tenant as `kafka.header.x-tenant`.
 * Gateway and ingester run in one process here, as two pipelines.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { waitFor } from './helpers.ts';
import { createTopics, ensureKafka, uniqueTopic } from './kafka-broker.ts';
import { embeddedClickhouse, startInTempDir, type RunningService } from './service.ts';

let running: RunningService | undefined;
const topic = uniqueTopic('tenant-logs');

beforeAll(async () => {
  const brokers = await ensureKafka();
  await createTopics(brokers, [topic], 2);
  running = await startInTempDir('th-kafka-tenant-', (dir) => `
receivers:
  otlp:
    protocols: {http: {endpoint: "127.0.0.1:0", include_metadata: true}}
  kafka:
    brokers: ["${brokers}"]
    group_id: ${uniqueTopic('tenant-ingester')}
    logs: {topic: ${topic}}
    initial_offset: earliest
    header_extraction: {extract_headers: true, headers: [x-tenant, absent]}
processors:
  batch: {timeout: 50ms, metadata_keys: [x-tenant]}
exporters:
  kafka:
    brokers: ["${brokers}"]
    logs: {topic: ${topic}}
    include_metadata_keys: [x-tenant]
${embeddedClickhouse(dir)}
service:
  telemetry: {metrics: {level: none}}
  pipelines:
    logs/gateway: {receivers: [otlp], processors: [batch], exporters: [kafka]}
    logs/ingester: {receivers: [kafka], exporters: [clickhouse]}
`);
}, 600_000);

afterAll(async () => {
  await running?.stop();
});

describe('tenant header through Kafka', () => {
  it('each stored row carries its sender\'s tenant from the Kafka message headers', async () => {
    const url = `http://${running!.otlp.http!.address}/v1/logs`;
    const sender = (tenant: string) =>
      new LoggerProvider({
        resource: resourceFromAttributes({ 'service.name': `svc-${tenant}` }),
        processors: [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ url, headers: { 'X-Tenant': tenant } }) })],
      });
    const acme = sender('acme');
    const globex = sender('globex');
    for (let i = 0; i < 10; i++) {
      acme.getLogger('t').emit({ body: `acme ${i}` });
      globex.getLogger('t').emit({ body: `globex ${i}` });
    }
    await Promise.all([acme.forceFlush(), globex.forceFlush()]);
    const rows = await waitFor(async () => {
      const r = await running!.rows<{ ServiceName: string; tenant: string; absent: number; n: string }>(
        `SELECT ServiceName, ResourceAttributes['kafka.header.x-tenant'] AS tenant, mapContains(ResourceAttributes, 'kafka.header.absent') AS absent, count() AS n
         FROM otel.otel_logs WHERE ServiceName LIKE 'svc-%' GROUP BY ServiceName, tenant, absent ORDER BY ServiceName`,
      );
      return r.reduce((s, x) => s + Number(x.n), 0) === 20 ? r : undefined;
    }, 60_000, 'all 20 rows');
    expect(rows).toEqual([
      { ServiceName: 'svc-acme', tenant: 'acme', absent: 0, n: '10' },
      { ServiceName: 'svc-globex', tenant: 'globex', absent: 0, n: '10' },
    ]);
    await Promise.all([acme.shutdown(), globex.shutdown()]);
  }, 120_000);
});
