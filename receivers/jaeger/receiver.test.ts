/**
 * The jaeger receiver with real senders: jaeger-client's UDPSender (binary
 * thrift to the agent port) and HTTPSender (/api/traces), a gRPC client built
 * from Jaeger's own protos, hand-built compact agent packets, and bad input.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { createSocket } from 'node:dgram';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { NextConsumers, TracesConsumer } from '../../core/component.ts';
import { RefusedError } from '../../core/errors.ts';
import { getAttr, SpanKind, StatusCode, type TracesData } from '../../core/model.ts';
import { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { RecordingConsumer, testLogger, waitFor } from '../../test/helpers.ts';
import { binaryDefaults, compactDefaults, grpcDefaults, thriftHttpDefaults, type JaegerReceiverConfig } from './config.ts';
import { JaegerReceiver } from './receiver.ts';
import { DROPPED_PACKETS } from './udp.ts';
import { batchBody, emitBatchPacket, sampleBatch } from './testdata/thrift-encode.ts';

interface JSpanLike {
  setTag(k: string, v: unknown): JSpanLike;
  log(fields: Record<string, unknown>): void;
  finish(): void;
  context(): { toTraceId(): string; toSpanId(): string };
}
interface JTracer {
  startSpan(name: string, opts?: { childOf?: unknown; tags?: Record<string, unknown> }): JSpanLike;
  close(cb: () => void): void;
}
const jaegerClient = createRequire(import.meta.url)('jaeger-client') as {
  initTracer(config: object, options: object): JTracer;
};
const quiet = { logger: { info: () => {}, error: () => {} } };

function settings(config: JaegerReceiverConfig, metrics = new MetricsRegistry()) {
  return { id: 'jaeger', config, logger: testLogger(), metrics };
}

const local = <T extends { endpoint: string }>(c: T): T => ({ ...c, endpoint: '127.0.0.1:0' });
const allProtocols = (): JaegerReceiverConfig => ({
  protocols: {
    grpc: local(grpcDefaults()),
    thrift_http: local(thriftHttpDefaults()),
    thrift_compact: local(compactDefaults()),
    thrift_binary: local(binaryDefaults()),
  },
});
const port = (address: string) => Number(address.slice(address.lastIndexOf(':') + 1));

function sendUdp(address: string, packet: Buffer): Promise<void> {
  const sock = createSocket('udp4');
  return new Promise((resolve, reject) =>
    sock.send(packet, port(address), '127.0.0.1', (err) => {
      sock.close();
      if (err) reject(err);
      else resolve();
    }),
  );
}

type CollectorClient = grpc.Client & { PostSpans(req: object, cb: (err: grpc.ServiceError | null) => void): void };

/** A CollectorService client generated from the vendored jaeger api_v2 protos. */
function collectorClient(address: string): CollectorClient {
  const def = protoLoader.loadSync('collector.proto', { includeDirs: [path.join(import.meta.dirname, 'testdata')], keepCase: true });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    jaeger: { api_v2: { CollectorService: new (addr: string, creds: grpc.ChannelCredentials) => CollectorClient } };
  };
  return new pkg.jaeger.api_v2.CollectorService(address, grpc.credentials.createInsecure());
}

function postSpans(client: CollectorClient, batch: object): Promise<grpc.ServiceError | null> {
  return new Promise((resolve) => client.PostSpans({ batch }, (err) => resolve(err)));
}

const id = (h: string) => Buffer.from(h, 'hex');
function grpcBatch(service: string) {
  return {
    process: { service_name: service, tags: [{ key: 'region', v_str: 'eu' }] },
    spans: [
      {
        trace_id: id('0af7651916cd43dd8448eb211c80319c'),
        span_id: id('b7ad6b7169203331'),
        operation_name: 'publish',
        references: [{ trace_id: id('11111111111111111111111111111111'), span_id: id('2222222222222222'), ref_type: 'FOLLOWS_FROM' }],
        start_time: { seconds: 1_700_000_000, nanos: 0 },
        duration: { seconds: 1, nanos: 0 },
        tags: [
          { key: 'span.kind', v_str: 'producer' },
          { key: 'otel.status_code', v_str: 'ERROR' },
          { key: 'otel.status_description', v_str: 'broker down' },
          { key: 'attempt', v_type: 'INT64', v_int64: 2 },
        ],
      },
    ],
  };
}

const spansOf = (td: TracesData[]) => td.flatMap((d) => d.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)));
const resourceOf = (td: TracesData[], match: (s: { name: string; traceId: string }) => boolean) =>
  td.flatMap((d) => d.resourceSpans).find((rs) => rs.scopeSpans.some((ss) => ss.spans.some(match)))?.resource;

/** Sends one parent/child trace with jaeger-client and returns the ids it reported. */
async function sendWithJaegerClient(reporter: object, service: string) {
  const tracer = jaegerClient.initTracer({ serviceName: service, sampler: { type: 'const', param: 1 }, reporter }, quiet);
  const root = tracer.startSpan('GET /orders', { tags: { 'span.kind': 'server', 'http.status_code': 503, 'http.method': 'GET' } });
  root.log({ event: 'cache miss', key: 'orders:1' });
  const child = tracer.startSpan('SELECT orders', {
    childOf: root,
    tags: { 'span.kind': 'client', 'db.rows': 3, ratio: 0.5, retry: false, error: true, 'db.statement': 'SELECT 1' },
  });
  child.finish();
  root.finish();
  await new Promise<void>((resolve) => tracer.close(resolve));
  const pad = (id: string, n: number) => id.padStart(n, '0');
  return {
    traceId: pad(root.context().toTraceId(), 32),
    rootId: pad(root.context().toSpanId(), 16),
    childId: pad(child.context().toSpanId(), 16),
  };
}

describe('jaeger receiver', () => {
  const consumer = new RecordingConsumer();
  const metrics = new MetricsRegistry();
  const receiver = new JaegerReceiver(settings(allProtocols(), metrics), { traces: consumer });

  beforeAll(async () => {
    await receiver.start();
  });
  afterAll(async () => {
    await receiver.shutdown();
    await receiver.shutdown(); // idempotent
  });

  const checkJaegerClientTrace = (ids: { traceId: string; rootId: string; childId: string }, service: string) => {
    const spans = spansOf(consumer.traces).filter((s) => s.traceId === ids.traceId);
    expect(spans).toHaveLength(2);
    const root = spans.find((s) => s.spanId === ids.rootId)!;
    const child = spans.find((s) => s.spanId === ids.childId)!;
    // jaeger-client reports JS numbers as DOUBLE tags; like the Collector, a
    // double http.status_code does not set the status.
    expect(root).toMatchObject({ name: 'GET /orders', kind: SpanKind.SERVER, parentSpanId: '', status: { code: StatusCode.UNSET } });
    expect(getAttr(root.attributes, 'http.status_code')).toBe(503);
    expect(getAttr(root.attributes, 'http.method')).toBe('GET');
    expect(getAttr(root.attributes, 'span.kind')).toBeUndefined();
    expect(root.events).toHaveLength(1);
    expect(root.events[0]).toMatchObject({ name: 'cache miss', attributes: [{ key: 'key', value: 'orders:1' }] });
    expect(root.endTimeUnixNano).toBeGreaterThanOrEqual(root.startTimeUnixNano);
    expect(child).toMatchObject({
      name: 'SELECT orders',
      kind: SpanKind.CLIENT,
      parentSpanId: ids.rootId,
      links: [],
      status: { code: StatusCode.ERROR, message: '' },
    });
    expect(getAttr(child.attributes, 'error')).toBeUndefined(); // consumed into the status
    expect(getAttr(child.attributes, 'db.rows')).toBe(3);
    expect(getAttr(child.attributes, 'db.statement')).toBe('SELECT 1');
    expect(getAttr(child.attributes, 'ratio')).toBe(0.5);
    expect(getAttr(child.attributes, 'retry')).toBe(false);
    const res = resourceOf(consumer.traces, (s) => s.traceId === ids.traceId)!;
    expect(getAttr(res.attributes, 'service.name')).toBe(service);
    expect(getAttr(res.attributes, 'opencensus.exporterversion')).toMatch(/^Jaeger-Node-/);
    expect(getAttr(res.attributes, 'host.name')).toEqual(expect.any(String));
    expect(getAttr(res.attributes, 'hostname')).toBeUndefined();
  };

  it('receives jaeger-client spans over UDP (binary thrift, the agent port 6832 protocol)', async () => {
    const ids = await sendWithJaegerClient({ agentHost: '127.0.0.1', agentPort: port(receiver.binary!.address), flushIntervalMs: 50 }, 'udp-svc');
    await waitFor(() => spansOf(consumer.traces).filter((s) => s.traceId === ids.traceId).length === 2, 20_000, 'UDP spans');
    checkJaegerClientTrace(ids, 'udp-svc');
    expect(metrics.read('otelcol_receiver_accepted_spans', { receiver: 'jaeger', transport: 'udp_thrift_binary' })).toBeGreaterThanOrEqual(2);
  });

  it('receives jaeger-client spans over HTTP (/api/traces)', async () => {
    const endpoint = `http://${receiver.http!.address}/api/traces`;
    const ids = await sendWithJaegerClient({ collectorEndpoint: endpoint, flushIntervalMs: 50 }, 'http-svc');
    await waitFor(() => spansOf(consumer.traces).filter((s) => s.traceId === ids.traceId).length === 2, 20_000, 'HTTP spans');
    checkJaegerClientTrace(ids, 'http-svc');
  });

  it('receives compact-protocol agent packets on the 6831-style port', async () => {
    await sendUdp(receiver.compact!.address, emitBatchPacket('compact', sampleBatch(7)));
    const traceId = '4bf92f3577b34da6a3ce929d0e0e473d';
    await waitFor(() => spansOf(consumer.traces).some((s) => s.traceId === traceId), 20_000, 'compact spans');
    const s = spansOf(consumer.traces).find((x) => x.traceId === traceId && x.name === 'SELECT cart')!;
    expect(s).toMatchObject({ parentSpanId: '00f067aa0ba902b7', kind: SpanKind.CLIENT });
  });

  it('answers gRPC PostSpans from a client built from jaeger api_v2 protos', async () => {
    const client = collectorClient(receiver.grpc!.address);
    expect(await postSpans(client, grpcBatch('grpc-svc'))).toBeNull();
    client.close();
    const s = spansOf(consumer.traces).find((x) => x.traceId === '0af7651916cd43dd8448eb211c80319c')!;
    expect(s).toMatchObject({
      spanId: 'b7ad6b7169203331',
      kind: SpanKind.PRODUCER,
      status: { code: StatusCode.ERROR, message: 'broker down' },
      startTimeUnixNano: 1_700_000_000_000_000_000n,
      endTimeUnixNano: 1_700_000_001_000_000_000n,
    });
    expect(s.attributes).toEqual([{ key: 'attempt', value: 2n }]);
    expect(s.links).toEqual([
      expect.objectContaining({ traceId: '11111111111111111111111111111111', spanId: '2222222222222222', attributes: [{ key: 'opentracing.ref_type', value: 'follows_from' }] }),
    ]);
    expect(getAttr(resourceOf(consumer.traces, (s) => s.name === 'publish')!.attributes, 'region')).toBe('eu');
  });

  it('answers INVALID_ARGUMENT to bad protobuf and keeps serving', async () => {
    const client = new grpc.Client(receiver.grpc!.address, grpc.credentials.createInsecure());
    const call = (body: Buffer) =>
      new Promise<grpc.ServiceError | null>((resolve) =>
        client.makeUnaryRequest('/jaeger.api_v2.CollectorService/PostSpans', (b: Buffer) => b, (b: Buffer) => b, body, (err) => resolve(err)),
      );
    const err = await call(Buffer.from([0x0a, 0x10, 0x0a, 0x03]));
    expect(err?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err?.details).toMatch(/invalid protobuf/);
    expect(await call(Buffer.alloc(0))).toBeNull(); // an empty request is fine
    client.close();
  });

  it('answers HTTP errors with the right status and keeps serving', async () => {
    const url = `http://${receiver.http!.address}/api/traces`;
    const thrift = { 'content-type': 'application/x-thrift' };
    const good = batchBody(sampleBatch(9));
    expect((await fetch(url, { method: 'POST', headers: thrift, body: new Uint8Array(good.subarray(0, 40)) })).status).toBe(400);
    const bad = await fetch(url, { method: 'POST', headers: thrift, body: 'not thrift at all' });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/unable to process request body/);
    expect((await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(415);
    expect((await fetch(url)).status).toBe(405);
    expect((await fetch(`http://${receiver.http!.address}/api/other`, { method: 'POST', headers: thrift, body: new Uint8Array(good) })).status).toBe(404);
    const ok = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/vnd.apache.thrift.binary' }, body: new Uint8Array(good) });
    expect(ok.status).toBe(202);
    expect(spansOf(consumer.traces).some((s) => s.traceId === '4bf92f3577b34da6a3ce929d0e0e473f')).toBe(true);
  });

  it('drops and counts malformed and oversized UDP packets, then still receives', async () => {
    const addr = receiver.compact!.address;
    const labels = { receiver: 'jaeger', transport: 'udp_thrift_compact' };
    await sendUdp(addr, Buffer.from('definitely not thrift'));
    await sendUdp(addr, emitBatchPacket('compact', sampleBatch(11)).subarray(0, 50));
    await sendUdp(addr, Buffer.alloc(65_001, 1));
    await waitFor(() => metrics.read(DROPPED_PACKETS, { ...labels, reason: 'malformed' }) === 2, 20_000, 'malformed count');
    await waitFor(() => metrics.read(DROPPED_PACKETS, { ...labels, reason: 'oversized' }) === 1, 20_000, 'oversized count');
    await sendUdp(addr, emitBatchPacket('compact', sampleBatch(12)));
    await waitFor(() => spansOf(consumer.traces).some((s) => s.traceId === '4bf92f3577b34da6a3ce929d0e0e4742'), 20_000, 'good packet after bad ones');
  });
});

describe('jaeger receiver backpressure', () => {
  it('maps refusals to gRPC and HTTP status; a full UDP queue drops and counts', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let refuse: Error | undefined = new RefusedError('memory limit reached', 'memory_limit', 3);
    let held = 0;
    const traces: TracesConsumer = {
      async consumeTraces() {
        if (refuse) throw refuse;
        held++;
        await gate;
      },
    };
    const metrics = new MetricsRegistry();
    const cfg = allProtocols();
    cfg.protocols.thrift_compact = { ...cfg.protocols.thrift_compact!, workers: 1, queue_size: 1 };
    const next: NextConsumers = { traces };
    const r = new JaegerReceiver(settings(cfg, metrics), next);
    await r.start();
    try {
      const url = `http://${r.http!.address}/api/traces`;
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-thrift' }, body: new Uint8Array(batchBody(sampleBatch())) });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('3');
      refuse = new RefusedError('queue is full', 'queue_full');
      expect((await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-thrift' }, body: new Uint8Array(batchBody(sampleBatch())) })).status).toBe(429);

      refuse = new RefusedError('memory limit reached', 'memory_limit');
      const client = collectorClient(r.grpc!.address);
      const err = await postSpans(client, grpcBatch('refused'));
      expect(err?.code).toBe(grpc.status.UNAVAILABLE);
      refuse = new RefusedError('queue is full', 'queue_full');
      expect((await postSpans(client, grpcBatch('refused')))?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
      client.close();

      refuse = undefined;
      const addr = r.compact!.address;
      for (let i = 0; i < 4; i++) await sendUdp(addr, emitBatchPacket('compact', sampleBatch(i)));
      const labels = { receiver: 'jaeger', transport: 'udp_thrift_compact', reason: 'queue_full' };
      await waitFor(() => metrics.read(DROPPED_PACKETS, labels) >= 1, 20_000, 'queue_full drops');
      expect(held).toBe(1);
      expect(metrics.read('otelcol_receiver_refused_spans', { receiver: 'jaeger', transport: 'collector_http' })).toBe(4);
    } finally {
      release();
      await r.shutdown();
    }
  });
});
