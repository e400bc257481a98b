/**
 * TLS on the receivers' listeners, with the real OTel SDK exporters as
 * clients: server TLS on OTLP gRPC, mutual TLS on OTLP HTTP (a client
 * certificate from the configured CA is required; none, or one from another
 * CA, is refused), Zipkin over HTTPS, and the config and start-up errors.
 * Certificates: test/testdata/tls (test-only, see its README).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { OTLPLogExporter as GrpcLogs } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPTraceExporter as ProtoTraces } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import type { ExportResult } from '@opentelemetry/core';
import type { Factory } from '../core/component.ts';
import { MetricsRegistry } from '../core/telemetry/metrics.ts';
import { grpcDefaults, httpDefaults } from '../receivers/otlp/config.ts';
import { OtlpReceiver } from '../receivers/otlp/otlp.ts';
import { otlpFactory } from '../receivers/otlp/factory.ts';
import { defaultZipkinConfig } from '../receivers/zipkin/config.ts';
import { ZipkinReceiver } from '../receivers/zipkin/receiver.ts';
import { configFor, errorsOf } from './component-config.ts';
import { RecordingConsumer, testHost, testLogger } from './helpers.ts';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'testdata', 'tls');
const file = (name: string) => path.join(dir, name);
const read = (name: string) => fs.readFileSync(file(name));
const serverTls = (mutual: boolean) => ({ cert_file: file('server.crt'), key_file: file('server.key'), client_ca_file: mutual ? file('ca.crt') : null, min_version: '1.2' as const });

const exportWith = (exp: { export(items: never, cb: (r: ExportResult) => void): void }, items: unknown) =>
  new Promise<ExportResult>((resolve) => exp.export(items as never, resolve));

function logs(): ReadableLogRecord[] {
  const mem = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({ resource: resourceFromAttributes({ 'service.name': 'checkout' }), processors: [new SimpleLogRecordProcessor({ exporter: mem })] });
  provider.getLogger('access').emit({ body: 'GET /admin/users 403', attributes: { 'http.response.status_code': 403 } });
  return mem.getFinishedLogRecords();
}

function spans(): ReadableSpan[] {
  const mem = new InMemorySpanExporter();
  const provider = new TracerProvider({ resource: resourceFromAttributes({ 'service.name': 'checkout' }), spanProcessors: [new SimpleSpanProcessor({ exporter: mem })] });
  provider.getTracer('t').startSpan('GET /admin/users').end();
  return mem.getFinishedSpans();
}

describe('TLS on the receivers', () => {
  const sink = new RecordingConsumer();
  let otlp: OtlpReceiver;
  let zipkin: ZipkinReceiver;

  beforeAll(async () => {
    otlp = new OtlpReceiver(
      {
        id: 'otlp',
        config: {
          protocols: {
            grpc: { ...grpcDefaults(), endpoint: '127.0.0.1:0', tls: serverTls(false) },
            http: { ...httpDefaults(), endpoint: '127.0.0.1:0', tls: serverTls(true) },
          },
        },
        logger: testLogger(),
        metrics: new MetricsRegistry(),
      },
      { logs: sink, traces: sink },
    );
    await otlp.start(testHost());
    zipkin = new ZipkinReceiver(
      { id: 'zipkin', config: { ...defaultZipkinConfig(), endpoint: '127.0.0.1:0', tls: serverTls(false) }, logger: testLogger(), metrics: new MetricsRegistry() },
      { traces: sink },
    );
    await zipkin.start(testHost());
  });

  afterAll(async () => {
    await otlp.shutdown();
    await zipkin.shutdown();
  });

  it('OTLP gRPC over TLS: the SDK exporter trusting our CA delivers; a plaintext client does not', async () => {
    sink.logPayloads = [];
    const url = `https://${otlp.grpc!.address}`;
    const secure = new GrpcLogs({ url, credentials: grpc.credentials.createSsl(read('ca.crt')) });
    const ok = await exportWith(secure, logs());
    await secure.shutdown();
    expect(ok.error).toBeUndefined();
    expect(sink.logRecords.map((r) => r.body)).toEqual(['GET /admin/users 403']);

    const plain = new GrpcLogs({ url: `http://${otlp.grpc!.address}`, credentials: grpc.credentials.createInsecure(), timeoutMillis: 3000 });
    const refused = await exportWith(plain, logs());
    await plain.shutdown();
    expect(refused.error).toBeDefined();
    expect(sink.logRecords).toHaveLength(1);
  });

  it('OTLP HTTP with client_ca_file: a client certificate from that CA is required', async () => {
    sink.tracePayloads = [];
    const url = `https://${otlp.http!.address}/v1/traces`;
    const send = async (agent: https.AgentOptions) => {
      const exp = new ProtoTraces({ url, httpAgentOptions: agent, timeoutMillis: 3000 });
      const r = await exportWith(exp, spans());
      await exp.shutdown();
      return r;
    };
    const ok = await send({ ca: read('ca.crt'), cert: read('client.crt'), key: read('client.key') });
    expect(ok.error).toBeUndefined();
    expect(sink.spans.map((s) => s.name)).toEqual(['GET /admin/users']);
    expect((await send({ ca: read('ca.crt') })).error).toBeDefined();
    expect((await send({ ca: read('ca.crt'), cert: read('stranger.crt'), key: read('stranger.key') })).error).toBeDefined();
    expect(sink.spans).toHaveLength(1);
  });

  it('Zipkin over HTTPS answers 202', async () => {
    const [host, port] = zipkin.address!.split(':');
    const body = JSON.stringify([{ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', id: '00f067aa0ba902b7', name: 'get', timestamp: 1_700_000_000_000_000, duration: 10, localEndpoint: { serviceName: 'tls-svc' } }]);
    const status = await new Promise<number>((resolve, reject) => {
      const req = https.request({ host, port: Number(port), path: '/api/v2/spans', method: 'POST', ca: read('ca.crt'), headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end(body);
    });
    expect(status).toBe(202);
  });

  it('names what is missing: tls without its files at config time, an unreadable file at start', async () => {
    expect(errorsOf(() => configFor(otlpFactory as Factory, { protocols: { grpc: { tls: { client_ca_file: 'ca.pem' } } } }))).toEqual([
      'protocols.grpc.tls.cert_file: required when tls is set',
      'protocols.grpc.tls.key_file: required when tls is set',
    ]);
    expect(errorsOf(() => configFor(otlpFactory as Factory, { protocols: { http: { tls: { cert_file: 'a', key_file: 'b', min_version: '1.1' } } } }))[0]).toMatch(
      /^protocols\.http\.tls\.min_version: /,
    );
    const r = new OtlpReceiver(
      { id: 'otlp/bad', config: { protocols: { grpc: null, http: { ...httpDefaults(), endpoint: '127.0.0.1:0', tls: { ...serverTls(false), cert_file: file('missing.crt') } } } }, logger: testLogger(), metrics: new MetricsRegistry() },
      { logs: sink, traces: sink },
    );
    await expect(r.start(testHost())).rejects.toThrow(/protocols\.http\.tls\.cert_file: cannot read .*missing\.crt/);
    await r.shutdown();
  });
});
