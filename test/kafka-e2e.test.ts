/**
 * The distributed shape in one process, with real parts: OTel SDK exporters →
 * gateway (otlp → batch → kafka exporter) → the test broker → ingester (kafka
 * receiver → clickhouse exporter on the embedded engine). Rows are read back
 * through the ingester's read-only ClickHouse HTTP interface.
 *
 * - every field intact end to end;
 * - ClickHouse refusing inserts for a while (too many parts): nothing lost,
 *   nothing doubled, the offsets wait;
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { builtinRegistry } from '../components.ts';
import { loadConfigText } from '../core/config/load.ts';
import { Service } from '../core/service.ts';
import type { ExporterHelper } from '../core/exporter-helper.ts';
import { newLogRecord, type LogsData } from '../core/model.ts';
import type { OtlpReceiver } from '../receivers/otlp/otlp.ts';
import type { Store } from '../lib/clickhouse/index.ts';
import { testLogger, waitFor } from './helpers.ts';
import { createTopics, ensureKafka, testKafka, uniqueTopic } from './kafka-broker.ts';
import { Payload } from '../core/payload.ts';

const dir = mkdtempSync(join(tmpdir(), 'th-kafka-e2e-'));
const logsTopic = uniqueTopic('e2e-logs');
const spansTopic = uniqueTopic('e2e-spans');
const group = uniqueTopic('e2e-ingester');
let gateway: Service;
let ingester: Service;
let ch: ClickHouseClient;
let store: Store;
let otlp: OtlpReceiver;
let kafkaOut: ExporterHelper;
let brokers: string;

type Internals = { receivers: Array<{ id: string; component: unknown }>; exporters: Array<{ id: string; component: unknown }> };

beforeAll(async () => {
  brokers = await ensureKafka();
  await createTopics(brokers, [logsTopic, spansTopic], 4);
  const kafka = `brokers: ["${brokers}"]\n    logs: {topic: ${logsTopic}}\n    traces: {topic: ${spansTopic}}`;
  gateway = new Service(
    loadConfigText(
      `
receivers:
  otlp: {protocols: {grpc: {endpoint: "127.0.0.1:0"}, http: {endpoint: "127.0.0.1:0"}}}
processors:
  batch: {timeout: 50ms}
exporters:
  kafka:
    ${kafka}
    partition_traces_by_id: true
    partition_logs_by_trace_id: true
service:
  telemetry: {metrics: {level: none}}
  pipelines:
    logs: {receivers: [otlp], processors: [batch], exporters: [kafka]}
    traces: {receivers: [otlp], processors: [batch], exporters: [kafka]}
`,
      builtinRegistry(),
      {},
    ),
    { logger: testLogger() },
  );
  ingester = new Service(
    loadConfigText(
      `
receivers:
  kafka:
    ${kafka}
    group_id: ${group}
    initial_offset: earliest
    max_batch_records: 200
    max_fetch_wait: 100ms
    error_backoff: {initial_interval: 200ms, max_interval: 1s}
exporters:
  clickhouse:
    path: ${dir}
    query_endpoint: "127.0.0.1:0"
    sending_queue: {enabled: false}
    retry_on_failure: {initial_interval: 100ms, max_interval: 500ms, max_elapsed_time: 2s}
service:
  telemetry: {metrics: {level: none}}
  pipelines:
    logs: {receivers: [kafka], exporters: [clickhouse]}
    traces: {receivers: [kafka], exporters: [clickhouse]}
`,
      builtinRegistry(),
      {},
    ),
    { logger: testLogger() },
  );
  await ingester.start();
  await gateway.start();
  const g = gateway as unknown as Internals;
  otlp = g.receivers.find((r) => r.id === 'otlp')!.component as OtlpReceiver;
  kafkaOut = g.exporters.find((e) => e.id === 'kafka')!.component as ExporterHelper;
  const exp = (ingester as unknown as Internals).exporters.find((e) => e.id === 'clickhouse')!.component as { queryAddress?: string; store?: Store; pusher?: { store?: Store } };
  ch = createClient({ url: `http://${exp.queryAddress}` });
  store = (exp.store ?? exp.pusher?.store)!;
}, 600_000);

afterAll(async () => {
  await ch?.close();
  await gateway?.shutdown();
  await ingester?.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

async function rows<T>(query: string): Promise<T[]> {
  return (await ch.query({ query, format: 'JSONEachRow' })).json<T>();
}

describe('gateway → Kafka → ingester → ClickHouse', () => {
  it('SDK logs and spans arrive with every field intact', async () => {
    const resource = resourceFromAttributes({ 'service.name': 'ratings', 'k8s.namespace.name': 'bookinfo' });
    const logs = new LoggerProvider({ resource, processors: [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ url: `http://${otlp.http!.address}/v1/logs` }) })] });
    const tracing = new TracerProvider({ resource, spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: `http://${otlp.grpc!.address}` }) })] });
    const root = tracing.getTracer('mesh', '2.0').startSpan('GET /ratings/7', { kind: SpanKind.SERVER, startTime: [1_700_000_000, 0], attributes: { 'http.response.status_code': 503 } });
    root.addEvent('upstream_reset', { reason: 'overflow' }, [1_700_000_000, 700_000]);
    root.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream overflow' });
    root.end([1_700_000_000, 3_000_000]);
    const { traceId, spanId } = root.spanContext();
    const ctx = trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId, traceFlags: TraceFlags.SAMPLED });
    logs.getLogger('envoy.access', '1.31').emit({
      context: ctx,
      timestamp: [1_700_000_000, 1_000],
      severityNumber: SeverityNumber.ERROR,
      severityText: 'ERROR',
      body: { method: 'GET', code: 503 },
      attributes: { 'http.response.status_code': 503, 'response_flags': 'UO', ratio: 0.25, tls: true },
    });
    await logs.forceFlush();
    await tracing.forceFlush();

    const logRows = await waitFor(async () => {
      const r = await rows<Record<string, unknown>>(`SELECT * FROM otel.otel_logs WHERE TraceId = '${traceId}'`);
      return r.length === 1 ? r : undefined;
    }, 60_000, 'the log row');
    expect(logRows[0]).toMatchObject({
      Timestamp: '2023-11-14 22:13:20.000001000',
      TraceId: traceId,
      SpanId: spanId,
      TraceFlags: 1,
      SeverityText: 'ERROR',
      SeverityNumber: 17,
      ServiceName: 'ratings',
      Body: '{"code":503,"method":"GET"}',
      ResourceAttributes: { 'service.name': 'ratings', 'k8s.namespace.name': 'bookinfo' },
      ScopeName: 'envoy.access',
      ScopeVersion: '1.31',
      LogAttributes: { 'http.response.status_code': '503', response_flags: 'UO', ratio: '0.25', tls: 'true' },
    });
    const spanRows = await waitFor(async () => {
      const r = await rows<Record<string, unknown>>(`SELECT * FROM otel.otel_traces WHERE TraceId = '${traceId}'`);
      return r.length === 1 ? r : undefined;
    }, 60_000, 'the span row');
    expect(spanRows[0]).toMatchObject({
      Timestamp: '2023-11-14 22:13:20.000000000',
      TraceId: traceId,
      SpanId: spanId,
      SpanName: 'GET /ratings/7',
      SpanKind: 'Server',
      ServiceName: 'ratings',
      ScopeName: 'mesh',
      ScopeVersion: '2.0',
      SpanAttributes: { 'http.response.status_code': '503' },
      Duration: '3000000',
      StatusCode: 'Error',
      StatusMessage: 'upstream overflow',
      'Events.Name': ['upstream_reset'],
      'Events.Attributes': [{ reason: 'overflow' }],
    });
    await logs.shutdown();
    await tracing.shutdown();
  });

  it('ClickHouse refusing inserts for a while: every record stored once, none lost', async () => {
    const marker = `refuse-${Date.now()}`;
    // ClickHouse answers "too many parts" (retryable) to every insert while this holds.
    await store.command('ALTER TABLE otel.otel_logs MODIFY SETTING parts_to_throw_insert = 1, parts_to_delay_insert = 0');
    const total = 3_000;
    const batch = (from: number, n: number): LogsData => ({
      resourceLogs: [{
        resource: { attributes: [{ key: 'service.name', value: 'refusal' }], droppedAttributesCount: 0 },
        schemaUrl: '',
        scopeLogs: [{
          scope: { name: 't', version: '', attributes: [], droppedAttributesCount: 0 },
          schemaUrl: '',
          logRecords: Array.from({ length: n }, (_, i) =>
            newLogRecord({ timeUnixNano: 1_700_000_000_000_000_000n + BigInt(from + i), body: `${marker}-${from + i}`, traceId: ((from + i) % 97 + 1).toString(16).padStart(32, '0') })),
        }],
      }],
    });
    for (let i = 0; i < total; i += 100) await kafkaOut.consumeLogs(Payload.logs(batch(i, 100)));
    // Refused for a few seconds: nothing of this run may be stored meanwhile.
    await new Promise((r) => setTimeout(r, 4_000));
    const during = await rows<{ c: string }>(`SELECT count() AS c FROM otel.otel_logs WHERE Body LIKE '${marker}-%'`);
    expect(Number(during[0]!.c)).toBe(0);
    // It was refused (not merely late): the receiver saw the pipeline refuse batches.
    expect(ingester.metrics.sum('otelcol_receiver_refused_log_records', { transport: 'kafka' })).toBeGreaterThan(0);
    await store.command('ALTER TABLE otel.otel_logs MODIFY SETTING parts_to_throw_insert = 3000, parts_to_delay_insert = 1000');
    const done = await waitFor(async () => {
      const r = await rows<{ c: string; u: string }>(`SELECT count() AS c, uniqExact(Body) AS u FROM otel.otel_logs WHERE Body LIKE '${marker}-%'`);
      return Number(r[0]!.u) === total ? r[0]! : undefined;
    }, 120_000, 'every record stored');
    expect(Number(done.c)).toBe(total);
    // And the group's offsets moved past everything: nothing is pending for redelivery.
    await waitFor(async () => {
      const admin = testKafka(brokers).admin();
      await admin.connect();
      try {
        const committed = await admin.fetchOffsets({ groupId: group, topics: [logsTopic] });
        const ends = await admin.fetchTopicOffsets(logsTopic);
        return committed[0]!.partitions.every((p) => p.offset === ends.find((e) => e.partition === p.partition)!.high && !p.metadata);
      } finally {
        await admin.disconnect();
      }
    }, 30_000, 'offsets committed to the end');
  });
});
