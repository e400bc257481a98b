/**
 * The zipkin receiver with real senders: zipkin-js + zipkin-transport-http
 * (JSON v2 and v1), the OTel JS ZipkinExporter with spans from a real
 * TracerProvider, and hand-built v2 protobuf, v1 thrift and gzip bodies; plus
 * every error status, after which the receiver still serves.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { gzipSync, deflateSync } from 'node:zlib';
import protobuf from 'protobufjs';
import { Annotation, BatchRecorder, ExplicitContext, InetAddress, Tracer, jsonEncoder } from 'zipkin';
import { HttpLogger } from 'zipkin-transport-http';
import { SpanKind as OtelKind, SpanStatusCode } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { ZipkinExporter } from '@opentelemetry/exporter-zipkin';
import { RefusedError } from '../../core/errors.ts';
import { getAttr, SpanKind, StatusCode, type Span, type TracesData } from '../../core/model.ts';
import { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { RecordingConsumer, testLogger, waitFor } from '../../test/helpers.ts';
import { defaultZipkinConfig, type ZipkinReceiverConfig } from './config.ts';
import { metadataValues } from '../../core/client.ts';
import { ZipkinReceiver } from './receiver.ts';
import { v1ThriftBody } from './testdata/v1-thrift-encode.ts';

const spansOf = (td: TracesData[]) => td.flatMap((d) => d.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)));
const serviceOf = (td: TracesData[], s: Span) =>
  getAttr(td.flatMap((d) => d.resourceSpans).find((rs) => rs.scopeSpans.some((ss) => ss.spans.includes(s)))!.resource.attributes, 'service.name');

function start(consumer: RecordingConsumer, over: Partial<ZipkinReceiverConfig> = {}, metrics = new MetricsRegistry()) {
  const config = { ...defaultZipkinConfig(), endpoint: '127.0.0.1:0', ...over };
  return new ZipkinReceiver({ id: 'zipkin', config, logger: testLogger(), metrics }, { traces: consumer });
}

/** Records one server span with a remote peer through zipkin-js, sent by HttpLogger. */
function zipkinJsTrace(endpoint: string, encoder: typeof jsonEncoder.JSON_V2, service: string): string {
  const logger = new HttpLogger({ endpoint, jsonEncoder: encoder, httpInterval: 50 });
  const tracer = new Tracer({ ctxImpl: new ExplicitContext(), recorder: new BatchRecorder({ logger }), localServiceName: service, traceId128Bit: true });
  let traceId = '';
  tracer.scoped(() => {
    const id = tracer.createRootId();
    tracer.setId(id);
    traceId = id.traceId;
    tracer.recordServiceName(service);
    tracer.recordRpc('get /hello');
    tracer.recordAnnotation(new Annotation.ServerRecv());
    tracer.recordAnnotation(new Annotation.LocalAddr({ host: new InetAddress('10.1.2.3'), port: 8080 }));
    tracer.recordBinary('http.path', '/hello');
    tracer.recordMessage('handler.start');
    tracer.recordAnnotation(new Annotation.ServerSend());
  });
  return traceId;
}

const post = (url: string, body: Uint8Array | string, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers, body: typeof body === 'string' ? body : new Uint8Array(body) });

describe('zipkin receiver', () => {
  const consumer = new RecordingConsumer();
  const metrics = new MetricsRegistry();
  const receiver = start(consumer, {}, metrics);
  let base = '';

  beforeAll(async () => {
    await receiver.start();
    base = `http://${receiver.address}`;
  });
  afterAll(async () => {
    await receiver.shutdown();
    await receiver.shutdown();
  });

  it('receives zipkin-js spans as JSON v2 through HttpLogger', async () => {
    const traceId = zipkinJsTrace(`${base}/api/v2/spans`, jsonEncoder.JSON_V2, 'zipkin-js-v2');
    const s = (await waitFor(() => spansOf(consumer.traces).find((x) => x.traceId === traceId), 20_000, 'zipkin-js v2 span'))!;
    expect(s).toMatchObject({ name: 'get /hello', kind: SpanKind.SERVER, parentSpanId: '', status: { code: StatusCode.UNSET } });
    expect(s.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(s.endTimeUnixNano).toBeGreaterThanOrEqual(s.startTimeUnixNano);
    expect(s.startTimeUnixNano).toBeGreaterThan(1_600_000_000_000_000_000n);
    expect(getAttr(s.attributes, 'http.path')).toBe('/hello');
    expect(getAttr(s.attributes, 'network.local.address')).toBe('10.1.2.3');
    expect(getAttr(s.attributes, 'net.host.port')).toBe(8080n);
    expect(s.events.map((e) => e.name)).toEqual(['handler.start']);
    expect(serviceOf(consumer.traces, s)).toBe('zipkin-js-v2');
    expect(metrics.read('otelcol_receiver_accepted_spans', { receiver: 'zipkin', transport: 'http_v2_json' })).toBeGreaterThanOrEqual(1);
  });

  it('receives zipkin-js spans as JSON v1 through HttpLogger', async () => {
    const traceId = zipkinJsTrace(`${base}/api/v1/spans`, jsonEncoder.JSON_V1, 'zipkin-js-v1');
    const s = (await waitFor(() => spansOf(consumer.traces).find((x) => x.traceId === traceId), 20_000, 'zipkin-js v1 span'))!;
    expect(s).toMatchObject({ name: 'get /hello', kind: SpanKind.SERVER });
    expect(getAttr(s.attributes, 'http.path')).toBe('/hello');
    expect(s.events.map((e) => e.name)).toEqual(['handler.start']);
    expect(serviceOf(consumer.traces, s)).toBe('zipkin-js-v1');
  });

  it('receives the OTel JS ZipkinExporter spans with ids, kind, status, events and attributes', async () => {
    const mem = new InMemorySpanExporter();
    const provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'otel-zipkin', 'host.name': 'box-1' }),
      spanProcessors: [new SimpleSpanProcessor({ exporter: mem })],
    });
    const tracer = provider.getTracer('t');
    const root = tracer.startSpan('GET /checkout', { kind: OtelKind.SERVER, startTime: [1_700_000_000, 0], attributes: { 'http.method': 'GET', retries: 2 } });
    root.addEvent('payment.start', {}, [1_700_000_000, 5_000]);
    root.setStatus({ code: SpanStatusCode.ERROR, message: 'card declined' });
    root.end([1_700_000_001, 0]);
    const spans = mem.getFinishedSpans();
    const exporter = new ZipkinExporter({ url: `${base}/api/v2/spans` });
    const result = await new Promise<{ code: number }>((resolve) => exporter.export(spans, resolve));
    expect(result.code).toBe(0);
    const ctx = spans[0]!.spanContext();
    const s = spansOf(consumer.traces).find((x) => x.spanId === ctx.spanId)!;
    expect(s).toMatchObject({
      traceId: ctx.traceId,
      name: 'GET /checkout',
      kind: SpanKind.SERVER,
      startTimeUnixNano: 1_700_000_000_000_000_000n,
      endTimeUnixNano: 1_700_000_001_000_000_000n,
      status: { code: StatusCode.ERROR },
    });
    expect(getAttr(s.attributes, 'http.method')).toBe('GET');
    expect(getAttr(s.attributes, 'retries')).toBe('2'); // Zipkin tags are strings (parse_string_tags: false)
    expect(getAttr(s.attributes, 'error')).toBe('card declined');
    expect(getAttr(s.attributes, 'service.name')).toBeUndefined(); // resource tags go to the resource
    expect(s.events).toEqual([{ timeUnixNano: 1_700_000_000_000_005_000n, name: 'payment.start', attributes: [], droppedAttributesCount: 0 }]);
    const rs = consumer.traces.flatMap((d) => d.resourceSpans).find((r) => r.scopeSpans.some((ss) => ss.spans.includes(s)))!;
    expect(getAttr(rs.resource.attributes, 'service.name')).toBe('otel-zipkin');
    expect(getAttr(rs.resource.attributes, 'host.name')).toBe('box-1');
    await exporter.shutdown();
  });

  it('accepts v2 protobuf, v1 thrift, and gzip/deflate bodies', async () => {
    const root = await new protobuf.Root().load(path.join(import.meta.dirname, 'testdata/zipkin.proto'), { keepCase: true });
    const List = root.lookupType('zipkin.proto3.ListOfSpans');
    const proto = List.encode(
      List.fromObject({
        spans: [{ trace_id: Buffer.from('aa'.repeat(16), 'hex'), id: Buffer.from('0000000000000001', 'hex'), kind: 'PRODUCER', name: 'send', timestamp: 1_700_000_000_000_000, duration: 10, local_endpoint: { service_name: 'proto-svc' } }],
      }),
    ).finish();
    expect((await post(`${base}/api/v2/spans`, proto, { 'content-type': 'application/x-protobuf' })).status).toBe(202);
    const p = spansOf(consumer.traces).find((x) => x.traceId === 'aa'.repeat(16))!;
    expect(p).toMatchObject({ kind: SpanKind.PRODUCER, name: 'send', spanId: '0000000000000001' });

    const thrift = v1ThriftBody([
      { traceId: 0x77n, id: 0x2n, name: 'v1-thrift', timestamp: 1_000n, duration: 5n, annotations: [{ timestamp: 1_000n, value: 'cs', host: { serviceName: 'thrift-svc' } }] },
    ]);
    expect((await post(`${base}/api/v1/spans`, thrift, { 'content-type': 'application/x-thrift' })).status).toBe(202);
    const t = spansOf(consumer.traces).find((x) => x.name === 'v1-thrift')!;
    expect(t).toMatchObject({ traceId: '00000000000000000000000000000077', kind: SpanKind.CLIENT });
    expect(serviceOf(consumer.traces, t)).toBe('thrift-svc');

    const json = JSON.stringify([{ traceId: 'bb'.repeat(8), id: '3', name: 'zipped', timestamp: 1, localEndpoint: { serviceName: 'gz' } }]);
    expect((await post(`${base}/api/v2/spans`, gzipSync(json), { 'content-type': 'application/json', 'content-encoding': 'gzip' })).status).toBe(202);
    expect((await post(`${base}/api/v2/spans`, deflateSync(json), { 'content-encoding': 'deflate' })).status).toBe(202);
    expect(spansOf(consumer.traces).filter((x) => x.name === 'zipped')).toHaveLength(2);
  });

  it('include_metadata keeps the request headers with the payload (the sender\'s address either way)', async () => {
    const sink = new RecordingConsumer();
    const r = start(sink, { include_metadata: true });
    await r.start();
    try {
      const json = JSON.stringify([{ traceId: 'cc'.repeat(8), id: '4', name: 'tenant', timestamp: 1, localEndpoint: { serviceName: 't' } }]);
      expect((await post(`http://${r.address}/api/v2/spans`, json, { 'content-type': 'application/json', 'x-tenant': 'acme' })).status).toBe(202);
      const info = sink.tracePayloads[0]!.client;
      expect([info?.address, metadataValues(info, 'X-Tenant')]).toEqual(['127.0.0.1', ['acme']]);
    } finally {
      await r.shutdown();
    }
    const json = JSON.stringify([{ traceId: 'dd'.repeat(8), id: '5', name: 'plain', timestamp: 1, localEndpoint: { serviceName: 't' } }]);
    expect((await post(`${base}/api/v2/spans`, json, { 'content-type': 'application/json', 'x-tenant': 'acme' })).status).toBe(202);
    const plain = consumer.tracePayloads.find((d) => d.records().resourceSpans.some((rs) => rs.scopeSpans.some((ss) => ss.spans.some((sp) => sp.name === 'plain'))))!;
    expect(metadataValues(plain.client, 'x-tenant')).toEqual([]);
  });

  it('answers bad requests with the right status and keeps serving', async () => {
    const garbage = await post(`${base}/api/v2/spans`, '[{"traceId": ', { 'content-type': 'application/json' });
    expect(garbage.status).toBe(400);
    expect(await garbage.text()).toMatch(/invalid JSON/);
    expect((await post(`${base}/api/v2/spans`, Buffer.from([0x0a, 0x30, 1]), { 'content-type': 'application/x-protobuf' })).status).toBe(400);
    const truncated = v1ThriftBody([{ traceId: 1n, id: 2n, name: 'x' }]).subarray(0, 12);
    expect((await post(`${base}/api/v1/spans`, truncated, { 'content-type': 'application/x-thrift' })).status).toBe(400);
    expect((await post(`${base}/api/v2/spans`, gzipSync('[]').subarray(0, 8), { 'content-encoding': 'gzip' })).status).toBe(400);
    expect((await post(`${base}/api/v2/spans`, '<spans/>', { 'content-type': 'application/xml' })).status).toBe(415);
    expect((await post(`${base}/api/v1/spans`, 'x', { 'content-type': 'application/x-protobuf' })).status).toBe(415);
    expect((await fetch(`${base}/api/v2/spans`)).status).toBe(405);
    expect((await post(`${base}/api/v3/spans`, '[]')).status).toBe(404);
    const ok = await post(`${base}/api/v2/spans`, JSON.stringify([{ traceId: 'cc'.repeat(16), id: '4', name: 'after-errors' }]));
    expect(ok.status).toBe(202);
    expect(spansOf(consumer.traces).some((x) => x.name === 'after-errors')).toBe(true);
  });
});

describe('zipkin receiver limits and backpressure', () => {
  it('answers 413 over max_request_body_size (also after decompression), 503/429 on refusal', async () => {
    const consumer = new RecordingConsumer();
    const r = start(consumer, { max_request_body_size: 1024 });
    await r.start();
    try {
      const url = `http://${r.address}/api/v2/spans`;
      expect((await post(url, 'x'.repeat(5000))).status).toBe(413);
      const bomb = gzipSync('[' + ' '.repeat(100_000) + ']');
      expect(bomb.length).toBeLessThan(1024);
      expect((await post(url, bomb, { 'content-encoding': 'gzip' })).status).toBe(413);
      const one = JSON.stringify([{ traceId: 'dd'.repeat(16), id: '5', name: 'r' }]);
      consumer.failWith = new RefusedError('memory limit reached', 'memory_limit', 4);
      const refused = await post(url, one);
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('4');
      consumer.failWith = new RefusedError('queue is full', 'queue_full');
      expect((await post(url, one)).status).toBe(429);
      consumer.failWith = undefined;
      expect((await post(url, one)).status).toBe(202);
      expect(consumer.spans).toHaveLength(1);
    } finally {
      await r.shutdown();
    }
  });
});
