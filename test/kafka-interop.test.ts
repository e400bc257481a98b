/**
 * Kafka interop with the Collector's message format, checked against an
 * independent implementation: the OTel JS SDK's own serializers
 * (otlp-transformer) produce ExportLogsServiceRequest / ExportTraceServiceRequest
 * bytes, which is exactly what the Collector's kafka exporter writes.
 *
 * - our exporter's message value decodes, with an independent decoder
 *   (protobufjs over the vendored .proto files), to exactly what the SDK
 *   serializer's bytes decode to. Not byte for byte: the SDK writes some
 *   zero-valued fields explicitly (dropped_*_count = 0, status.code = 0,
 *   resource dropped_attributes_count = 0), which proto3 and the Collector's
 *   Go encoder omit. Our bytes are the canonical form, checked below as
 *   "no explicit zero fields" and as byte equality after a canonical
 *   re-encoding of the SDK's request;
 * - messages in that format (protobuf and JSON) written by anyone else are
 *   consumed by our receiver with every record intact.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { JsonLogsSerializer, ProtobufLogsSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { Factory } from '../core/component.ts';
import type { ExporterHelper } from '../core/exporter-helper.ts';
import { decodeLogsProto, decodeTracesProto } from '../core/otlp/index.ts';
import { loadReference } from '../core/otlp/proto/reference.ts';
import { kafkaExporterFactory, type KafkaExporterConfig } from '../exporters/kafka/index.ts';
import { kafkaReceiverFactory, type KafkaReceiver, type KafkaReceiverConfig } from '../receivers/kafka/index.ts';
import { settingsFor } from './component-config.ts';
import { RecordingConsumer, testHost, waitFor } from './helpers.ts';
import { ensureKafka, testKafka, uniqueTopic } from './kafka-broker.ts';
import { Payload } from '../core/payload.ts';

let brokers: string;
const ref = loadReference();

/** Drops proto3 scalar fields holding their default (0, '', false, empty bytes) from a protobufjs plain object. */
function stripDefaults(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripDefaults);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    if (x === 0 || x === '0' || x === '' || x === false) continue;
    if (Array.isArray(x) && x.length === 0) continue;
    out[k] = stripDefaults(x);
  }
  return out;
}

function sdkData() {
  const resource = resourceFromAttributes({ 'service.name': 'reviews', 'k8s.namespace.name': 'bookinfo', 'host.cpu.count': 4, ratio: 0.5 });
  const logExporter = new InMemoryLogRecordExporter();
  const logs = new LoggerProvider({ resource, processors: [new SimpleLogRecordProcessor({ exporter: logExporter })] });
  const spanExporter = new InMemorySpanExporter();
  const tracing = new TracerProvider({ resource, spanProcessors: [new SimpleSpanProcessor({ exporter: spanExporter })] });
  const tracer = tracing.getTracer('istio', '1.22');
  const span = tracer.startSpan('GET /reviews/1', { kind: SpanKind.SERVER, startTime: [1_700_000_000, 5], attributes: { 'http.response.status_code': 200, 'upstream_cluster': 'outbound|9080||reviews' } });
  span.addEvent('retry', { attempt: 2 }, [1_700_000_000, 500]);
  span.setStatus({ code: SpanStatusCode.OK });
  span.end([1_700_000_000, 9_000_000]);
  const ctx = trace.setSpanContext(ROOT_CONTEXT, { traceId: span.spanContext().traceId, spanId: span.spanContext().spanId, traceFlags: TraceFlags.SAMPLED });
  const logger = logs.getLogger('envoy.access', '1.31');
  logger.emit({ context: ctx, timestamp: [1_700_000_000, 1_000], observedTimestamp: [1_700_000_000, 2_000], severityNumber: SeverityNumber.INFO, severityText: 'INFO', body: { method: 'GET', code: 200 }, attributes: { 'url.path': '/reviews/1', bytes: 1234, tls: true, tags: ['a', 'b'] } });
  logger.emit({ context: ctx, timestamp: [1_700_000_001, 0], body: 'second line' });
  const out = { logs: logExporter.getFinishedLogRecords(), spans: spanExporter.getFinishedSpans() };
  expect(out.logs).toHaveLength(2);
  expect(out.spans).toHaveLength(1);
  return out;
}

async function readValues(topic: string, n: number): Promise<Buffer[]> {
  const consumer = testKafka(brokers).consumer({ groupId: uniqueTopic('interop-reader') });
  const got: Buffer[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void got.push(message.value!) });
  try {
    await waitFor(() => got.length >= n, 30_000, `${n} messages on ${topic}`);
  } finally {
    await consumer.disconnect();
  }
  return got;
}

const exporters: ExporterHelper[] = [];
const receivers: KafkaReceiver[] = [];
beforeAll(async () => {
  brokers = await ensureKafka();
}, 600_000);
afterAll(async () => {
  await Promise.all([...exporters.map((e) => e.shutdown()), ...receivers.map((r) => r.shutdown())]);
});

describe('kafka interop (Collector message format)', () => {
  it('our kafka exporter writes the SDK serializer\'s request for the same data, in canonical proto3 form', async () => {
    const { logs, spans } = sdkData();
    const sdkLogs = Buffer.from(ProtobufLogsSerializer.serializeRequest(logs)!);
    const sdkSpans = Buffer.from(ProtobufTraceSerializer.serializeRequest(spans)!);
    const logsTopic = uniqueTopic('interop-logs');
    const spansTopic = uniqueTopic('interop-spans');
    const exp = kafkaExporterFactory.create(
      settingsFor<KafkaExporterConfig>(kafkaExporterFactory as Factory, { brokers: [brokers], logs: { topic: logsTopic }, traces: { topic: spansTopic }, sending_queue: { enabled: false } }),
    ) as ExporterHelper;
    await exp.start(testHost());
    exporters.push(exp);
    // What a gateway receives over OTLP (the SDK's request), decoded once, exported again.
    await exp.consumeLogs(Payload.logs(decodeLogsProto(sdkLogs)));
    await exp.consumeTraces(Payload.traces(decodeTracesProto(sdkSpans)));
    const [logsValue] = await readValues(logsTopic, 1);
    const [spansValue] = await readValues(spansTopic, 1);
    const view = (t: typeof ref.logsRequest, b: Uint8Array) => t.toObject(t.decode(b), { longs: String, bytes: String, defaults: true, arrays: true });
    expect(view(ref.logsRequest, logsValue!)).toEqual(view(ref.logsRequest, sdkLogs));
    expect(view(ref.tracesRequest, spansValue!)).toEqual(view(ref.tracesRequest, sdkSpans));
    // Canonical: byte-equal to the SDK request once its explicit zeros are dropped
    // (protobufjs re-encodes only fields set to non-default values when built from a plain object).
    const canonical = (t: typeof ref.logsRequest, b: Uint8Array) =>
      Buffer.from(t.encode(t.fromObject(stripDefaults(t.toObject(t.decode(b), { longs: String, bytes: Array, defaults: false })) as Record<string, unknown>)).finish());
    expect(logsValue!.equals(canonical(ref.logsRequest, sdkLogs))).toBe(true);
    expect(spansValue!.equals(canonical(ref.tracesRequest, sdkSpans))).toBe(true);
    expect(canonical(ref.logsRequest, sdkLogs).length).toBeLessThan(sdkLogs.length);
  });

  it('consumes messages written in the Collector format by someone else: protobuf and JSON', async () => {
    const { logs, spans } = sdkData();
    const protoLogs = uniqueTopic('interop-in-logs');
    const protoSpans = uniqueTopic('interop-in-spans');
    const jsonLogs = uniqueTopic('interop-in-json');
    const producer = testKafka(brokers).producer({ allowAutoTopicCreation: true });
    await producer.connect();
    await producer.send({ topic: protoLogs, messages: [{ value: Buffer.from(ProtobufLogsSerializer.serializeRequest(logs)!) }] });
    await producer.send({ topic: protoSpans, messages: [{ value: Buffer.from(ProtobufTraceSerializer.serializeRequest(spans)!) }] });
    await producer.send({ topic: jsonLogs, messages: [{ value: Buffer.from(JsonLogsSerializer.serializeRequest(logs)!) }] });
    await producer.disconnect();

    const start = async (user: Record<string, unknown>, rec: RecordingConsumer) => {
      const r = kafkaReceiverFactory.create(
        settingsFor<KafkaReceiverConfig>(kafkaReceiverFactory as Factory, { brokers: [brokers], group_id: uniqueTopic('interop'), initial_offset: 'earliest', ...user }),
        { logs: rec, traces: rec },
      ) as KafkaReceiver;
      await r.start(testHost());
      receivers.push(r);
    };
    const proto = new RecordingConsumer();
    await start({ logs: { topic: protoLogs }, traces: { topic: protoSpans } }, proto);
    const json = new RecordingConsumer();
    await start({ logs: { topic: jsonLogs, encoding: 'otlp_json' }, traces: { topic: uniqueTopic('unused') } }, json);
    await waitFor(() => proto.logRecords.length === 2 && proto.spans.length === 1 && json.logRecords.length === 2, 30_000, 'records');

    const span = spans[0]!;
    expect(proto.spans[0]).toMatchObject({
      traceId: span.spanContext().traceId,
      spanId: span.spanContext().spanId,
      name: 'GET /reviews/1',
      kind: 2,
      startTimeUnixNano: 1_700_000_000_000_000_005n,
      endTimeUnixNano: 1_700_000_000_009_000_000n,
      status: { code: 1, message: '' },
    });
    expect(proto.spans[0]!.events[0]).toMatchObject({ name: 'retry', attributes: [{ key: 'attempt', value: 2n }] });
    for (const rec of [proto, json]) {
      const [first, second] = rec.logRecords;
      expect(first).toMatchObject({
        traceId: span.spanContext().traceId,
        spanId: span.spanContext().spanId,
        flags: 1,
        severityNumber: 9,
        severityText: 'INFO',
        timeUnixNano: 1_700_000_000_000_001_000n,
        observedTimeUnixNano: 1_700_000_000_000_002_000n,
      });
      expect(first!.attributes).toEqual([
        { key: 'url.path', value: '/reviews/1' },
        { key: 'bytes', value: 1234n },
        { key: 'tls', value: true },
        { key: 'tags', value: ['a', 'b'] },
      ]);
      expect(second!.body).toBe('second line');
      expect(rec.logs[0]!.resourceLogs[0]!.resource.attributes).toContainEqual({ key: 'service.name', value: 'reviews' });
      expect(rec.logs[0]!.resourceLogs[0]!.scopeLogs[0]!.scope).toMatchObject({ name: 'envoy.access', version: '1.31' });
    }
  });
});
