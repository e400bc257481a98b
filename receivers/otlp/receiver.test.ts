/**
 * The OTLP receiver with the real OTel JS SDK exporters as senders (gRPC,
 * HTTP/protobuf, HTTP/JSON), and the status codes for bad input.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { ROOT_CONTEXT, SpanKind, TraceFlags, trace } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import type { ExportResult } from '@opentelemetry/core';

const SUCCESS = 0; // SUCCESS
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { OTLPLogExporter as GrpcLogs } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPLogExporter as HttpJsonLogs } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as ProtoLogs } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPTraceExporter as GrpcTraces } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as HttpJsonTraces } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoTraces } from '@opentelemetry/exporter-trace-otlp-proto';
import { ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { getAttr } from '../../core/model.ts';
import { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { PermanentError, RefusedError } from '../../core/errors.ts';
import { RecordingConsumer, testHost, testLogger } from '../../test/helpers.ts';
import { OtlpReceiver } from './otlp.ts';
import { grpcDefaults, httpDefaults } from './config.ts';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_ID = '00f067aa0ba902b7';

function makeLogs(): ReadableLogRecord[] {
  const mem = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': 'frontend' }),
    processors: [new SimpleLogRecordProcessor({ exporter: mem })],
  });
  const logger = provider.getLogger('access', '1.0.0');
  const ctx = trace.setSpanContext(ROOT_CONTEXT, { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED });
  for (let i = 0; i < 3; i++) {
    logger.emit({
      context: ctx,
      timestamp: [1_700_000_000 + i, 500],
      severityNumber: SeverityNumber.INFO,
      severityText: 'INFO',
      body: `GET /api/${i}`,
      attributes: { 'http.response.status_code': 200 + i, 'url.path': `/api/${i}`, 'upstream.ms': 1.5 },
    });
  }
  return mem.getFinishedLogRecords();
}

function makeSpans(): ReadableSpan[] {
  const mem = new InMemorySpanExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'frontend' }),
    spanProcessors: [new SimpleSpanProcessor({ exporter: mem })],
  });
  const tracer = provider.getTracer('t');
  const root = tracer.startSpan('GET /api', { kind: SpanKind.SERVER, startTime: [1_700_000_000, 0] });
  const child = tracer.startSpan('SELECT', { kind: SpanKind.CLIENT, startTime: [1_700_000_000, 1000] }, trace.setSpan(ROOT_CONTEXT, root));
  child.end([1_700_000_000, 9000]);
  root.end([1_700_000_001, 0]);
  return mem.getFinishedSpans();
}

const exportWith = (exp: { export(items: never, cb: (r: ExportResult) => void): void }, items: unknown) =>
  new Promise<ExportResult>((resolve) => exp.export(items as never, resolve));

// Twice: decoding every request, and (bytesOnly) validating protobuf requests and passing their bytes on.
for (const bytesOnly of [false, true]) describe(`OTLP receiver with real SDK exporters${bytesOnly ? ', nothing downstream reading records' : ''}`, () => {
  const sink = new RecordingConsumer();
  const metrics = new MetricsRegistry();
  let receiver: OtlpReceiver;
  let grpcAddr = '';
  let httpUrl = '';

  beforeAll(async () => {
    receiver = new OtlpReceiver(
      {
        id: 'otlp',
        config: { protocols: { grpc: { ...grpcDefaults(), endpoint: '127.0.0.1:0' }, http: { ...httpDefaults(), endpoint: '127.0.0.1:0', max_request_body_size: 64 * 1024 } } },
        logger: testLogger(),
        metrics,
      },
      { logs: sink, traces: sink, bytesOnly: { logs: bytesOnly, traces: bytesOnly } },
    );
    await receiver.start(testHost());
    grpcAddr = receiver.grpc!.address;
    httpUrl = `http://${receiver.http!.address}`;
  });
  afterAll(async () => {
    await receiver.shutdown();
    await receiver.shutdown(); // idempotent
  });

  const cases = [
    { name: 'gRPC', logs: () => new GrpcLogs({ url: `http://${grpcAddr}` }), traces: () => new GrpcTraces({ url: `http://${grpcAddr}` }), transport: 'grpc' },
    { name: 'HTTP/protobuf', logs: () => new ProtoLogs({ url: `${httpUrl}/v1/logs` }), traces: () => new ProtoTraces({ url: `${httpUrl}/v1/traces` }), transport: 'http' },
    { name: 'HTTP/JSON', logs: () => new HttpJsonLogs({ url: `${httpUrl}/v1/logs` }), traces: () => new HttpJsonTraces({ url: `${httpUrl}/v1/traces` }), transport: 'http' },
  ];

  for (const c of cases) {
    it(`accepts logs and traces over ${c.name}, every field intact`, async () => {
      sink.logPayloads = [];
      sink.tracePayloads = [];
      const logExp = c.logs();
      const spanExp = c.traces();
      const lr = await exportWith(logExp, makeLogs());
      const tr = await exportWith(spanExp, makeSpans());
      await logExp.shutdown();
      await spanExp.shutdown();
      expect(lr.error).toBeUndefined();
      expect(lr.code).toBe(SUCCESS);
      expect(tr.code).toBe(SUCCESS);

      // Protobuf requests are handed on undecoded when nothing downstream reads records; JSON is always decoded.
      const pending = bytesOnly && c.name !== 'HTTP/JSON';
      expect([sink.logPayloads[0]!.content.kind === 'bytes', sink.tracePayloads[0]!.content.kind === 'bytes']).toEqual([pending, pending]);
      const recs = sink.logRecords;
      expect(recs).toHaveLength(3);
      expect(getAttr(sink.logs[0]!.resourceLogs[0]!.resource.attributes, 'service.name')).toBe('frontend');
      expect(sink.logs[0]!.resourceLogs[0]!.scopeLogs[0]!.scope).toMatchObject({ name: 'access', version: '1.0.0' });
      expect(recs.map((r) => r.body)).toEqual(['GET /api/0', 'GET /api/1', 'GET /api/2']);
      expect(recs[1]).toMatchObject({ traceId: TRACE_ID, spanId: SPAN_ID, flags: 1, severityNumber: 9, severityText: 'INFO', timeUnixNano: 1_700_000_001_000_000_500n });
      expect(recs[1]!.observedTimeUnixNano).toBeGreaterThan(0n);
      expect(recs[1]!.attributes).toEqual([
        { key: 'http.response.status_code', value: 201n },
        { key: 'url.path', value: '/api/1' },
        { key: 'upstream.ms', value: 1.5 },
      ]);

      const spans = sink.spans;
      expect(spans).toHaveLength(2);
      const root = spans.find((s) => s.name === 'GET /api')!;
      const child = spans.find((s) => s.name === 'SELECT')!;
      expect(root).toMatchObject({ kind: 2, parentSpanId: '', startTimeUnixNano: 1_700_000_000_000_000_000n, endTimeUnixNano: 1_700_000_001_000_000_000n });
      expect(child).toMatchObject({ kind: 3, parentSpanId: root.spanId, traceId: root.traceId, startTimeUnixNano: 1_700_000_000_000_001_000n });
      expect(root.traceId).toMatch(/^[0-9a-f]{32}$/);
      // The sender's address rides along; its headers only with include_metadata (off here).
      expect(sink.logPayloads[0]!.client).toEqual({ address: '127.0.0.1', metadata: new Map() });
      expect(metrics.read('otelcol_receiver_accepted_log_records', { receiver: 'otlp', transport: c.transport })).toBeGreaterThanOrEqual(3);
    });
  }

  it('answers bad input with the right status and keeps serving', async () => {
    const post = (path: string, body: BodyInit, headers: Record<string, string>, method = 'POST') =>
      fetch(`${httpUrl}${path}`, { method, body: method === 'GET' ? undefined : body, headers });
    const garbage = await post('/v1/logs', new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 1]), { 'content-type': 'application/x-protobuf' });
    expect(garbage.status).toBe(400);
    expect(garbage.headers.get('content-type')).toBe('application/x-protobuf');
    const badJson = await post('/v1/traces', '{"resourceSpans": [', { 'content-type': 'application/json' });
    expect(badJson.status).toBe(400);
    expect(((await badJson.json()) as { message: string }).message).toMatch(/invalid OTLP\/JSON/);
    expect((await post('/v1/logs', 'x', { 'content-type': 'text/plain' })).status).toBe(415);
    const get = await post('/v1/logs', '', {}, 'GET');
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect((await post('/v1/metrics', '{}', { 'content-type': 'application/json' })).status).toBe(404);
    expect((await post('/nope', '{}', { 'content-type': 'application/json' })).status).toBe(404);
    const big = await post('/v1/logs', new Uint8Array(70 * 1024), { 'content-type': 'application/x-protobuf' });
    expect(big.status).toBe(413);
    // A gzip bomb: small on the wire, over the limit once inflated.
    const bomb = await post('/v1/logs', gzipSync(Buffer.alloc(1024 * 1024)), { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' });
    expect(bomb.status).toBe(413);
    expect((await post('/v1/logs', 'x', { 'content-type': 'application/json', 'content-encoding': 'br' })).status).toBe(415);

    // Still serving, gzip accepted, nothing earlier lost.
    const before = sink.logRecords.length;
    const ok = await post('/v1/logs', gzipSync(ProtobufLogsSerializer.serializeRequest(makeLogs())!), {
      'content-type': 'application/x-protobuf',
      'content-encoding': 'gzip',
    });
    expect(ok.status).toBe(200);
    expect(sink.logRecords.length).toBe(before + 3);
  });

  it('maps pipeline refusals to 429/503 + Retry-After and gRPC codes', async () => {
    const body = Buffer.from(ProtobufLogsSerializer.serializeRequest(makeLogs())!);
    const send = () => fetch(`${httpUrl}/v1/logs`, { method: 'POST', body, headers: { 'content-type': 'application/x-protobuf' } });
    sink.failWith = new RefusedError('data refused due to high memory usage', 'memory_limit', 5);
    let r = await send();
    expect(r.status).toBe(503);
    expect(r.headers.get('retry-after')).toBe('5');
    sink.failWith = new RefusedError('sending queue is full', 'queue_full', 1);
    r = await send();
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBe('1');
    sink.failWith = new PermanentError('bad data');
    expect((await send()).status).toBe(400);

    // gRPC: RESOURCE_EXHAUSTED for a full queue.
    sink.failWith = new RefusedError('sending queue is full', 'queue_full', 1);
    const client = new grpc.Client(grpcAddr, grpc.credentials.createInsecure());
    const call = (path: string, payload: Uint8Array) =>
      new Promise<grpc.ServiceError | null>((resolve) =>
        client.makeUnaryRequest(path, (b: Uint8Array) => Buffer.from(b), (b: Buffer) => b, payload, (err) => resolve(err)),
      );
    const e1 = await call('/opentelemetry.proto.collector.logs.v1.LogsService/Export', body);
    expect(e1?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    sink.failWith = undefined;
    const e2 = await call('/opentelemetry.proto.collector.logs.v1.LogsService/Export', new Uint8Array([0x0a, 0x05, 1]));
    expect(e2?.code).toBe(grpc.status.INVALID_ARGUMENT);
    const e3 = await call('/opentelemetry.proto.collector.metrics.v1.MetricsService/Export', new Uint8Array());
    expect(e3?.code).toBe(grpc.status.UNIMPLEMENTED);
    expect(await call('/opentelemetry.proto.collector.logs.v1.LogsService/Export', body)).toBeNull();
    client.close();
  });
});

describe('OTLP gRPC keepalive.server_parameters', () => {
  /** Connects, exports once, then reports the channel's state after `waitMs`. */
  async function stateAfter(keepalive: Record<string, unknown> | null, waitMs: number): Promise<{ before: grpc.connectivityState; after: grpc.connectivityState; received: number }> {
    const sink = new RecordingConsumer();
    const grpcCfg = { ...grpcDefaults(), endpoint: '127.0.0.1:0', ...(keepalive ? { keepalive: { server_parameters: { max_connection_idle: 0, max_connection_age: 0, max_connection_age_grace: 0, time: 0, timeout: 0, ...keepalive }, enforcement_policy: undefined } } : {}) };
    const r = new OtlpReceiver({ id: 'otlp', config: { protocols: { grpc: grpcCfg, http: null } }, logger: testLogger(), metrics: new MetricsRegistry() }, { logs: sink, traces: sink });
    await r.start(testHost());
    const client = new grpc.Client(r.grpc!.address, grpc.credentials.createInsecure());
    try {
      const body = ProtobufLogsSerializer.serializeRequest(makeLogs())!;
      const err = await new Promise<grpc.ServiceError | null>((resolve) =>
        client.makeUnaryRequest('/opentelemetry.proto.collector.logs.v1.LogsService/Export', (b: Uint8Array) => Buffer.from(b), (b: Buffer) => b, body, (e) => resolve(e)),
      );
      expect(err).toBeNull();
      const before = client.getChannel().getConnectivityState(false);
      await new Promise((res) => setTimeout(res, waitMs));
      return { before, after: client.getChannel().getConnectivityState(false), received: sink.logRecords.length };
    } finally {
      client.close();
      await r.shutdown();
    }
  }

  it('max_connection_age closes a client connection (GOAWAY), so sidecars rebalance; without it the connection stays', async () => {
    const aged = await stateAfter({ max_connection_age: 500, max_connection_age_grace: 200 }, 2_000);
    expect(aged).toEqual({ before: grpc.connectivityState.READY, after: grpc.connectivityState.IDLE, received: 3 });
    const kept = await stateAfter(null, 2_000);
    expect(kept).toEqual({ before: grpc.connectivityState.READY, after: grpc.connectivityState.READY, received: 3 });
  }, 20_000);
});

describe('OTLP HTTP cors', () => {
  it('answers an allowed origin\'s preflight and tags its request; refuses other origins and methods', async () => {
    const sink = new RecordingConsumer();
    const http = { ...httpDefaults(), endpoint: '127.0.0.1:0', cors: { allowed_origins: ['https://*.example.com', 'http://localhost:3000'], allowed_headers: ['X-Tenant'], max_age: 600 } };
    const r = new OtlpReceiver({ id: 'otlp', config: { protocols: { grpc: null, http } }, logger: testLogger(), metrics: new MetricsRegistry() }, { logs: sink, traces: sink });
    await r.start(testHost());
    const url = `http://${r.http!.address}/v1/logs`;
    const preflight = (origin: string, method = 'POST', headers = 'content-type') =>
      fetch(url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': headers } });
    try {
      const ok = await preflight('https://shop.example.com', 'POST', 'content-type, x-tenant');
      expect(ok.status).toBe(204);
      expect(Object.fromEntries([...ok.headers].filter(([k]) => k.startsWith('access-control')))).toEqual({
        'access-control-allow-origin': 'https://shop.example.com',
        'access-control-allow-methods': 'POST',
        'access-control-allow-headers': 'content-type, x-tenant',
        'access-control-max-age': '600',
      });
      for (const bad of [await preflight('https://evil.test'), await preflight('https://shop.example.com', 'PUT'), await preflight('http://localhost:3000', 'POST', 'authorization')]) {
        expect(bad.status).toBe(204);
        expect(bad.headers.get('access-control-allow-origin')).toBeNull();
      }
      const body = JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { stringValue: 'from a browser' } }] }] }] });
      const post = await fetch(url, { method: 'POST', headers: { origin: 'http://localhost:3000', 'content-type': 'application/json' }, body });
      expect(post.status).toBe(200);
      expect(post.headers.get('access-control-allow-origin')).toBe('http://localhost:3000');
      expect(post.headers.get('vary')).toBe('Origin');
      const other = await fetch(url, { method: 'POST', headers: { origin: 'https://evil.test', 'content-type': 'application/json' }, body });
      expect(other.status).toBe(200); // not a browser: CORS only withholds the header
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
      expect(sink.logRecords.map((l) => l.body)).toEqual(['from a browser', 'from a browser']);
    } finally {
      await r.shutdown();
    }
  });

  it('without cors, OPTIONS is 405 and no CORS header is sent', async () => {
    const sink = new RecordingConsumer();
    const r = new OtlpReceiver({ id: 'otlp', config: { protocols: { grpc: null, http: { ...httpDefaults(), endpoint: '127.0.0.1:0' } } }, logger: testLogger(), metrics: new MetricsRegistry() }, { logs: sink, traces: sink });
    await r.start(testHost());
    try {
      const res = await fetch(`http://${r.http!.address}/v1/logs`, { method: 'OPTIONS', headers: { origin: 'https://a.example.com', 'access-control-request-method': 'POST' } });
      expect(res.status).toBe(405);
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await r.shutdown();
    }
  });
});
