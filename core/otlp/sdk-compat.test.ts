/**
 * Decode what the real OpenTelemetry JS SDK serializes (otlp-transformer's
 * protobuf and JSON serializers over records produced by sdk-logs / sdk-trace),
 * assert every field, and check our encoder against an independent decoder
 * (protobufjs over the vendored .proto files).
 */
import { describe, expect, it } from 'vitest';
import { ROOT_CONTEXT, SpanKind as ApiSpanKind, SpanStatusCode, TraceFlags, createTraceState, trace } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import type { HrTime } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import {
  JsonLogsSerializer, JsonTraceSerializer, ProtobufLogsSerializer, ProtobufTraceSerializer,
} from '@opentelemetry/otlp-transformer';
import { KvList } from '../model.ts';
import type { KeyValue } from '../model.ts';
import {
  decodeLogsJson, decodeLogsProto, decodeTracesJson, decodeTracesProto,
  encodeLogsJson, encodeLogsProto, encodeTracesJson, encodeTracesProto,
} from './index.ts';
import { loadReference } from './proto/reference.ts';

const ref = loadReference();
const TRACE_ID = '5b8efff798038103d269b633813fc60c';
const PARENT_SPAN_ID = 'eee19b7ec3c1b174';
const SPAN_ID = 'eee19b7ec3c1b173';
const LINK_TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const LINK_SPAN_ID = 'b7ad6b7169203331';
const T0: HrTime = [1_700_000_000, 123_456_789];
const T0_NS = 1_700_000_000_123_456_789n;
const T1: HrTime = [1_700_000_001, 5];
const T1_NS = 1_700_000_001_000_000_005n;

const resource = resourceFromAttributes(
  { 'service.name': 'mesh-gateway', 'k8s.pod.uid': 'pod-1', 'host.cpu.count': 2, 'ratio': 0.25, 'ready': true },
  { schemaUrl: 'https://opentelemetry.io/schemas/1.26.0' },
);
const expectedResourceAttrs: KeyValue[] = [
  { key: 'service.name', value: 'mesh-gateway' },
  { key: 'k8s.pod.uid', value: 'pod-1' },
  { key: 'host.cpu.count', value: 2n },
  { key: 'ratio', value: 0.25 },
  { key: 'ready', value: true },
];

/** protobufjs' view of a request, with defaults filled in and 64-bit ints as strings. */
function refView(type: typeof ref.logsRequest, bytes: Uint8Array): unknown {
  return type.toObject(type.decode(bytes), { longs: String, bytes: String, defaults: true, arrays: true, oneofs: true });
}

describe('logs from the OTel JS SDK', () => {
  function emitLogs() {
    const exporter = new InMemoryLogRecordExporter();
    const provider = new LoggerProvider({
      resource,
      logRecordLimits: { attributeCountLimit: 6 },
      processors: [new SimpleLogRecordProcessor({ exporter })],
    });
    const logger = provider.getLogger('mesh.access', '1.4.2', {
      schemaUrl: 'https://opentelemetry.io/schemas/1.27.0',
      attributes: { 'scope.kind': 'access-log' },
    });
    const ctx = trace.setSpanContext(ROOT_CONTEXT, { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED });
    logger.emit({
      context: ctx,
      timestamp: T0,
      observedTimestamp: T1,
      severityNumber: SeverityNumber.WARN2,
      severityText: 'WARN2',
      eventName: 'mesh.access',
      body: { method: 'GET', path: '/api/v1/items', nested: { ok: true, codes: [200, 204] } },
      attributes: {
        'http.response.status_code': 503,
        'http.route': '/api/v1/items',
        'upstream.latency_ms': 12.5,
        'tls': true,
        'tags': ['a', 'b'],
        'raw': new Uint8Array([0, 1, 254, 255]),
        'over.limit.1': 'x',
        'over.limit.2': 'y',
      },
    });
    logger.emit({ timestamp: T1, observedTimestamp: T1, body: 'plain text body' });
    return exporter.getFinishedLogRecords();
  }

  const records = emitLogs();
  const protoBytes = ProtobufLogsSerializer.serializeRequest(records)!;
  const jsonBytes = JsonLogsSerializer.serializeRequest(records)!;

  it('decodes every field of the SDK protobuf', () => {
    const data = decodeLogsProto(protoBytes);
    expect(data.resourceLogs).toHaveLength(1);
    const rl = data.resourceLogs[0]!;
    expect(rl.resource.attributes).toEqual(expectedResourceAttrs);
    expect(rl.resource.droppedAttributesCount).toBe(0);
    expect(rl.schemaUrl).toBe('https://opentelemetry.io/schemas/1.26.0');
    expect(rl.scopeLogs).toHaveLength(1);
    const sl = rl.scopeLogs[0]!;
    expect(sl.scope).toEqual({
      name: 'mesh.access', version: '1.4.2', attributes: [{ key: 'scope.kind', value: 'access-log' }], droppedAttributesCount: 0,
    });
    expect(sl.schemaUrl).toBe('https://opentelemetry.io/schemas/1.27.0');
    expect(sl.logRecords).toHaveLength(2);
    const [a, b] = sl.logRecords;
    expect(a).toEqual({
      timeUnixNano: T0_NS,
      observedTimeUnixNano: T1_NS,
      severityNumber: 14,
      severityText: 'WARN2',
      body: new KvList([
        { key: 'method', value: 'GET' },
        { key: 'path', value: '/api/v1/items' },
        { key: 'nested', value: new KvList([{ key: 'ok', value: true }, { key: 'codes', value: [200n, 204n] }]) },
      ]),
      attributes: [
        { key: 'http.response.status_code', value: 503n },
        { key: 'http.route', value: '/api/v1/items' },
        { key: 'upstream.latency_ms', value: 12.5 },
        { key: 'tls', value: true },
        { key: 'tags', value: ['a', 'b'] },
        { key: 'raw', value: new Uint8Array([0, 1, 254, 255]) },
      ],
      droppedAttributesCount: 2,
      flags: 1,
      traceId: TRACE_ID,
      spanId: SPAN_ID,
      eventName: 'mesh.access',
    });
    expect(b).toMatchObject({
      timeUnixNano: T1_NS, severityNumber: 0, severityText: '', body: 'plain text body',
      attributes: [], traceId: '', spanId: '', flags: 0, eventName: '',
    });
  });

  it('decodes the SDK JSON to the same model', () => {
    expect(decodeLogsJson(jsonBytes)).toEqual(decodeLogsProto(protoBytes));
  });

  it('encodes bytes that protobufjs reads exactly as it reads the SDK bytes', () => {
    const ours = encodeLogsProto(decodeLogsProto(protoBytes));
    expect(refView(ref.logsRequest, ours)).toEqual(refView(ref.logsRequest, protoBytes));
    expect(decodeLogsProto(ours)).toEqual(decodeLogsProto(protoBytes));
  });

  it('round-trips through our JSON encoder', () => {
    const model = decodeLogsProto(protoBytes);
    expect(decodeLogsJson(encodeLogsJson(model))).toEqual(model);
  });
});

describe('traces from the OTel JS SDK', () => {
  function makeSpans() {
    const exporter = new InMemorySpanExporter();
    const provider = new TracerProvider({
      resource,
      spanLimits: { attributeCountLimit: 5, eventCountLimit: 2, linkCountLimit: 1 },
      spanProcessors: [new SimpleSpanProcessor({ exporter })],
    });
    const tracer = provider.getTracer('mesh.proxy', '2.0.0', { schemaUrl: 'https://opentelemetry.io/schemas/1.27.0' });
    const parent = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: TRACE_ID, spanId: PARENT_SPAN_ID, traceFlags: TraceFlags.SAMPLED, isRemote: true,
      traceState: createTraceState('vendor=abc,other=1'),
    });
    const span = tracer.startSpan('GET /api/v1/items', {
      kind: ApiSpanKind.SERVER,
      startTime: T0,
      attributes: { 'http.request.method': 'GET', 'http.response.status_code': 200, 'net.peer.port': 443 },
      links: [
        // linkCountLimit 1: the SDK keeps the last link and counts the first as dropped.
        { context: { traceId: LINK_TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED } },
        {
          context: {
            traceId: LINK_TRACE_ID, spanId: LINK_SPAN_ID, traceFlags: TraceFlags.NONE, isRemote: false,
            traceState: createTraceState('l=2'),
          },
          attributes: { 'link.kind': 'follows' },
        },
      ],
    }, parent);
    span.setAttributes({ 'server.address': 'items.svc', 'user_agent.original': 'curl/8', 'dropped.1': 1, 'dropped.2': 2 });
    span.addEvent('retry', { attempt: 1 }, T0);
    span.addEvent('retry', { attempt: 2 }, T1);
    span.addEvent('gave-up', T1);
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream 503' });
    span.end(T1);
    const client = tracer.startSpan('downstream', { kind: ApiSpanKind.CLIENT, startTime: T0 }, trace.setSpan(ROOT_CONTEXT, span));
    client.setStatus({ code: SpanStatusCode.OK });
    client.end(T1);
    return exporter.getFinishedSpans();
  }

  const spans = makeSpans();
  const protoBytes = ProtobufTraceSerializer.serializeRequest(spans)!;
  const jsonBytes = JsonTraceSerializer.serializeRequest(spans)!;

  it('decodes every field of the SDK protobuf', () => {
    const data = decodeTracesProto(protoBytes);
    expect(data.resourceSpans).toHaveLength(1);
    const rs = data.resourceSpans[0]!;
    expect(rs.resource.attributes).toEqual(expectedResourceAttrs);
    expect(rs.schemaUrl).toBe('https://opentelemetry.io/schemas/1.26.0');
    const ss = rs.scopeSpans[0]!;
    expect(ss.scope).toEqual({ name: 'mesh.proxy', version: '2.0.0', attributes: [], droppedAttributesCount: 0 });
    expect(ss.schemaUrl).toBe('https://opentelemetry.io/schemas/1.27.0');
    expect(ss.spans).toHaveLength(2);
    const [server, client] = ss.spans;
    expect(server).toEqual({
      traceId: TRACE_ID,
      spanId: server!.spanId,
      traceState: 'vendor=abc,other=1',
      parentSpanId: PARENT_SPAN_ID,
      flags: 0x301, // sampled | HAS_IS_REMOTE | IS_REMOTE (the parent is remote)
      name: 'GET /api/v1/items',
      kind: 2,
      startTimeUnixNano: T0_NS,
      endTimeUnixNano: T1_NS,
      attributes: [
        { key: 'http.request.method', value: 'GET' },
        { key: 'http.response.status_code', value: 200n },
        { key: 'net.peer.port', value: 443n },
        { key: 'server.address', value: 'items.svc' },
        { key: 'user_agent.original', value: 'curl/8' },
      ],
      droppedAttributesCount: 2,
      events: [
        { timeUnixNano: T1_NS, name: 'retry', attributes: [{ key: 'attempt', value: 2n }], droppedAttributesCount: 0 },
        { timeUnixNano: T1_NS, name: 'gave-up', attributes: [], droppedAttributesCount: 0 },
      ],
      droppedEventsCount: 1,
      links: [{
        traceId: LINK_TRACE_ID, spanId: LINK_SPAN_ID, traceState: 'l=2',
        attributes: [{ key: 'link.kind', value: 'follows' }], droppedAttributesCount: 0, flags: 0x100,
      }],
      droppedLinksCount: 1,
      status: { code: 2, message: 'upstream 503' },
    });
    expect(server!.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(client).toMatchObject({
      traceId: TRACE_ID, parentSpanId: server!.spanId, kind: 3, flags: 0x101, name: 'downstream',
      status: { code: 1, message: '' }, events: [], links: [], traceState: 'vendor=abc,other=1',
    });
  });

  it('decodes the SDK JSON to the same model', () => {
    expect(decodeTracesJson(jsonBytes)).toEqual(decodeTracesProto(protoBytes));
  });

  it('encodes bytes that protobufjs reads exactly as it reads the SDK bytes', () => {
    const ours = encodeTracesProto(decodeTracesProto(protoBytes));
    expect(refView(ref.tracesRequest, ours)).toEqual(refView(ref.tracesRequest, protoBytes));
    expect(decodeTracesProto(ours)).toEqual(decodeTracesProto(protoBytes));
  });

  it('round-trips through our JSON encoder', () => {
    const model = decodeTracesProto(protoBytes);
    expect(decodeTracesJson(encodeTracesJson(model))).toEqual(model);
  });
});
